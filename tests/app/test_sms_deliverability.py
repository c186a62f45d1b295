"""The Agents page counts texts carriers filtered (Twilio 30007) in the 24 hours before the pinned clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from app.services.operators import hash_password
from pages import session
from tests.app.driver import metrics, open_page, signed_in, truncate

EMAIL, PASSWORD = "ops@acme.example", "deliverability-pass"
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
LABEL = "Carrier filtered (30007), last 24 h"

# (error code, [hours before NOW of each failure event]) per text of Acme's.
ACME_TEXTS = [
    ("30007", [1]),  # counts
    ("30007", [23.99]),  # counts: inside the 24 h
    ("30007", [25]),  # too old
    ("30003", [2]),  # another failure (unreachable handset)
    ("30007", [-1]),  # after the pinned clock
    ("30007", [3, 3]),  # undelivered then failed: one text, counted once
]
EXPECTED = 3  # the first, second and last text


def add_text(conn: sa.Connection, tenant: int, n: int, code: str, hours_ago: list[float]) -> None:
    lead = conn.execute(
        sa.text(
            "INSERT INTO leads (tenant_id, external_id, first_name, phone, last_activity_at) "
            "VALUES (:t, :ext, 'Lead', :phone, :now) RETURNING id"
        ),
        {"t": tenant, "ext": f"{tenant}-{n}", "phone": f"+1555000{tenant:02d}{n:02d}", "now": NOW},
    ).scalar_one()
    message = conn.execute(
        sa.text(
            "INSERT INTO outbound_messages (tenant_id, lead_id, channel, to_address, body, status, error_code, "
            "provider, provider_message_id, sent_at, dedupe_key) "
            "VALUES (:t, :l, 'sms', '+15550000000', 'Hi', 'failed', :code, 'twilio', :sid, :now, :key) RETURNING id"
        ),
        {"t": tenant, "l": lead, "code": code, "sid": f"SM{tenant}x{n}", "now": NOW, "key": f"{tenant}:{n}"},
    ).scalar_one()
    for k, hours in enumerate(hours_ago):
        key = f"SM{tenant}x{n}:{('undelivered', 'failed')[k]}"
        conn.execute(
            sa.text(
                "INSERT INTO message_events (tenant_id, message_id, lead_id, channel, event_type, occurred_at, "
                "provider_event_id, natural_key) VALUES (:t, :m, :l, 'sms', :type, :at, :key, 'twilio:' || :key)"
            ),
            {
                "t": tenant,
                "m": message,
                "l": lead,
                "type": ("undelivered", "failed")[k],
                "at": NOW - dt.timedelta(hours=hours),
                "key": key,
            },
        )


@pytest.fixture
def acme(engine: Engine) -> Iterator[int]:
    truncate(engine)
    with engine.begin() as conn:
        tenant, other = conn.execute(
            sa.text("INSERT INTO tenants (slug, name) VALUES ('acme', 'Acme'), ('globex', 'Globex') RETURNING id")
        ).scalars()
        conn.execute(
            sa.text(
                "INSERT INTO operators (tenant_id, email, name, role, password_hash) "
                "VALUES (:t, :email, 'Ops', 'manager', :hash)"
            ),
            {"t": tenant, "email": EMAIL, "hash": hash_password(PASSWORD)},
        )
        for n, (code, hours) in enumerate(ACME_TEXTS):
            add_text(conn, tenant, n, code, hours)
        add_text(conn, other, 0, "30007", [1])  # another tenant's: never counted for Acme
    yield tenant
    truncate(engine)


def test_the_agents_page_counts_carrier_filtered_texts_of_the_last_24_hours(acme: int) -> None:
    at = signed_in(EMAIL, PASSWORD)
    at.session_state[session.CLOCK] = NOW
    open_page(at, "pages/agent_activity.py")

    assert metrics(at)[LABEL] == str(EXPECTED)


def test_none_filtered_reads_zero(acme: int) -> None:
    at = signed_in(EMAIL, PASSWORD)
    at.session_state[session.CLOCK] = NOW + dt.timedelta(days=2)  # every failure is older than 24 h by then
    open_page(at, "pages/agent_activity.py")

    assert metrics(at)[LABEL] == "0"
