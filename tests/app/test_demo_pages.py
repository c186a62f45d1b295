"""The console on the real demo data (`app.services.demo.seed`), as `make run` shows it: every
page of every demo tenant renders, and each figure equals SQL computed in `tests/app/driver.py`;
the hold-out lift is worked out here from counts read with that SQL, by the formulas below.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services import demo, operators
from components import format as fmt
from db import holdout as holdout_reads
from pages import session
from tests.app.driver import (
    APP,
    PAGES,
    TIMEOUT,
    before_after_figures,
    dashboard_figures,
    holdout_counts,
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
    anchor: dt.datetime  # the demo's "now": the console's clock is pinned to it for the lift


@pytest.fixture(scope="module")
def seeded(engine: Engine) -> Iterator[Demo]:
    """3,000 leads over two tenants: enough that each holds out at least 30 enrolled leads (40-odd),
    so the lift is shown with its interval (asserted in the lift test)."""
    truncate(engine)
    anchor = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    demo.seed(tenants=2, leads=3000, seed=11, anchor=anchor)
    tenants = {r.name: r.id for r in rows(engine, "SELECT id, name FROM tenants ORDER BY id")}
    email = value(engine, "SELECT email FROM operators WHERE email LIKE 'demo@%' ORDER BY tenant_id, id LIMIT 1")
    yield Demo(tenants=tenants, email=email, anchor=anchor)
    truncate(engine)


def demo_operator(engine: Engine, tenant_id: int) -> str:
    return str(value(engine, "SELECT email FROM operators WHERE tenant_id = :t AND email LIKE 'demo@%'", t=tenant_id))


def test_the_sign_in_form_names_the_demo_account(seeded: Demo, demo_mode: None) -> None:
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

    at.session_state[session.CLOCK] = seeded.anchor
    at = open_page(at, "pages/roi_report.py")
    shown = metrics(at)
    expected = {
        **roi_figures(engine, tenant_id, 30),
        **before_after_figures(engine, tenant_id, 30),
        **{label: figure for label, (figure, _) in HoldoutLift.of(engine, tenant_id, seeded.anchor).cards().items()},
    }
    assert shown == expected


# --- the hold-out lift, worked out here --------------------------------------------------------
#
# Rates: p = k / n per group; the lift d = p_treated − p_hold-out, shown in points (× 100, one
# decimal). Its 95 % interval is Newcombe's hybrid score interval (Newcombe 1998, method 10),
# built from each group's Wilson score interval, whose bounds are the roots in p̂ of
#     (p̂ − p)² = z² · p̂ (1 − p̂) / n,  i.e.  p̂ = (2np + z² ± z √(z² + 4np(1 − p))) / (2 (n + z²));
# then low = d − √((p₁ − l₁)² + (u₂ − p₂)²) and high = d + √((u₁ − p₁)² + (p₂ − l₂)²).
# With fewer than 30 leads in a group there is no interval ("too few to tell"). Revenue per lead
# is each group's conversion value over its leads; only its difference is worked out here.
Z_975 = 1.959963984540054  # the standard normal's 97.5th percentile (a table gives 1.95996)
MIN_GROUP = 30


def wilson_bounds(k: int, n: int) -> tuple[float, float]:
    p = k / n
    root = Z_975 * math.sqrt(Z_975**2 + 4 * n * p * (1 - p))
    return (2 * n * p + Z_975**2 - root) / (2 * (n + Z_975**2)), (2 * n * p + Z_975**2 + root) / (2 * (n + Z_975**2))


def points(x: float) -> str:
    return f"{x * 100:+.1f} pts".replace("-", "−")


@dataclass(frozen=True)
class HoldoutLift:
    treated: tuple[int, int, float]  # leads, converted, revenue
    control: tuple[int, int, float]

    @classmethod
    def of(cls, engine: Engine, tenant_id: int, at: dt.datetime) -> HoldoutLift:
        counts = holdout_counts(engine, tenant_id, at)
        n1, k1, r1 = counts.get(False, (0, 0, 0))
        n2, k2, r2 = counts.get(True, (0, 0, 0))
        return cls((n1, k1, float(r1)), (n2, k2, float(r2)))

    @property
    def enough(self) -> bool:
        return min(self.treated[0], self.control[0]) >= MIN_GROUP

    def rates(self) -> tuple[float, float]:
        (n1, k1, _), (n2, k2, _) = self.treated, self.control
        return k1 / n1, k2 / n2

    def interval(self) -> tuple[float, float]:
        (n1, k1, _), (n2, k2, _) = self.treated, self.control
        p1, p2 = self.rates()
        (l1, u1), (l2, u2) = wilson_bounds(k1, n1), wilson_bounds(k2, n2)
        d = p1 - p2
        return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)

    def revenue_lift(self) -> float:
        (n1, _, r1), (n2, _, r2) = self.treated, self.control
        return r1 / n1 - r2 / n2

    def cards(self) -> dict[str, tuple[str, str | None]]:
        """The four cards: (figure, the interval under it); None where it is not worked out here."""
        p1, p2 = self.rates()
        interval = "95 % CI {} to {}".format(*map(points, self.interval())) if self.enough else ""
        revenue = self.revenue_lift()
        return {
            "Treated recovery rate": (f"{p1 * 100:.1f}%", ""),
            "Hold-out recovery rate": (f"{p2 * 100:.1f}%", ""),
            "Rate lift": (points(p1 - p2), interval),
            "Revenue per lead lift": (f"{'−' if revenue < 0 else '+'}${abs(revenue):,.2f}", None),
        }

    def rate_verdict(self) -> tuple[str, bool]:
        """The rate's sentence as the page shows it, and whether it is significant."""
        if not self.enough:
            return self.too_few(), False
        p1, p2 = self.rates()
        d, (low, high) = p1 - p2, self.interval()
        bound = [f"{x * 100:.1f}".replace("-", "−") for x in (low, high)]
        sentence = (
            f"Recovery {'lifted' if d >= 0 else 'lowered'} the rate by {abs(d) * 100:.1f} points "
            f"(95 % CI {bound[0]} to {bound[1]})"
        )
        if low > 0 or high < 0:
            return sentence + ": significant.", True
        return sentence + ": not significant: the control group is too small or the difference could be chance.", False

    def revenue_verdict_start(self) -> str:
        if not self.enough:
            return self.too_few()
        d = self.revenue_lift()
        return f"Recovery {'lifted' if d >= 0 else 'lowered'} revenue per lead by \\${abs(d):,.2f} (95 % CI "

    def too_few(self) -> str:
        return (
            f"Too few leads to tell: the hold-out has {self.control[0]:,} and the treated group "
            f"{self.treated[0]:,}; at least {MIN_GROUP} in each are needed."
        )


def test_the_lift_formulas_on_a_hand_worked_case() -> None:
    """The formulas above against the case worked by hand in tests/app/test_roi.py: 20 of 50
    treated, 4 of 40 held out, $100 a conversion."""
    worked = HoldoutLift((50, 20, 2000.0), (40, 4, 400.0))
    assert worked.cards() == {
        "Treated recovery rate": ("40.0%", ""),
        "Hold-out recovery rate": ("10.0%", ""),
        "Rate lift": ("+30.0 pts", "95 % CI +12.0 pts to +45.1 pts"),
        "Revenue per lead lift": ("+$30.00", None),
    }
    assert worked.rate_verdict() == (
        "Recovery lifted the rate by 30.0 points (95 % CI 12.0 to 45.1): significant.",
        True,
    )


@pytest.mark.parametrize("tenant_index", [0, 1])
def test_roi_lift_against_the_holdout_equals_sql(seeded: Demo, engine: Engine, tenant_index: int) -> None:
    name, tenant_id = list(seeded.tenants.items())[tenant_index]
    at = pick_tenant(signed_in(seeded.email, operators.DEMO_PASSWORD), name)
    at.session_state[session.CLOCK] = seeded.anchor
    at = open_page(at, "pages/roi_report.py")
    found = HoldoutLift.of(engine, tenant_id, seeded.anchor)
    assert found.enough, "the demo holds out at least 30 enrolled leads per tenant"
    read = holdout_reads.holdout_comparison(engine, tenant_id, now=seeded.anchor)
    assert (read.treated.leads, read.treated.recovered, float(read.treated.revenue)) == found.treated
    assert (read.control.leads, read.control.recovered, float(read.control.revenue)) == found.control
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    for label, (figure, interval) in found.cards().items():
        assert shown[label][0] == figure, label
        if interval is not None:
            assert shown[label][1] == interval, label
    sentence, significant = found.rate_verdict()
    successes, infos = [m.value for m in at.success], [m.value for m in at.info]
    assert sentence in (successes if significant else infos)
    verdicts = [v for v in (*successes, *infos) if v.startswith(("Recovery ", "Too few leads"))]
    assert len(verdicts) == 2, verdicts
    revenue = found.revenue_verdict_start()
    assert sum(v.startswith(revenue) for v in verdicts) == 1, (revenue, verdicts)
