"""The console on the real demo data (`app.services.demo.seed`), as `make run` shows it: every
page of every demo tenant renders, and each figure equals SQL computed in `tests/app/driver.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.domain import lift
from app.services import demo, operators
from components import format as fmt
from db import queries
from pages import roi_report, session
from tests.app.driver import (
    APP,
    PAGES,
    TIMEOUT,
    before_after_figures,
    dashboard_figures,
    holdout_counts,
    holdout_from_sql,
    lift_figures,
    lift_verdicts,
    metrics,
    open_page,
    pick_tenant,
    roi_figures,
    rows,
    signed_in,
    silent_lead_ids,
    texts,
    truncate,
    unhandled_replies,
    value,
)


@dataclass(frozen=True)
class Demo:
    tenants: dict[str, int]  # name -> id
    email: str  # the first tenant's demo operator


@pytest.fixture(scope="module")
def seeded(engine: Engine) -> Iterator[Demo]:
    truncate(engine)
    demo.seed(tenants=2, leads=400, seed=11)
    tenants = {r.name: r.id for r in rows(engine, "SELECT id, name FROM tenants ORDER BY id")}
    email = value(engine, "SELECT email FROM operators WHERE email LIKE 'demo@%' ORDER BY tenant_id, id LIMIT 1")
    yield Demo(tenants=tenants, email=email)
    truncate(engine)


def demo_operator(engine: Engine, tenant_id: int) -> str:
    return str(value(engine, "SELECT email FROM operators WHERE tenant_id = :t AND email LIKE 'demo@%'", t=tenant_id))


def test_the_sign_in_form_names_the_demo_account(seeded: Demo) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert any(seeded.email in c.value and operators.DEMO_PASSWORD in c.value for c in at.caption)
    assert signed_in(seeded.email, operators.DEMO_PASSWORD).title[0].value == "Recovery dashboard"


@pytest.mark.parametrize("tenant_index", [0, 1])
def test_every_page_of_every_demo_tenant_renders(seeded: Demo, engine: Engine, tenant_index: int) -> None:
    name, tenant_id = list(seeded.tenants.items())[tenant_index]
    at = signed_in(demo_operator(engine, tenant_id), operators.DEMO_PASSWORD)
    assert at.session_state[session.TENANT] == tenant_id, f"{name}: an operator starts in their own tenant"
    for path, title in PAGES.items():
        at = open_page(at, path)
        assert at.title[0].value == title


@pytest.mark.parametrize("tenant_index", [0, 1])
def test_dashboard_figures_equal_sql(seeded: Demo, engine: Engine, tenant_index: int) -> None:
    name, tenant_id = list(seeded.tenants.items())[tenant_index]
    at = pick_tenant(signed_in(seeded.email, operators.DEMO_PASSWORD), name)
    assert metrics(at) == dashboard_figures(engine, tenant_id)
    shown = at.dataframe[0].value["id"].tolist() if at.dataframe else []
    assert shown == silent_lead_ids(engine, tenant_id)


def test_leads_page_counts_and_filters(seeded: Demo, engine: Engine) -> None:
    tenant_id = next(iter(seeded.tenants.values()))
    at = open_page(signed_in(seeded.email, operators.DEMO_PASSWORD), "pages/lead_scores.py")
    total = value(engine, "SELECT count(*) FROM leads WHERE tenant_id = :t", t=tenant_id)
    assert any(c.value == f"Showing 1–50 of {fmt.count(total)} leads" for c in at.caption)
    at.multiselect(key="leads.states").set_value(["in_recovery", "replied"]).run()
    matching = value(
        engine,
        "SELECT count(*) FROM leads WHERE tenant_id = :t AND recovery_state IN ('in_recovery', 'replied')",
        t=tenant_id,
    )
    assert any(c.value.endswith(f"of {fmt.count(matching)} leads") for c in at.caption)
    assert set(at.dataframe[0].value["state"]) <= {"in_recovery", "replied"}


def test_campaigns_replies_and_roi_equal_sql(seeded: Demo, engine: Engine) -> None:
    tenant_id = next(iter(seeded.tenants.values()))
    at = signed_in(seeded.email, operators.DEMO_PASSWORD)

    at = open_page(at, "pages/campaign_list.py")
    by_status = dict(
        rows(engine, "SELECT status, count(*) FROM campaigns WHERE tenant_id = :t GROUP BY 1", t=tenant_id)
    )
    active = value(
        engine, "SELECT count(*) FROM enrollments WHERE tenant_id = :t AND status IN ('active', 'waiting')", t=tenant_id
    )
    assert metrics(at) == {
        "Running": fmt.count(by_status.get("running", 0)),
        "Paused": fmt.count(by_status.get("paused", 0)),
        "Drafts": fmt.count(by_status.get("draft", 0)),
        "Leads enrolled (active)": fmt.count(active),
    }

    at = open_page(at, "pages/reply_inbox.py")
    unhandled = value(
        engine, "SELECT count(*) FROM inbound_messages WHERE tenant_id = :t AND handled_at IS NULL", t=tenant_id
    )
    high = value(
        engine,
        "SELECT count(*) FROM inbound_messages WHERE tenant_id = :t AND handled_at IS NULL AND priority = 'high'",
        t=tenant_id,
    )
    assert metrics(at) == {"Unhandled": fmt.count(unhandled), "High priority": fmt.count(high)}
    bodies = {r.body for r in unhandled_replies(engine, tenant_id)}
    assert [t for t in texts(at) if t in bodies] == [r.body for r in unhandled_replies(engine, tenant_id)]

    at = open_page(at, "pages/roi_report.py")
    assert metrics(at) == {
        **roi_figures(engine, tenant_id, 30),
        **lift_figures(engine, tenant_id),
        **before_after_figures(engine, tenant_id, 30),
    }


@pytest.mark.parametrize("tenant_index", [0, 1])
def test_roi_lift_against_the_holdout_equals_sql(seeded: Demo, engine: Engine, tenant_index: int) -> None:
    name, tenant_id = list(seeded.tenants.items())[tenant_index]
    at = open_page(pick_tenant(signed_in(seeded.email, operators.DEMO_PASSWORD), name), "pages/roi_report.py")
    assert queries.holdout_comparison(engine, tenant_id) == holdout_from_sql(engine, tenant_id)
    counts = holdout_counts(engine, tenant_id)
    treated_n, treated_k, _, _ = counts[False]
    control_n, control_k, _, _ = counts.get(True, (0, 0, 0, 0))
    rate = lift.rate_lift(treated_n, treated_k, control_n, control_k)
    shown = metrics(at)
    assert shown["Treated recovery rate"] == fmt.percent(treated_k / treated_n)
    assert shown["Hold-out recovery rate"] == fmt.percent(control_k / control_n if control_n else None)
    assert shown.items() >= lift_figures(engine, tenant_id).items()
    assert rate.difference is not None
    assert shown["Rate lift"] == f"{rate.difference * 100:+.1f} pts".replace("-", "−")
    verdicts = [lift.verdict(x) for x in roi_report.holdout_lifts(holdout_from_sql(engine, tenant_id))]
    assert verdicts[0] == lift.verdict(rate)
    assert sorted(m.value for m in (*at.success, *at.info)) == sorted(
        map(roi_report.md, lift_verdicts(engine, tenant_id))
    )
    assert {m.value for m in at.success} == {roi_report.md(v) for v in verdicts if v.endswith(": significant.")}
