"""The console through Streamlit's AppTest: sign-in, tenant access, and every page's figures
checked against SQL written here, independently of `db/queries.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

import streamlit_app
from app.services import operators, sign_in_guard
from components import format as fmt
from pages import session
from tests.app import factories
from tests.app.driver import (
    APP,
    PAGES,
    ROOT,
    TIMEOUT,
    before_after_figures,
    dashboard_figures,
    holdout_counts,
    metrics,
    open_page,
    roi_figures,
    rows,
    signed_in,
    silent_lead_ids,
    submit_sign_in,
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


# --- sign-in and access --------------------------------------------------------------------


def test_sign_in_form_offers_the_demo_account(world: factories.World, demo_mode: None) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "Lead Recovery Engine"
    assert any("demo@acme.example" in c.value and "demo" in c.value for c in at.caption)
    assert not at.sidebar.selectbox


def test_wrong_password_is_refused(world: factories.World) -> None:
    at = submit_sign_in("demo@acme.example", "not-the-password")
    assert [e.value for e in at.error] == ["Wrong email or password."]
    assert session.IDENTITY not in at.session_state
    assert not at.metric


def test_unknown_email_is_refused(world: factories.World) -> None:
    at = submit_sign_in("nobody@acme.example", "demo")
    assert [e.value for e in at.error] == ["Wrong email or password."]
    assert session.IDENTITY not in at.session_state


def test_repeated_failures_lock_the_email_out(world: factories.World, redis_conn: redis.Redis) -> None:
    for _ in range(sign_in_guard.MAX_FAILURES):
        submit_sign_in("demo@acme.example", "not-the-password")
    at = submit_sign_in("demo@acme.example", "demo")
    assert [e.value for e in at.error] == ["Too many failed sign-ins for this email. Try again in 15 min."]
    assert session.IDENTITY not in at.session_state, "even the right password waits out the lock"
    assert signed_in("demo@birch.example", "demo").title[0].value == "Recovery dashboard", "other emails are free"
    sign_in_guard.clear(redis_conn, email="demo@acme.example")
    assert signed_in("demo@acme.example", "demo").title[0].value == "Recovery dashboard"


def test_sign_in_lands_on_the_dashboard_and_sign_out_returns(world: factories.World) -> None:
    at = signed_in("  Demo@Acme.example ", "demo")
    assert at.title[0].value == "Recovery dashboard"
    at.run()  # a rerun still goes through the router: the sidebar keeps the picker and the account box
    assert at.sidebar.selectbox(key=session.TENANT).value == world.tenants["acme"]
    assert at.session_state[session.IDENTITY].email == "demo@acme.example"
    at.button(key="shell.sign_out").click().run()
    assert not at.exception
    assert session.IDENTITY not in at.session_state
    assert at.title[0].value == "Lead Recovery Engine"


def test_the_sidebar_links_every_page_signed_in_and_none_signed_out(world: factories.World) -> None:
    """The console draws its own page links (Streamlit's sidebar navigation is switched off)."""
    assert not AppTest.from_file(APP, default_timeout=TIMEOUT).run().page_link
    at = signed_in("demo@acme.example", "demo")
    links = at.sidebar.page_link
    assert [link.value for link in links] == list(PAGES.values())
    assert [link.proto.page for link in links] == ["", "leads", "campaigns", "replies", "roi", "agents", "settings"]
    assert len(at.page_link) == len(PAGES), "no link outside the sidebar"


def test_a_rep_cannot_pick_another_tenant(world: factories.World, engine: Engine) -> None:
    at = signed_in("demo@acme.example", "demo")
    assert at.sidebar.selectbox(key=session.TENANT).options == ["Acme Dental"]


def test_a_session_pointing_at_another_tenant_is_put_back(world: factories.World, engine: Engine) -> None:
    """Even a session that names tenant B (it cannot come from the picker) shows the rep tenant A."""
    rep = operators.authenticate(email="demo@acme.example", password="demo")
    assert rep is not None
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[session.IDENTITY] = rep
    at.session_state[session.TENANT] = world.tenants["birch"]
    at.run()
    assert not at.exception
    assert at.session_state[session.TENANT] == world.tenants["acme"]
    acme_replied = value(
        engine,
        "SELECT count(*) FROM leads WHERE tenant_id = :t AND recovery_state = 'replied'",
        t=world.tenants["acme"],
    )
    birch_replied = value(
        engine,
        "SELECT count(*) FROM leads WHERE tenant_id = :t AND recovery_state = 'replied'",
        t=world.tenants["birch"],
    )
    assert acme_replied != birch_replied
    assert metrics(at)["Replied"] == fmt.count(acme_replied)


def test_an_admin_sees_and_picks_every_tenant(world: factories.World, engine: Engine) -> None:
    at = signed_in("boss@acme.example", factories.ADMIN_PASSWORD)
    picker = at.sidebar.selectbox(key=session.TENANT)
    assert picker.options == ["Acme Dental", "Birch Realty", "Empty Co"]
    picker.select_index(1).run()
    assert not at.exception
    assert at.session_state[session.TENANT] == world.tenants["birch"]
    birch_replied = value(
        engine,
        "SELECT count(*) FROM leads WHERE tenant_id = :t AND recovery_state = 'replied'",
        t=world.tenants["birch"],
    )
    assert metrics(at)["Replied"] == fmt.count(birch_replied)


def test_no_url_path_is_a_page_file_name() -> None:
    """Streamlit's legacy pages-folder mode would run such a file directly, skipping the router."""
    stems = {path.stem for path in (ROOT / "pages").glob("*.py")}
    assert not stems & {spec.url_path for spec in (*streamlit_app.PAGES, streamlit_app.SIGN_IN)}


@pytest.mark.parametrize("path", [*PAGES, "pages/sign_in.py"])
def test_a_page_opened_by_its_file_name_goes_through_sign_in(world: factories.World, path: str) -> None:
    """A fresh server's first request runs `/<file name>` in the legacy pages-folder mode, skipping
    the router (AppTest's first run before any navigation does the same)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).switch_page(path).run()
    assert not at.exception
    assert at.title[0].value == "Lead Recovery Engine"
    assert at.text_input(key="signin.email")
    assert not at.metric


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
    assert figures["Agents seen"] == "3"  # heartbeat, scanner, writer; not birch's runs
    assert figures["Failing now"] == "1"
    latest, recent = at.dataframe[0].value, at.dataframe[1].value
    assert latest["agent"].tolist() == ["heartbeat", "scanner", "writer"]
    assert set(recent["tenant_id"].dropna()) == {world.tenants["acme"]}
    assert len(recent) == 5
    assert recent["started_at"].is_monotonic_decreasing


def test_settings_page_shows_the_tenant_rules(world: factories.World) -> None:
    at = open_page(signed_in("demo@acme.example", "demo"), "pages/tenant_settings.py")
    shown = texts(at)
    assert "24 h → 48 h → 72 h" in shown
    assert "21:00–08:00 (America/New_York)" in shown
    assert "hello@acme.example" in shown
    assert "Acme Dental team" in shown
