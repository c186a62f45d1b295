"""The Agents page's deliverability section: the last 24 hours of webhook deliveries, on the
console's pinned clock, as the applier recorded them (figures computed here in SQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from components import format as fmt
from pages import session
from tests.app.driver import acme_with_operator, metrics, open_page, rows, signed_in, truncate

EMAIL, PASSWORD = "ops@acme.example", "deliverability-pass"
CLOCK = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
COUNTS = ("event_count", "applied_count", "duplicate_count", "unmatched_count", "ignored_count")

# (provider, endpoint, result, received hours before CLOCK, event/applied/duplicate/unmatched/ignored counts)
DELIVERIES: list[tuple[str, str, str, float, tuple[int, int, int, int, int]]] = [
    ("sendgrid", "sendgrid/events", "applied", 2, (1000, 900, 80, 15, 5)),
    ("sendgrid", "sendgrid/events", "applied", 23.5, (10, 10, 0, 0, 0)),
    ("sendgrid", "sendgrid/events", "received", 0.1, (0, 0, 0, 0, 0)),
    ("sendgrid", "sendgrid/events", "rejected", 1, (0, 0, 0, 0, 0)),
    ("sendgrid", "sendgrid/events", "rejected", 3, (0, 0, 0, 0, 0)),
    ("sendgrid", "sendgrid/events", "applied", 25, (500, 500, 0, 0, 0)),  # over 24 h ago
    ("sendgrid", "sendgrid/events", "applied", -1, (7, 7, 0, 0, 0)),  # after the pinned clock
    ("twilio", "twilio/status", "applied", 3, (1, 1, 0, 0, 0)),
]


@pytest.fixture
def acme(engine: Engine) -> Iterator[int]:
    truncate(engine)
    with engine.begin() as conn:
        tenant = acme_with_operator(conn, email=EMAIL, password=PASSWORD, role="manager")
        conn.execute(
            sa.text(
                f"""INSERT INTO webhook_deliveries (provider, endpoint, body, signature_valid, result, received_at,
                                                    {", ".join(COUNTS)})
                    VALUES (:provider, :endpoint, '[]', :result <> 'rejected', :result,
                            :clock - make_interval(secs => :hours * 3600), :c0, :c1, :c2, :c3, :c4)"""
            ),
            [
                {"provider": p, "endpoint": e, "result": r, "hours": h, "clock": CLOCK}
                | {f"c{i}": n for i, n in enumerate(counts)}
                for p, e, r, h, counts in DELIVERIES
            ],
        )
    yield tenant
    truncate(engine)


def expected(engine: Engine) -> list[sa.Row[Any]]:
    """Per endpoint, the deliveries received in (CLOCK - 24 h, CLOCK]."""
    return rows(
        engine,
        """SELECT provider, endpoint,
                  sum(CASE WHEN result IN ('received', 'applied') THEN 1 ELSE 0 END) AS deliveries,
                  sum(CASE WHEN result = 'received' THEN 1 ELSE 0 END) AS waiting,
                  sum(CASE WHEN result = 'rejected' THEN 1 ELSE 0 END) AS rejected,
                  sum(event_count) AS events, sum(applied_count) AS applied, sum(duplicate_count) AS duplicates,
                  sum(unmatched_count) AS unmatched, sum(ignored_count) AS ignored
           FROM webhook_deliveries
           WHERE received_at BETWEEN :clock - interval '24 hours' + interval '1 microsecond' AND :clock
           GROUP BY provider, endpoint ORDER BY provider, endpoint""",
        clock=CLOCK,
    )


def page_at(clock: dt.datetime) -> AppTest:
    at = signed_in(EMAIL, PASSWORD)
    at.session_state[session.CLOCK] = clock
    return open_page(at, "pages/agent_activity.py")


def test_the_section_shows_the_last_24_hours_of_webhook_deliveries(engine: Engine, acme: int) -> None:
    want = expected(engine)
    assert [(r.endpoint, r.deliveries, r.events) for r in want] == [
        ("sendgrid/events", 3, 1010),
        ("twilio/status", 1, 1),
    ]

    at = page_at(CLOCK)

    shown = metrics(at)
    for label, column in [
        ("Deliveries", "deliveries"),
        ("Events", "events"),
        ("Duplicates", "duplicates"),
        ("Unmatched", "unmatched"),
        ("Ignored", "ignored"),
        ("Rejected", "rejected"),
    ]:
        assert shown[label] == fmt.count(sum(int(getattr(r, column)) for r in want)), label
    [table] = [d.value for d in at.dataframe if "endpoint" in d.value.columns]
    columns = ["provider", "endpoint", "deliveries", "waiting", "rejected", "events", "applied", "duplicates"]
    columns += ["unmatched", "ignored"]
    assert table[columns].to_dict("records") == [
        {c: (int(getattr(r, c)) if c not in ("provider", "endpoint") else getattr(r, c)) for c in columns} for r in want
    ]


def test_with_no_delivery_in_the_window_the_section_says_so(acme: int) -> None:
    at = page_at(CLOCK + dt.timedelta(days=3))

    assert metrics(at)["Deliveries"] == "0"
    assert any("No webhook delivery in the last 24 hours" in i.value for i in at.info)
