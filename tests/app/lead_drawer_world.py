"""What the lead drawer's tests share: the world, the fake Anthropic, the facts set on the
star and runner-up leads and the expected texts worked out by hand for them (see
`test_lead_drawer.py`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.settings import get_settings
from db.models import Activity, Conversion, InboundMessage, MessageEvent, OutboundMessage
from pages.leads import picks
from tests.app import factories
from tests.app.driver import open_page, rows, signed_in, truncate, value
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support import PRODUCTION_ENV

MODEL = "claude-sonnet-5-5"


QUEUE_TABLE = 2  # after the leads table and the "Why this score?" breakdown


QUEUE_SIZE = 10  # the call list shows ten leads


PROMPT_HASH = r"insight:[0-9a-f]{64}"


# The star: silent, intent 85, a $20,000 deal, quiet for 5 days 6 hours (5.25 days).
#   priority = 0.85 × 20,000 × 0.5 ^ (5.25 ÷ 14) = 17,000 × 0.77111 = 13,108.79
#   why: intent ≥ 70 is high; under 14 days quiet reads in whole days.
STAR_PRIORITY = 13_108.79


STAR_WHY = "high intent (85), $20,000 deal, quiet 5 d"


# The runner-up: in recovery, intent 25, a $200,000 deal, quiet for 30 days 6 hours (30.25 days).
#   priority = 0.25 × 200,000 × 0.5 ^ (30.25 ÷ 14) = 50,000 × 0.22365 = 11,182.28
#   why: the state first, intent under 30 is low, past 14 days it is cold and the weight shows.
RUNNER_UP_PRIORITY = 11_182.28


RUNNER_UP_WHY = "a recovery is messaging them, low intent (25), $200,000 deal, cold: quiet 30 d (weight 0.22)"


# Every other lead of the factory is worth at most 8,000 × 1.00 × 0.5 ^ (2 h ÷ 24 ÷ 14) = 7,967.06.

# The offline insight of the star with its history (`add_history`): quiet 5 days, a reply 5 days
# ago with intent not_now that names a price ("expensive") and a timing ("next year") objection,
# one email sent and opened, no click, its own last step a form 9 days ago; price comes first.
STAR_OFFLINE = [
    "Quiet for 5 days. Their last reply (5 days ago) said not now. Their replies raised price, timing. "
    "Their last own step was a form 9 days ago.",
    "Lead with value, not a discount: offer a smaller first step on what they asked about and ask which "
    "budget range would work for them.",
]


# The star without any history: nothing sent, no reply, no step of its own.
STAR_ALONE_OFFLINE = [
    "Quiet for 5 days. They have never reached out themselves.",
    "Introduce yourself briefly and ask whether what they asked about is still on their list.",
]


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    built = factories.build(engine)
    yield built
    truncate(engine)


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    """The settings name a key and point the SDK at the fake, as an operator's environment would."""
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
        for name, value in PRODUCTION_ENV.items():  # a real provider key needs them
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("ANTHROPIC_MODEL", MODEL)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


def leads_page() -> AppTest:
    return open_page(signed_in("demo@acme.example", factories.DEMO_PASSWORD), "pages/lead_scores.py")


def set_facts(engine: Engine, lead_id: int, *, state: str, score: int, deal: int, quiet: dt.timedelta) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """UPDATE leads SET recovery_state = :state, intent_score = :score, deal_value = :deal,
                          last_activity_at = now() - :quiet, phone = NULL, attributes = '{}'
                   WHERE id = :l"""
            ),
            {"l": lead_id, "state": state, "score": score, "deal": deal, "quiet": quiet},
        )


def star_lead(engine: Engine, world: factories.World) -> int:
    """Acme's first silent lead, given the star's facts (see STAR_*): it tops the call list."""
    lead_id = int(
        value(engine, "SELECT min(id) FROM leads WHERE tenant_id = :t AND recovery_state = 'silent'", t=acme(world))
    )
    set_facts(engine, lead_id, state="silent", score=85, deal=20_000, quiet=dt.timedelta(days=5, hours=6))
    return lead_id


def runner_up(engine: Engine, world: factories.World) -> int:
    """Acme's first active lead, given the runner-up's facts (see RUNNER_UP_*): second on the list."""
    lead_id = int(
        value(engine, "SELECT min(id) FROM leads WHERE tenant_id = :t AND recovery_state = 'active'", t=acme(world))
    )
    set_facts(engine, lead_id, state="in_recovery", score=25, deal=200_000, quiet=dt.timedelta(days=30, hours=6))
    return lead_id


def acme(world: factories.World) -> int:
    return world.tenants["acme"]


def expected_queue(engine: Engine, tenant_id: int, limit: int = QUEUE_SIZE) -> list[tuple[int, float]]:
    """(id, priority) of the best `limit` leads a rep may still work, by the formula of the page's
    help text: intent ÷ 100 × deal value × 0.5 ^ (days silent ÷ 14); ties to the higher score, then the lower id."""
    found = rows(
        engine,
        """SELECT id, intent_score / 100.0 * deal_value::float8
                      * power(0.5, greatest(extract(epoch FROM now() - last_activity_at) / 86400, 0) / 14) AS priority
           FROM leads WHERE tenant_id = :t AND recovery_state IN ('active', 'silent', 'in_recovery', 'replied')
           ORDER BY 2 DESC, intent_score DESC, id LIMIT :n""",
        t=tenant_id,
        n=limit,
    )
    return [(int(r.id), float(r.priority)) for r in found]


def open_from_queue(at: AppTest, position: int) -> AppTest:
    """Click a row of the call list as a browser would (AppTest sets a selection through its key)."""
    at.session_state["leads.queue"] = {"selection": {"rows": [position], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- for the drawer: its history and timeline ----------------------------------------------------


def add_history(engine: Engine, world: factories.World, lead_id: int) -> None:
    """A lead with one of everything the timeline shows, each at its own distinct time."""
    now, tenant = world.now, world.tenants["acme"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE leads SET timezone = 'America/Chicago' WHERE id = :l"), {"l": lead_id})

        def insert(model: type, **values: Any) -> int:
            statement = sa.insert(model).values(tenant_id=tenant, **values).returning(model.id)  # type: ignore[attr-defined]
            return int(conn.execute(statement).scalar_one())

        insert(
            Activity, lead_id=lead_id, kind="form", occurred_at=now - dt.timedelta(days=9), summary="Asked for a quote"
        )
        insert(
            Activity,
            lead_id=lead_id,
            kind="page_view",
            occurred_at=now - dt.timedelta(days=8),
            summary="Viewed /pricing",
        )
        message = insert(
            OutboundMessage,
            lead_id=lead_id,
            channel="email",
            to_address="lead@example.com",
            subject="About your quote",
            body="Hi",
            status="delivered",
            sent_at=now - dt.timedelta(days=7),
            dedupe_key=f"test:{lead_id}:1",
        )
        insert(
            MessageEvent,
            message_id=message,
            lead_id=lead_id,
            event_type="open",
            occurred_at=now - dt.timedelta(days=6, hours=5),
            natural_key=f"test-open-{lead_id}",
        )
        insert(
            InboundMessage,
            lead_id=lead_id,
            channel="email",
            from_address="lead@example.com",
            body="Too expensive for us right now, maybe next year.",
            intent="not_now",
            sentiment="neutral",
            received_at=now - dt.timedelta(days=5, hours=6),
        )
        insert(
            Conversion,
            lead_id=lead_id,
            value=Decimal("1234.50"),
            method="manual",
            converted_at=now - dt.timedelta(days=2),
        )


def expected_timeline(engine: Engine, lead_id: int) -> list[tuple[str, str]]:
    """(kind, what) of every row the timeline should show, newest first, each source read on its own."""
    found: list[tuple[dt.datetime, str, str]] = []
    for sql, kind in (
        ("SELECT occurred_at AS at, kind AS what FROM activities WHERE lead_id = :l", "activity"),
        (
            "SELECT coalesce(sent_at, created_at) AS at, channel AS what FROM outbound_messages WHERE lead_id = :l",
            "message",
        ),
        (
            """SELECT e.occurred_at AS at, e.event_type AS what FROM message_events e
               WHERE e.message_id IN (SELECT id FROM outbound_messages WHERE lead_id = :l)""",
            "event",
        ),
        (
            "SELECT received_at AS at, coalesce(intent, channel) AS what FROM inbound_messages WHERE lead_id = :l",
            "reply",
        ),
        ("SELECT converted_at AS at, method AS what FROM conversions WHERE lead_id = :l", "conversion"),
        (
            """SELECT e.enrolled_at AS at, c.name AS what FROM enrollments e JOIN campaigns c ON c.id = e.campaign_id
               WHERE e.lead_id = :l""",
            "enrollment",
        ),
    ):
        found += [(r.at, kind, r.what) for r in rows(engine, sql, l=lead_id)]
    found.sort(key=lambda item: (-item[0].timestamp(), item[1]))
    return [(kind, what) for _, kind, what in found]


# --- for the insight ---------------------------------------------------------------------------


def insight_rows(engine: Engine, lead_id: int) -> list[Any]:
    return rows(
        engine,
        """SELECT model, prompt_hash, output, tokens_in, tokens_out, cost_usd FROM ai_generations
           WHERE purpose = 'insight' AND lead_id = :l ORDER BY id""",
        l=lead_id,
    )


def drawer_on(at: AppTest, lead_id: int) -> AppTest:
    at.session_state[picks.DRAWER] = lead_id
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]
