"""The Replies page's "Best time to reach" heat-map on the seeded demo tenant equals SQL of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from app.domain import best_time
from app.services import demo, operators
from db import queries
from pages import reply_inbox
from tests.app.driver import open_page, rows, signed_in, truncate, value

# Every reply and click of the last 90 days; the zone a lead's time is read in does not change the total.
TOTAL_SQL = """
    SELECT (SELECT count(*) FROM inbound_messages
            WHERE tenant_id = :t AND received_at > now() - interval '90 days' AND received_at <= now())
         + (SELECT count(*) FROM message_events
            WHERE tenant_id = :t AND event_type = 'click'
              AND occurred_at > now() - interval '90 days' AND occurred_at <= now())
"""

# The busiest local hour cell, read independently: each event in its lead's zone.
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


@pytest.fixture(scope="module")
def tenant(engine: Engine) -> Iterator[tuple[int, str]]:
    truncate(engine)
    demo.seed(tenants=1, leads=300, seed=5)
    tenant_id = int(value(engine, "SELECT id FROM tenants ORDER BY id LIMIT 1"))
    email = str(value(engine, "SELECT email FROM operators WHERE tenant_id = :t AND email LIKE 'demo@%'", t=tenant_id))
    yield tenant_id, email
    truncate(engine)


def test_the_heatmap_total_and_best_window_equal_sql(tenant: tuple[int, str], engine: Engine) -> None:
    tenant_id, email = tenant
    total = int(value(engine, TOTAL_SQL, t=tenant_id))
    assert total > 0, "the demo seed has replies and clicks"
    at = open_page(signed_in(email, operators.DEMO_PASSWORD), "pages/reply_inbox.py")

    [chart] = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    z = figure["data"][0]["z"]
    assert (len(z), len(z[0])) == (7, 24)
    assert sum(map(sum, z)) == total

    cells = {(r.d, r.h): int(r.n) for r in rows(engine, CELLS_SQL, t=tenant_id)}
    assert {(d, h): n for d, row in enumerate(z) for h, n in enumerate(row) if n} == cells
    window = best_time.best_window({}, cells)
    assert window.source is best_time.Source.TENANT
    captions = [c.value for c in at.caption]
    sentence = captions.index(reply_inbox.window_sentence(window))
    # Right below it, what the sender does with it.
    assert captions[sentence + 1].startswith("Messages are scheduled into each lead's best window")
    assert "within 48 hours" in captions[sentence + 1]


def test_an_empty_tenant_has_no_best_window(engine: Engine, tenant: tuple[int, str]) -> None:
    frame = queries.engagement_heatmap(engine, tenant[0], days=0)
    assert frame.empty
    assert list(frame.columns) == ["weekday", "hour", "count"]
    assert best_time.best_window({}, {}) == best_time.NO_WINDOW
    assert "no best time" in reply_inbox.window_sentence(best_time.NO_WINDOW)
