"""The console's degraded strip: shown on every page while Claude's trouble is fresh (the Redis
marker the writer stamps when it falls back offline), gone once 15 minutes have passed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.ai import health
from pages import session
from tests.app.driver import acme_with_operator, open_page, signed_in, truncate

EMAIL, PASSWORD = "ops@acme.example", "degraded-pass"
NOTED_AT = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def acme(engine: Engine, redis_conn: redis.Redis) -> Iterator[int]:
    truncate(engine)
    with engine.begin() as conn:
        tenant = acme_with_operator(conn, email=EMAIL, password=PASSWORD, role="rep")
    yield tenant
    truncate(engine)


def page_at(clock: dt.datetime) -> AppTest:
    at = signed_in(EMAIL, PASSWORD)
    at.session_state[session.CLOCK] = clock
    return open_page(at, "pages/reply_inbox.py")


def strips(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("AI degraded")]


def test_fresh_trouble_shows_the_strip_and_old_trouble_does_not(acme: int, redis_conn: redis.Redis) -> None:
    for _ in range(3):
        health.note_fallback("HTTP 529", now=NOTED_AT.timestamp(), connection=redis_conn)

    assert strips(page_at(NOTED_AT + dt.timedelta(minutes=4))) == [
        "AI degraded: Claude failed 3 times in the last 15 min (latest HTTP 529, 4 min ago). "
        "Messages and insights come from the offline writer until it answers again."
    ]
    assert strips(page_at(NOTED_AT + dt.timedelta(minutes=15))) == []


def test_no_trouble_no_strip(acme: int) -> None:
    assert strips(page_at(NOTED_AT)) == []
