"""The dashboard's figures in SQL of their own (not db/dashboard.py's), at the world's pinned instant."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from components import format as fmt
from components.metrics import signed
from tests.app.driver import rows, value


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
