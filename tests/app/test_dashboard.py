"""The Recovery dashboard's period changes, funnel, live feed and worklist filters, through AppTest,
each checked against SQL written here (not db/dashboard.py's); and its pure helpers.

The world is the console tests' (tests/app/factories.py) plus, for acme, history in the period
before (enrollments, replies, a lead gone quiet long ago) and engagement in the rollup; a
"Feed Co" tenant whose every row has a distinct time (so the feed's order is certain) and a
hostile lead name; and a "Quiet Co" tenant with leads and nothing else (the empty states).

The clock is pinned: the world is built around an instant, the page reads at that instant (the
console's `shell.clock`) and the expected figures are SQL at the same `:now`. Every test runs
twice, at the real time of the run and at 00:00:30 in New York (the tenants' zone), 30 seconds
into a local day, where the funnel's "today so far" from raw rows meets the rollup's whole days:
a dashboard that cut the day on another clock than its own would show it there.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from components import format as fmt
from components.metrics import signed
from db import dashboard
from db.dashboard import NO_OWNER, SilentFilter
from db.models import (
    AgentRun,
    Campaign,
    Conversion,
    Enrollment,
    InboundMessage,
    Lead,
    MessageEvent,
    OutboundMessage,
    Tenant,
)
from pages import recovery, session
from tests.app import factories
from tests.app.driver import pick_tenant, rows, signed_in, truncate, value

HOSTILE_NAME = "[Click](http://evil.example) **now**"
FEED_ITEMS = 26  # more than the feed shows, so the cut is tested too
NEW_YORK = ZoneInfo("America/New_York")  # every tenant's zone (factories.build)
# The instants the world is built around and the page is pinned to: the real time of the run
# (to the second), and 00:00:30 on a winter Tuesday in New York (05:00:30 UTC).
CLOCKS = {
    "real-time": None,
    "new-york-00:00:30": dt.datetime(2026, 1, 13, 0, 0, 30, tzinfo=NEW_YORK),
}


def _insert(conn: sa.Connection, model: Any, **values: Any) -> int:
    return int(conn.execute(sa.insert(model).values(**values).returning(model.id)).scalar_one())


def _history(conn: sa.Connection, world: factories.World) -> None:
    """Acme's period before: enrollments that started 40-50 days ago (some closed 10 days ago), replies
    40 days ago, one lead quiet for 50 days; and opens and clicks in its rollup."""
    t, now = world.tenants["acme"], world.now
    older = _insert(conn, Campaign, tenant_id=t, name="acme autumn ladder", status="completed")
    leads = [r[0] for r in conn.execute(sa.text("SELECT id FROM leads WHERE tenant_id = :t ORDER BY id"), {"t": t})]
    for n, lead in enumerate(leads[:12]):
        _insert(
            conn,
            Enrollment,
            tenant_id=t,
            campaign_id=older,
            lead_id=lead,
            status="completed" if n % 2 else "stopped",
            is_control=n % 6 == 5,
            enrolled_at=now - dt.timedelta(days=40 + n % 10, hours=2),
            completed_at=now - dt.timedelta(days=10) if n % 3 else now - dt.timedelta(days=35),
        )
        if n % 4 == 0:
            _insert(
                conn,
                InboundMessage,
                tenant_id=t,
                lead_id=lead,
                channel="sms",
                from_address=f"+1555000{n:04d}",
                body="Older reply",
                received_at=now - dt.timedelta(days=40),
            )
    _insert(
        conn,
        Lead,
        tenant_id=t,
        external_id="acme-long-quiet",
        first_name="Longquiet",
        last_name="Acme",
        last_activity_at=now - dt.timedelta(days=50),
        recovery_state="silent",
    )
    _today(conn, world, leads[0])
    conn.execute(
        sa.text(
            "UPDATE metrics_daily SET opened = sent / 3, clicked = sent / 5 WHERE tenant_id = :t AND channel = 'email'"
        ),
        {"t": t},
    )
    conn.execute(
        sa.text("UPDATE metrics_daily SET clicked = sent / 4 WHERE tenant_id = :t AND channel = 'sms'"), {"t": t}
    )


def _today(conn: sa.Connection, world: factories.World, lead: int) -> None:
    """Acme's raw rows of today, which the funnel adds to the rollup's whole days: one email sent,
    delivered, opened twice, clicked and replied to, and a conversion credited to it. All of them
    within the last 25 seconds, so inside the tenant's local day even at 00:00:30."""
    t, now = world.tenants["acme"], world.now
    message = _insert(
        conn,
        OutboundMessage,
        tenant_id=t,
        campaign_id=world.campaigns["acme"],
        lead_id=lead,
        channel="email",
        to_address="today@acme-mail.example",
        body="Hello again",
        status="delivered",
        dedupe_key="acme-today",
        created_at=now - dt.timedelta(seconds=25),
        sent_at=now - dt.timedelta(seconds=24),
    )
    for n, kind in enumerate(("delivered", "open", "open", "click", "reply")):
        _insert(
            conn,
            MessageEvent,
            tenant_id=t,
            message_id=message,
            lead_id=lead,
            channel="email",
            event_type=kind,
            occurred_at=now - dt.timedelta(seconds=20 - n),
            natural_key=f"acme-today-{n}",
        )
    _insert(
        conn,
        Conversion,
        tenant_id=t,
        lead_id=lead,
        campaign_id=world.campaigns["acme"],
        message_id=message,
        channel="email",
        value=Decimal(700),
        method="ai",
        converted_at=now - dt.timedelta(seconds=10),
    )


def _feed_tenant(conn: sa.Connection, world: factories.World) -> None:
    """Feed Co: one hostile-named lead and one plain one, and `FEED_ITEMS` rows of every source,
    each at its own minute."""
    now = world.now
    t = _insert(conn, Tenant, slug="feed", name="Feed Co")
    world.tenants["feed"] = t
    campaign = _insert(conn, Campaign, tenant_id=t, name="feed ladder", status="running")
    hostile = _insert(
        conn, Lead, tenant_id=t, external_id="f-1", first_name=HOSTILE_NAME, last_name="", last_activity_at=now
    )
    plain = _insert(
        conn, Lead, tenant_id=t, external_id="f-2", first_name="Pat", last_name="Plain", last_activity_at=now
    )
    enrollment = _insert(
        conn,
        Enrollment,
        tenant_id=t,
        campaign_id=campaign,
        lead_id=hostile,
        rung=1,
        enrolled_at=now - dt.timedelta(minutes=90),
    )
    for k in range(FEED_ITEMS):
        at = now - dt.timedelta(minutes=3 * k + 1, seconds=20)
        lead = hostile if k % 2 else plain
        source = k % 5
        if source == 0:
            message = _insert(
                conn,
                OutboundMessage,
                tenant_id=t,
                campaign_id=campaign,
                enrollment_id=enrollment,
                lead_id=lead,
                channel="email",
                to_address="x@feed.example",
                body="Hello",
                status="sent",
                dedupe_key=f"feed-{k}",
                created_at=at,
            )
        elif source == 1:
            _insert(
                conn,
                MessageEvent,
                tenant_id=t,
                message_id=message,
                lead_id=lead,
                channel="email",
                event_type=("delivered", "open", "click")[k % 3],
                occurred_at=at,
                natural_key=f"feed-event-{k}",
            )
        elif source == 2:
            _insert(
                conn,
                InboundMessage,
                tenant_id=t,
                lead_id=lead,
                channel="email",
                from_address="x@feed.example",
                body="Yes",
                intent="interested",
                received_at=at,
            )
        elif source == 3:
            _insert(conn, Conversion, tenant_id=t, lead_id=lead, value=Decimal(1500), method="ai", converted_at=at)
        else:
            _insert(
                conn,
                AgentRun,
                tenant_id=t,
                job_id=f"feed-job-{k}",
                agent="sender",
                status="succeeded",
                started_at=at,
                finished_at=at,
            )


def _quiet_tenant(conn: sa.Connection, world: factories.World) -> None:
    """Quiet Co: three leads active an hour ago, nothing else."""
    t = _insert(conn, Tenant, slug="quiet", name="Quiet Co")
    world.tenants["quiet"] = t
    for n in range(3):
        _insert(
            conn,
            Lead,
            tenant_id=t,
            external_id=f"q-{n}",
            first_name=f"Quiet{n}",
            last_activity_at=world.now - dt.timedelta(hours=1),
        )


def _on_the_clock(conn: sa.Connection, world: factories.World) -> None:
    """The factory leaves its enrollments' `enrolled_at` to the database's clock, which is the
    real time, after (or, for a pinned day in the past, long after) the world's instant: put
    them an hour before it, so what counts in the period does not depend on when the test runs."""
    conn.execute(
        sa.text("UPDATE enrollments SET enrolled_at = :at WHERE enrolled_at > :now"),
        {"at": world.now - dt.timedelta(hours=1), "now": world.now},
    )


@pytest.fixture(scope="module", params=list(CLOCKS), ids=list(CLOCKS))
def world(engine: Engine, request: pytest.FixtureRequest) -> Iterator[factories.World]:
    truncate(engine)
    built = factories.build(engine, now=CLOCKS[request.param])
    with engine.begin() as conn:
        _on_the_clock(conn, built)
        _history(conn, built)
        _feed_tenant(conn, built)
        _quiet_tenant(conn, built)
    yield built
    truncate(engine)


def open_dashboard(world: factories.World, email: str, password: str, tenant: str | None = None) -> AppTest:
    """Signed in, with the console's clock pinned to the world's instant, on the dashboard (of `tenant`)."""
    at = signed_in(email, password)
    at.session_state[session.CLOCK] = world.now
    at = pick_tenant(at, tenant) if tenant else at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def cards(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


# --- the figures, in SQL of their own ---------------------------------------------------------


def expected_cards(engine: Engine, t: int, days: int, now: dt.datetime) -> dict[str, tuple[str, str]]:
    d = days
    quiet = value(
        engine,
        """SELECT count(*) FROM leads WHERE tenant_id = :t AND recovery_state IN ('active', 'silent')
             AND last_activity_at < :now - interval '24 hours'
             AND last_activity_at >= :now - interval '24 hours' - :d * interval '1 day'""",
        t=t,
        now=now,
        d=d,
    )
    entered, left, entered_before = rows(
        engine,
        """SELECT sum((enrolled_at > :now - :d * interval '1 day')::int),
                  sum((completed_at > :now - :d * interval '1 day')::int),
                  sum((enrolled_at BETWEEN :now - 2 * :d * interval '1 day' AND :now - :d * interval '1 day')::int)
           FROM enrollments WHERE tenant_id = :t AND is_control = false""",
        t=t,
        now=now,
        d=d,
    )[0]

    def distinct_leads(table: str, column: str, extra: str = "") -> tuple[int, int]:
        found = rows(
            engine,
            f"""SELECT count(DISTINCT lead_id) FILTER (WHERE {column} > :now - :d * interval '1 day'),
                       count(DISTINCT lead_id) FILTER (WHERE {column} <= :now - :d * interval '1 day')
                FROM {table} WHERE tenant_id = :t {extra}
                  AND {column} > :now - 2 * :d * interval '1 day' AND {column} <= :now""",
            t=t,
            now=now,
            d=d,
        )[0]
        return int(found[0]), int(found[1])

    replied, replied_before = distinct_leads("inbound_messages", "received_at")
    recovered, recovered_before = distinct_leads("conversions", "converted_at", "AND method <> 'organic'")
    revenue, revenue_before = rows(
        engine,
        """SELECT coalesce(sum(value) FILTER (WHERE converted_at > :now - :d * interval '1 day'), 0),
                  coalesce(sum(value) FILTER (WHERE converted_at <= :now - :d * interval '1 day'), 0)
           FROM conversions WHERE tenant_id = :t AND method <> 'organic'
             AND converted_at > :now - 2 * :d * interval '1 day' AND converted_at <= :now""",
        t=t,
        now=now,
        d=d,
    )[0]
    by_state = dict(rows(engine, "SELECT recovery_state, count(*) FROM leads WHERE tenant_id = :t GROUP BY 1", t=t))
    silent_now = value(
        engine,
        """SELECT count(*) FROM leads WHERE tenant_id = :t AND recovery_state IN ('active', 'silent')
             AND last_activity_at < :now - interval '24 hours'""",
        t=t,
        now=now,
    )
    worked = sum(by_state.get(s, 0) for s in ("in_recovery", "replied", "recovered", "lost"))
    moved = int(entered or 0) - int(left or 0)
    gained = revenue - revenue_before
    rate = recovered / entered if entered else None
    rate_before = recovered_before / entered_before if entered_before else None
    pts = None if rate is None or rate_before is None else (rate - rate_before) * 100
    return {
        "Silent now": (fmt.count(silent_now), f"+{fmt.count(quiet)} new in {d} d"),
        "In recovery": (
            fmt.count(by_state.get("in_recovery", 0)),
            f"{signed(fmt.count(abs(moved)), moved)} in {d} d",
        ),
        "Replied": (
            fmt.count(by_state.get("replied", 0)),
            f"{signed(fmt.count(abs(replied - replied_before)), replied - replied_before)} vs prior",
        ),
        f"Recovered {d}d": (
            fmt.count(recovered),
            f"{signed(fmt.count(abs(recovered - recovered_before)), recovered - recovered_before)} vs prior",
        ),
        f"Revenue {d}d": (
            fmt.money_compact(revenue),
            f"{signed(fmt.money_compact(abs(gained)), float(gained))} vs prior",
        ),
        "Recovery rate": (
            fmt.percent(by_state.get("recovered", 0) / worked if worked else None),
            "" if pts is None else f"{pts:+.1f} pts",
        ),
    }


def expected_funnel(engine: Engine, t: int, days: int, now: dt.datetime) -> list[int]:
    entered = value(
        engine,
        """SELECT count(*) FROM enrollments WHERE tenant_id = :t AND NOT is_control
             AND enrolled_at > :now - :d * interval '1 day' AND enrolled_at <= :now""",
        t=t,
        now=now,
        d=days,
    )
    local = """WITH z AS (SELECT timezone AS tz, (:now AT TIME ZONE timezone)::date AS today
                          FROM tenants WHERE id = :t),
                    m AS (SELECT today, today::timestamp AT TIME ZONE tz AS midnight FROM z)"""
    rolled = rows(
        engine,
        local
        + """
           SELECT coalesce(sum(sent), 0), coalesce(sum(delivered), 0),
                  coalesce(sum(CASE WHEN clicked > opened THEN clicked ELSE opened END), 0),
                  coalesce(sum(replied), 0), coalesce(sum(conversions), 0)
           FROM metrics_daily, m WHERE tenant_id = :t AND day > m.today - :d AND day < m.today""",
        t=t,
        now=now,
        d=days,
    )[0]
    today = rows(
        engine,
        local
        + """, g AS (
               SELECT count(*) FILTER (WHERE e.event_type = 'delivered') AS delivered,
                      count(*) FILTER (WHERE e.event_type = 'open') AS opens,
                      count(*) FILTER (WHERE e.event_type = 'click') AS clicks,
                      count(*) FILTER (WHERE e.event_type = 'reply') AS replies
               FROM message_events e JOIN outbound_messages o ON o.id = e.message_id, m
               WHERE e.tenant_id = :t AND e.occurred_at >= m.midnight AND e.occurred_at <= :now
               GROUP BY o.campaign_id, e.channel
           )
           SELECT (SELECT count(*) FROM outbound_messages, m
                   WHERE tenant_id = :t AND sent_at >= m.midnight AND sent_at <= :now),
                  (SELECT coalesce(sum(delivered), 0) FROM g),
                  (SELECT coalesce(sum(CASE WHEN clicks > opens THEN clicks ELSE opens END), 0) FROM g),
                  (SELECT coalesce(sum(replies), 0) FROM g),
                  (SELECT count(*) FROM conversions, m
                   WHERE tenant_id = :t AND channel IS NOT NULL
                     AND converted_at >= m.midnight AND converted_at <= :now)""",
        t=t,
        now=now,
    )[0]
    assert tuple(today) == (1, 1, 2, 1, 1), "today's raw rows of the fixture"
    sent, delivered, engaged, replies, conversions = (int(a) + int(b) for a, b in zip(rolled, today, strict=True))
    return [int(x) for x in (entered, sent, delivered, engaged, replies, conversions)]


def funnel_shown(at: AppTest) -> dict[str, int]:
    [chart] = [c for c in at.get("plotly_chart") if '"funnel"' in c.proto.spec]
    trace = json.loads(chart.proto.spec)["data"][0]
    return dict(zip(trace["y"], trace["x"], strict=True))


def expected_feed(engine: Engine, t: int, now: dt.datetime, limit: int = 20) -> list[tuple[dt.datetime, str]]:
    """Every row of every source, newest first, cut at `limit`: when, and the lead's name ('' for agent runs)."""
    found = rows(
        engine,
        """SELECT x.at, coalesce(trim(l.first_name || ' ' || l.last_name), '') AS lead FROM (
               SELECT occurred_at AS at, lead_id FROM message_events WHERE tenant_id = :t
               UNION ALL SELECT created_at, lead_id FROM outbound_messages WHERE tenant_id = :t
               UNION ALL SELECT received_at, lead_id FROM inbound_messages WHERE tenant_id = :t
               UNION ALL SELECT converted_at, lead_id FROM conversions WHERE tenant_id = :t
               UNION ALL SELECT enrolled_at, lead_id FROM enrollments WHERE tenant_id = :t
               UNION ALL SELECT started_at, NULL FROM agent_runs WHERE tenant_id = :t
           ) x LEFT JOIN leads l ON l.id = x.lead_id
           WHERE x.at <= :now
           ORDER BY x.at DESC LIMIT :n""",
        t=t,
        now=now,
        n=limit,
    )
    return [(r.at, r.lead) for r in found]


def expected_silent_ids(engine: Engine, t: int, now: dt.datetime, where: str, order: str, **params: Any) -> list[int]:
    found = rows(
        engine,
        f"""SELECT id FROM leads WHERE tenant_id = :t AND recovery_state IN ('active', 'silent')
              AND last_activity_at < :now - interval '24 hours' AND {where}
            ORDER BY {order} LIMIT 25""",
        t=t,
        now=now,
        **params,
    )
    return [r.id for r in found]


# --- the page ---------------------------------------------------------------------------------


def test_each_card_shows_its_change_over_the_period(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    expected = expected_cards(engine, t, 30, world.now)
    assert expected["Silent now"][1] != "+" + expected["Silent now"][0] + " new in 30 d", "one lead quiet 50 d"
    assert expected["In recovery"][1].startswith("+"), "more enrollments started than closed"
    assert expected["Replied"][1] != "±0 vs prior"
    at = open_dashboard(world, "demo@acme.example", "demo")
    assert cards(at) == expected
    tooltips = {m.label: m.help for m in at.metric}
    assert all("Change" in text for text in tooltips.values()), "every tooltip says what its change compares"


def test_a_shorter_period_relabels_and_recounts(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    at = open_dashboard(world, "demo@acme.example", "demo")
    at.button_group(key=recovery.PERIOD_KEY).set_value(7).run()
    assert not at.exception, [e.value for e in at.exception]
    expected = expected_cards(engine, t, 7, world.now)
    assert "Recovered 7d" in expected
    assert cards(at) == expected
    assert list(funnel_shown(at).values()) == expected_funnel(engine, t, 7, world.now)


def test_funnel_counts_equal_sql(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    counts = expected_funnel(engine, t, 30, world.now)
    assert all(counts), counts
    at = open_dashboard(world, "demo@acme.example", "demo")
    assert funnel_shown(at) == dict(
        zip(
            ["Entered recovery (leads)", "Sent (messages)", "Delivered", "Engaged", "Replied", "Recovered"],
            counts,
            strict=True,
        )
    )
    assert any("Entered recovery" in c.value and "Engaged" in c.value for c in at.caption), "stages defined"


def test_feed_shows_the_newest_twenty_newest_first_as_plain_text(world: factories.World, engine: Engine) -> None:
    at = open_dashboard(world, "boss@acme.example", factories.ADMIN_PASSWORD, "Feed Co")
    [feed] = at.table
    shown = feed.value
    expected = expected_feed(engine, world.tenants["feed"], world.now)
    leads = [lead for _, lead in expected]
    assert len(shown) == 20
    assert shown["Lead"].tolist() == [fmt.plain(name) for name in leads]
    assert HOSTILE_NAME in leads
    assert "](" not in "".join(shown["Lead"]), "a name never becomes a Markdown link"
    # Item k of Feed Co happened 3k + 1 min 20 s before the pinned clock (k = 0 … 25; the
    # enrollment, 90 min before, is older than the newest twenty): k = 0 reads "1 min ago",
    # k = 19 "58 min ago".
    assert shown["When"].tolist() == [f"{3 * k + 1} min ago" for k in range(20)]
    whats = set(shown["What"])
    assert {"Email written \\(sent\\)", "Email reply \\(interested\\)", "Agent run\\: sender succeeded"} <= whats
    assert "Recovered\\, \\$1\\,500" in whats


def test_filters_narrow_the_worklist_in_sql(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    owner = world.operators["demo@acme.example"]
    at = open_dashboard(world, "demo@acme.example", "demo")
    at.selectbox(key="dashboard.filter.sort").set_value("value")
    at.multiselect(key="dashboard.filter.rungs").set_value([0, 1, 2])
    at.multiselect(key="dashboard.filter.owners").set_value([owner])
    at.slider(key="dashboard.filter.score").set_range(10, 90)
    at.number_input(key="dashboard.filter.min").set_value(600.0).run()
    assert not at.exception, [e.value for e in at.exception]
    expected = expected_silent_ids(
        engine,
        t,
        world.now,
        "silence_level IN (0, 1, 2) AND owner_id = :o AND intent_score BETWEEN 10 AND 90 AND deal_value >= 600",
        "deal_value DESC, intent_score DESC, id",
        o=owner,
    )
    assert expected
    assert at.dataframe[0].value["id"].tolist() == expected


def test_unowned_and_a_value_ceiling(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    at = open_dashboard(world, "demo@acme.example", "demo")
    at.selectbox(key="dashboard.filter.sort").set_value("longest_silent")
    at.multiselect(key="dashboard.filter.owners").set_value([NO_OWNER])
    at.number_input(key="dashboard.filter.max").set_value(2500.0).run()
    expected = expected_silent_ids(
        engine, t, world.now, "owner_id IS NULL AND deal_value <= 2500", "last_activity_at, id"
    )
    assert expected
    assert at.dataframe[0].value["id"].tolist() == expected


@pytest.mark.parametrize(
    ("sort", "order"),
    [("longest_silent", "last_activity_at, id"), ("recently_silent", "last_activity_at DESC, id DESC")],
)
def test_silence_sorts_cut_at_the_limit_in_order(world: factories.World, engine: Engine, sort: str, order: str) -> None:
    """The silence sorts merge one ordered range per state: ties and the cut must still match one sort."""
    t = world.tenants["acme"]
    expected = expected_silent_ids(engine, t, world.now, "true", order)[:5]
    assert len(expected) == 5
    shown = dashboard.silent_leads(engine, t, SilentFilter(sort=sort), limit=5, now=world.now)
    assert shown["id"].tolist() == expected


def test_filters_matching_nothing_say_to_widen_them(world: factories.World) -> None:
    at = open_dashboard(world, "demo@acme.example", "demo")
    at.number_input(key="dashboard.filter.min").set_value(10_000_000.0).run()
    assert not at.dataframe
    assert any("No silent lead matches these filters" in i.value for i in at.info)


def test_a_tenant_without_activity_explains_each_part(world: factories.World) -> None:
    at = open_dashboard(world, "boss@acme.example", factories.ADMIN_PASSWORD, "Quiet Co")
    infos = " ".join(i.value for i in at.info)
    assert "No silent leads right now" in infos
    assert "No recovery activity in the last 30 days" in infos
    assert "Nothing has happened yet" in infos
    assert not at.table
    assert not [c for c in at.get("plotly_chart") if '"funnel"' in c.proto.spec]
    shown = cards(at)
    assert shown["Recovered 30d"] == ("0", "±0 vs prior")
    assert shown["Recovery rate"] == ("—", "")


# --- pure helpers -------------------------------------------------------------------------------


def test_plain_escapes_every_markdown_sign() -> None:
    assert fmt.plain("[a](http://x.y) *b* <i>") == "\\[a\\]\\(http\\:\\/\\/x\\.y\\) \\*b\\* \\<i\\>"
    assert fmt.plain("Pat Plain") == "Pat Plain"
    assert fmt.plain(None) == ""
    assert fmt.plain(float("nan")) == ""


def test_feed_lines_name_what_happened() -> None:
    assert recovery.feed_line("open", "email", "") == "Email opened"
    assert recovery.feed_line("click", "sms", "") == "SMS clicked"
    assert recovery.feed_line("message", "sms", "pending") == "SMS written (pending)"
    assert recovery.feed_line("inbound", "email", "not_now") == "Email reply (not now)"
    assert recovery.feed_line("conversion", None, "1500.00") == "Recovered, $1,500"
    assert recovery.feed_line("held_out", None, "rung 2") == "Held out as control (rung 2)"
    assert recovery.feed_line("mystery", None, "") == "Message mystery"


def test_signed_puts_the_sign_the_arrow_follows() -> None:
    assert signed("12", 12) == "+12"
    assert signed("3", -3) == "-3"
    assert signed("-3", -3) == "-3"
    assert signed("0", 0) == "±0"


def test_points_need_both_rates() -> None:
    assert recovery.points(0.25, 0.2) == pytest.approx(5.0)
    assert recovery.points(None, 0.2) is None
    assert recovery.points(0.1, None) is None


def test_table_key_changes_with_the_filter_only() -> None:
    assert recovery.table_key(3) == "dashboard.silent.3"
    narrowed = recovery.table_key(3, SilentFilter(rungs=(1,)))
    assert narrowed.startswith("dashboard.silent.3.")
    assert narrowed != recovery.table_key(3)
    assert narrowed == recovery.table_key(3, SilentFilter(rungs=(1,)))
    assert recovery.table_key(3, SilentFilter(sort="value")) != narrowed


def test_a_filter_narrows_only_when_a_bound_is_set() -> None:
    assert not SilentFilter(sort="value").narrows
    assert SilentFilter(owners=(NO_OWNER,)).narrows
    assert SilentFilter(max_score=99).narrows
    assert SilentFilter(min_value=0.0).narrows


def test_feed_frame_reads_relative_times() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    feed = pd.DataFrame(
        {
            "at": [now - dt.timedelta(seconds=10), now - dt.timedelta(hours=3)],
            "kind": ["delivered", "agent"],
            "channel": ["email", None],
            "lead_id": [1, None],
            "lead": ["Ann Lee", None],
            "detail": ["", "scanner failed"],
        }
    )
    shown = recovery.feed_frame(feed, now)
    assert shown.to_dict("list") == {
        "When": ["just now", "3 h ago"],
        "What": ["Email delivered", "Agent run\\: scanner failed"],
        "Lead": ["Ann Lee", ""],
    }


def test_local_today_starts_at_the_tenants_midnight() -> None:
    now = dt.datetime(2026, 3, 8, 3, 30, tzinfo=dt.UTC)  # 22:30 on the 7th in New York
    today, midnight = dashboard.local_today("America/New_York", now)
    assert today == dt.date(2026, 3, 7)
    assert midnight == dt.datetime(2026, 3, 7, 5, 0, tzinfo=dt.UTC)
    assert dashboard.local_today("Not/AZone", now) == (dt.date(2026, 3, 8), dt.datetime(2026, 3, 8, tzinfo=dt.UTC))
    assert dashboard.local_today(None, now)[0] == dt.date(2026, 3, 8)
