"""The console through Streamlit's AppTest: every page renders, and its figures are checked
against SQL written here, independently of `db/queries.py` (sign-in and tenant access:
`test_sign_in_and_access.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from components import format as fmt
from pages import session
from tests.app import factories
from tests.app.driver import (
    PAGES,
    before_after_figures,
    dashboard_figures,
    holdout_counts,
    metrics,
    open_page,
    roi_figures,
    rows,
    signed_in,
    silent_lead_ids,
    texts,
    truncate,
    unhandled_replies,
    value,
)


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[factories.World]:
    """One world for the module: the pages only read, so the tests share it."""
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


def reply_bodies(at: AppTest) -> list[str]:
    """The reply texts of the inbox: not the card headers (`who · channel · when`), not the suggestions."""
    return [v for v in texts(at) if "·" not in v and v != factories.SUGGESTED_REPLY]


# --- every page ----------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "title"), PAGES.items())
def test_every_page_renders(world: factories.World, path: str, title: str) -> None:
    at = open_page(signed_in("demo@acme.example", "demo"), path)
    assert at.title[0].value == title
    assert [m.value for m in at.markdown][:3] == [
        ":orange-badge[AI: offline writer]",
        ":orange-badge[Email: sandbox]",
        ":orange-badge[SMS: sandbox]",
    ]


# What each page of a tenant without a single row says: the bold first line of each empty
# state (the line under it is the advice), or the verdict of an empty hold-out comparison.
EMPTY_STATES = {
    "pages/recovery.py": ["**No leads yet**"],
    "pages/lead_scores.py": ["**No lead matches**", "**Nobody to call yet**"],
    "pages/campaign_list.py": ["**No campaigns yet**"],
    "pages/reply_inbox.py": ["**Inbox zero**"],
    "pages/roi_report.py": [
        "Too few leads to tell: the hold-out has 0 and the treated group 0; at least 30 in each are needed.",
        "**No start date yet**",
        "**Nothing rolled up yet**",
        "**Nothing to attribute**",
    ],
    # The tenant has no run of its own, but the tenant-less heartbeat runs show (below).
    "pages/agent_activity.py": [
        "**No worker is running**",
        "**No failed job**",
        "**No cron scheduler registered**",
        "**No message yet**",
        "**No webhook delivery in the last 24 hours**",
    ],
    # A tenant's rules always exist (shown below); the admin sees the tenant has no API key yet.
    "pages/tenant_settings.py": ["**No API key yet**"],
}


def empty_tenant_page(world: factories.World, path: str) -> AppTest:
    at = signed_in("boss@acme.example", factories.ADMIN_PASSWORD)
    at.sidebar.selectbox(key=session.TENANT).select_index(2).run()
    assert at.session_state[session.TENANT] == world.tenants["empty"]
    at = open_page(at, path)
    assert at.title[0].value == PAGES[path]
    return at


@pytest.mark.parametrize("path", PAGES)
def test_every_page_explains_an_empty_tenant(world: factories.World, path: str) -> None:
    at = empty_tenant_page(world, path)
    assert [i.value.split("  \n")[0] for i in at.info] == EMPTY_STATES[path]


def test_agents_of_an_empty_tenant_are_the_tenantless_ones(world: factories.World, engine: Engine) -> None:
    at = empty_tenant_page(world, "pages/agent_activity.py")
    seen = value(
        engine,
        "SELECT count(DISTINCT agent) FROM agent_runs WHERE tenant_id IS NULL OR tenant_id = :t",
        t=world.tenants["empty"],
    )
    assert seen == 1  # the heartbeat
    assert {k: v for k, v in metrics(at).items() if k in ("Agents seen", "Failing now")} == {
        "Agents seen": fmt.count(seen),
        "Failing now": "0",
    }
    assert at.dataframe[0].value["agent"].tolist() == ["heartbeat"]


def test_settings_of_an_empty_tenant_are_its_own(world: factories.World, engine: Engine) -> None:
    at = empty_tenant_page(world, "pages/tenant_settings.py")
    tenant = rows(
        engine, "SELECT slug, timezone, sender_name, sender_email FROM tenants WHERE id = :t", t=world.tenants["empty"]
    )[0]
    assert (tenant.sender_name, tenant.sender_email) == ("Empty Co team", "hello@empty.example")
    assert {tenant.sender_name, tenant.sender_email, "24 h → 48 h → 72 h"} <= set(texts(at))
    assert f"Tenant `{tenant.slug}`, time zone {tenant.timezone}." in [c.value for c in at.caption]


# --- figures -------------------------------------------------------------------------------


def test_dashboard_figures_equal_sql(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    expected = dashboard_figures(engine, t)
    assert expected["Silent now"] != "0"
    assert expected["Recovered 30d"] != "0"
    at = signed_in("demo@acme.example", "demo")
    assert metrics(at) == expected
    table = at.dataframe[0].value
    assert table["id"].tolist() == silent_lead_ids(engine, t)
    assert all(table["days_silent"] > 1)


def test_leads_page_filters_and_counts(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    at = open_page(signed_in("demo@acme.example", "demo"), "pages/lead_scores.py")
    total = value(engine, "SELECT count(*) FROM leads WHERE tenant_id = :t", t=t)
    assert any(c.value == f"Showing 1–50 of {total} leads" for c in at.caption)
    assert len(at.dataframe[0].value) == 50

    at.multiselect(key="leads.states").set_value(["recovered"]).run()
    assert not at.exception
    expected = [
        r.id
        for r in rows(
            engine,
            """SELECT id FROM leads WHERE tenant_id = :t AND recovery_state = 'recovered'
               ORDER BY intent_score DESC, deal_value DESC, id""",
            t=t,
        )
    ]
    assert at.dataframe[0].value["id"].tolist() == expected
    assert any(c.value == f"Showing 1–{len(expected)} of {len(expected)} leads" for c in at.caption)

    at.text_input(key="leads.search").input("Lead13 ").run()
    assert at.dataframe[0].value["name"].tolist() == ["Lead13 Acme"]


def test_leads_page_pages_through_results(world: factories.World) -> None:
    at = open_page(signed_in("demo@acme.example", "demo"), "pages/lead_scores.py")
    first_page = at.dataframe[0].value["id"].tolist()
    at.number_input(key="leads.page").set_value(2).run()
    assert not at.exception
    second_page = at.dataframe[0].value["id"].tolist()
    assert len(second_page) == 64 - 50
    assert not set(first_page) & set(second_page)


def test_campaigns_page_counts_enrollments(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    at = open_page(signed_in("demo@acme.example", "demo"), "pages/campaign_list.py")
    active = value(
        engine, "SELECT count(*) FROM enrollments WHERE tenant_id = :t AND status IN ('active', 'waiting')", t=t
    )
    assert metrics(at) == {"Running": "1", "Paused": "1", "Drafts": "1", "Leads enrolled (active)": fmt.count(active)}
    table = at.dataframe[0].value
    names = table["name"].tolist()
    assert names[0] == "acme win-back ladder", "running campaigns come first"
    assert set(names) == {"acme win-back ladder", "acme spring reactivation", "acme old promo"}
    enrolled = dict(
        rows(
            engine,
            "SELECT c.name, count(e.id) FROM campaigns c LEFT JOIN enrollments e ON e.campaign_id = c.id "
            "WHERE c.tenant_id = :t GROUP BY c.name",
            t=t,
        )
    )
    assert dict(zip(table["name"], table["enrolled"], strict=True)) == enrolled


def test_replies_inbox_puts_urgent_unhandled_first(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    unhandled = unhandled_replies(engine, t)
    at = open_page(signed_in("demo@acme.example", "demo"), "pages/reply_inbox.py")
    high = sum(1 for r in unhandled if r.priority == "high")
    assert metrics(at) == {"Unhandled": fmt.count(len(unhandled)), "High priority": fmt.count(high)}
    bodies = reply_bodies(at)
    assert bodies == [r.body for r in unhandled]
    badge_rows = [m.value for m in at.markdown if "-badge[" in m.value][3:]  # after the mode strip
    assert badge_rows[0] == ":red-badge[high] :blue-badge[question] :green-badge[positive]"
    assert ":gray-badge[untriaged]" in " ".join(badge_rows)
    assert factories.HOSTILE_BODY in bodies, "a reply is shown as the lead wrote it, as plain text"

    at.toggle(key="replies.show_handled").set_value(True).run()
    everything = value(engine, "SELECT count(*) FROM inbound_messages WHERE tenant_id = :t", t=t)
    assert len(reply_bodies(at)) == everything


# acme's enrolments are made with the world, after its conversions: 24 treated leads (in
# recovery, replied, recovered: 3 states × 64 / 8 leads) and 8 held out, none converted since.
ACME_LIFT = {
    "Treated recovery rate": "0.0%",  # 0 / 24
    "Hold-out recovery rate": "0.0%",  # 0 / 8
    "Rate lift": "+0.0 pts",  # 0.0 % − 0.0 %
    "Revenue per lead lift": "+$0.00",  # $0 / 24 − $0 / 8
}


def test_roi_totals_equal_the_rollups(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    at = open_page(signed_in("demo@acme.example", "demo"), "pages/roi_report.py")
    for days in (30, 7):
        if days != 30:
            at.segmented_control(key="roi.days").set_value(days).run()
            assert not at.exception
        assert metrics(at) == {
            **roi_figures(engine, t, days),
            **ACME_LIFT,
            **before_after_figures(engine, t, days),
        }
    assert holdout_counts(engine, t) == {False: (24, 0, 0), True: (8, 0, 0)}
    # Both groups under 30 leads: one sentence for both lifts.
    assert at.info[0].value == (
        "Too few leads to tell: the hold-out has 8 and the treated group 24; at least 30 in each are needed."
    )
    channels = at.dataframe[1].value  # after the daily figures
    assert sorted(channels["channel"]) == ["email", "sms"]
    assert fmt.count(int(channels["sent"].sum())) == metrics(at)["Messages sent"]


@pytest.mark.parametrize(
    ("after", "shown", "delta"),
    [
        (dt.timedelta(seconds=90), "1 min ago", ""),  # 90 s // 60 = 1 min
        (dt.timedelta(minutes=11), "11 min ago", "stale"),  # older than the 10 minutes allowed
    ],
)
def test_agents_page_shows_this_tenant_and_the_heartbeat(
    world: factories.World, engine: Engine, after: dt.timedelta, shown: str, delta: str
) -> None:
    beat = value(engine, "SELECT max(started_at) FROM agent_runs WHERE agent = 'heartbeat'")
    at = signed_in("demo@acme.example", "demo")
    at.session_state[session.CLOCK] = beat + after
    at = open_page(at, "pages/agent_activity.py")
    heartbeat = next(m for m in at.metric if m.label == "Cron heartbeat")
    assert (heartbeat.value, heartbeat.delta) == (shown, delta)
    assert f"Newest heartbeat job (enqueued by cron, run by a worker): {shown}." in [c.value for c in at.caption]
    figures = metrics(at)
    # scanner, writer: not birch's runs, and a rep sees no tenant-less run (only its heartbeat's time)
    assert figures["Agents seen"] == "2"
    assert figures["Failing now"] == "1"
    latest, recent = at.dataframe[0].value, at.dataframe[1].value
    assert latest["agent"].tolist() == ["scanner", "writer"]
    assert set(recent["tenant_id"]) == {world.tenants["acme"]}
    assert len(recent) == 3
    assert recent["started_at"].is_monotonic_decreasing


def test_settings_page_shows_the_tenant_rules(world: factories.World) -> None:
    at = open_page(signed_in("demo@acme.example", "demo"), "pages/tenant_settings.py")
    shown = texts(at)
    assert "24 h → 48 h → 72 h" in shown
    assert "21:00–08:00 (America/New_York)" in shown
    assert "hello@acme.example" in shown
    assert "Acme Dental team" in shown
