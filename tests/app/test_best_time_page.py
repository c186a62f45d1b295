"""The Replies page's "Best time to reach": its heat-map and best window on the seeded demo tenant
equal SQL of the test's own; on a tenant whose every reply and click the test places, the
window is the one worked out by hand; and a tenant with none shows the empty state.

Nothing of `app/domain/best_time.py` or the page computes an expected value here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services import demo, operators
from db.models import InboundMessage, Lead, MessageEvent, OutboundMessage, Tenant
from tests.app.driver import open_page, pick_tenant, rows, signed_in, truncate, value

WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")

# Every reply and click of the last 90 days; the zone a lead's time is read in does not change the total.
TOTAL_SQL = """
    SELECT (SELECT count(*) FROM inbound_messages
            WHERE tenant_id = :t AND received_at > now() - interval '90 days' AND received_at <= now())
         + (SELECT count(*) FROM message_events
            WHERE tenant_id = :t AND event_type = 'click'
              AND occurred_at > now() - interval '90 days' AND occurred_at <= now())
"""

# Each event in its lead's zone, counted by (weekday 0 = Monday, hour).
CELLS_SQL = """
    SELECT extract(isodow FROM e.at AT TIME ZONE l.timezone)::int - 1 AS d,
           extract(hour FROM e.at AT TIME ZONE l.timezone)::int AS h, count(*) AS n
    FROM (SELECT lead_id, received_at AS at FROM inbound_messages WHERE tenant_id = :t
            AND received_at > now() - interval '90 days' AND received_at <= now()
          UNION ALL
          SELECT lead_id, occurred_at FROM message_events WHERE tenant_id = :t AND event_type = 'click'
            AND occurred_at > now() - interval '90 days' AND occurred_at <= now()) e
    JOIN leads l ON l.id = e.lead_id
    GROUP BY 1, 2
"""

# The best window, in SQL: of every two hours within one day, the span with the most events
# (the earliest in the week on a tie), an hour at either edge without events trimmed off.
BEST_WINDOW_SQL = f"""
    WITH cells AS ({CELLS_SQL}),
    grid AS (
        SELECT d, h, coalesce(c.n, 0) AS n
        FROM generate_series(0, 6) AS d CROSS JOIN generate_series(0, 23) AS h LEFT JOIN cells c USING (d, h)
    ),
    spans AS (
        SELECT d, h AS start, n AS first, lead(n) OVER (PARTITION BY d ORDER BY h) AS second FROM grid
    )
    SELECT d, CASE WHEN first = 0 THEN start + 1 ELSE start END AS start_hour,
           CASE WHEN second = 0 THEN start + 1 ELSE start + 2 END AS end_hour, first + second AS events
    FROM spans WHERE second IS NOT NULL
    ORDER BY first + second DESC, d, start
    LIMIT 1
"""


def heatmap(at: AppTest) -> list[list[int]]:
    [chart] = at.get("plotly_chart")
    z = json.loads(chart.proto.spec)["data"][0]["z"]
    assert (len(z), len(z[0])) == (7, 24)
    return [[int(n) for n in row] for row in z]


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


@pytest.fixture(scope="module")
def tenant(engine: Engine) -> Iterator[tuple[int, str]]:
    truncate(engine)
    demo.seed(tenants=1, leads=300, seed=5)
    tenant_id = int(value(engine, "SELECT id FROM tenants ORDER BY id LIMIT 1"))
    email = str(value(engine, "SELECT email FROM operators WHERE tenant_id = :t AND email LIKE 'demo@%'", t=tenant_id))
    assert value(engine, "SELECT role FROM operators WHERE email = :e", e=email) == "superuser", "sees other tenants"
    yield tenant_id, email
    truncate(engine)


def replies_page(email: str, tenant_name: str | None = None) -> AppTest:
    at = signed_in(email, operators.DEMO_PASSWORD)
    if tenant_name is not None:
        at = pick_tenant(at, tenant_name)
    return open_page(at, "pages/reply_inbox.py")


def test_the_heatmap_total_and_best_window_equal_sql(tenant: tuple[int, str], engine: Engine) -> None:
    tenant_id, email = tenant
    total = int(value(engine, TOTAL_SQL, t=tenant_id))
    assert total > 0, "the demo seed has replies and clicks"
    at = replies_page(email)

    z = heatmap(at)
    assert sum(map(sum, z)) == total
    cells = {(r.d, r.h): int(r.n) for r in rows(engine, CELLS_SQL, t=tenant_id)}
    assert {(d, h): n for d, row in enumerate(z) for h, n in enumerate(row) if n} == cells

    [best] = rows(engine, BEST_WINDOW_SQL, t=tenant_id)
    sentence = (
        f"Best time to reach this tenant's leads: {WEEKDAYS[best.d]}, {best.start_hour:02d}:00–"
        f"{best.end_hour:02d}:00 in each lead's local time ({best.events:,} replies and clicks in that "
        "window over the last 90 days)."
    )
    shown = captions(at)
    assert sentence in shown
    # Right below it, what the sender does with it.
    below = shown[shown.index(sentence) + 1]
    assert below.startswith("Messages are scheduled into each lead's best window")
    assert "within 48 hours" in below


def _insert(conn: sa.Connection, model: Any, **values: Any) -> int:
    return int(conn.execute(sa.insert(model).values(**values).returning(model.id)).scalar_one())


def _a_tuesday_two_weeks_ago() -> dt.date:
    """A Tuesday 13 to 19 days before today in Los Angeles: well inside the 90 days, in the past
    with the Friday after it, whatever the day and hour the test runs."""
    today = dt.datetime.now(LOS_ANGELES).date()
    return today - dt.timedelta(days=today.weekday() - 1 + 14)


def _los_angeles(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LOS_ANGELES)


def test_the_best_window_of_hand_placed_replies_is_read_in_the_leads_zone(
    tenant: tuple[int, str], engine: Engine
) -> None:
    """Clockwork Co (New York) has one lead in Los Angeles, who replied on Tuesday at 10:05, 10:20
    and 10:40, on Monday at 09:10, on Thursday at 15:20 and on Friday at 14:10, 14:30 and 14:50,
    and clicked on Thursday at 16:30, all Los Angeles time.

    By hand, two-hour spans: Tuesday 09-11 holds 0 + 3 = 3, the most of any (Friday 13-15 and
    14-16 hold 3 too, Thursday 15-17 holds 2, Monday 08-10 or 09-11 holds 1), and is the earliest
    of those in the week; its empty first hour is trimmed: Tuesdays 10:00-11:00, 3 events. In
    New York's time it would read 13:00.
    """
    _, email = tenant
    tuesday = _a_tuesday_two_weeks_ago()
    with engine.begin() as conn:
        clockwork = _insert(conn, Tenant, slug="clockwork", name="Clockwork Co", timezone="America/New_York")
        lead = _insert(
            conn,
            Lead,
            tenant_id=clockwork,
            external_id="c-1",
            first_name="Lou",
            email="lou@clockwork.example",
            timezone="America/Los_Angeles",
            last_activity_at=_los_angeles(tuesday + dt.timedelta(days=2), 16, 30),
        )
        replies = [(tuesday, 10, 5), (tuesday, 10, 20), (tuesday, 10, 40), (tuesday - dt.timedelta(days=1), 9, 10)]
        replies.append((tuesday + dt.timedelta(days=2), 15, 20))
        replies += [(tuesday + dt.timedelta(days=3), 14, minute) for minute in (10, 30, 50)]
        for n, (day, hour, minute) in enumerate(replies):
            _insert(
                conn,
                InboundMessage,
                tenant_id=clockwork,
                lead_id=lead,
                channel="email",
                from_address="lou@clockwork.example",
                body=f"Reply {n}",
                received_at=_los_angeles(day, hour, minute),
            )
        message = _insert(
            conn,
            OutboundMessage,
            tenant_id=clockwork,
            lead_id=lead,
            channel="email",
            to_address="lou@clockwork.example",
            body="Hello",
            status="delivered",
            dedupe_key="clockwork-1",
            sent_at=_los_angeles(tuesday, 8, 0),
        )
        _insert(
            conn,
            MessageEvent,
            tenant_id=clockwork,
            message_id=message,
            lead_id=lead,
            channel="email",
            event_type="click",
            occurred_at=_los_angeles(tuesday + dt.timedelta(days=2), 16, 30),
            natural_key="clockwork-click",
        )

    at = replies_page(email, "Clockwork Co")

    z = heatmap(at)
    assert {(d, h): n for d, row in enumerate(z) for h, n in enumerate(row) if n} == {
        (1, 10): 3,  # Tuesday 10:05, 10:20, 10:40
        (0, 9): 1,  # Monday 09:10
        (3, 15): 1,  # Thursday 15:20
        (3, 16): 1,  # Thursday 16:30, the click
        (4, 14): 3,  # Friday 14:10, 14:30, 14:50
    }
    assert (
        "Best time to reach this tenant's leads: Tuesdays, 10:00–11:00 in each lead's local time "
        "(3 replies and clicks in that window over the last 90 days)."
    ) in captions(at)


def test_an_empty_tenant_shows_no_best_window(tenant: tuple[int, str], engine: Engine) -> None:
    _, email = tenant
    with engine.begin() as conn:
        _insert(conn, Tenant, slug="empty", name="Empty Co", timezone="America/New_York")

    at = replies_page(email, "Empty Co")

    assert heatmap(at) == [[0] * 24 for _ in range(7)]
    shown = captions(at)
    assert "No replies or clicks in the last 90 days yet: no best time to suggest." in shown
    assert not any(c.startswith("Best time to reach") for c in shown)
    assert any("Inbox zero" in i.value for i in at.info)
