"""Claude's trouble is noted for the console: a 429, a 529 or a timeout that sends the writer to
its offline fallback stamps the Redis marker; a request Claude refuses as ours (400) does not;
the marker counts for 15 minutes on the reader's clock."""

from __future__ import annotations

import pytest
import redis

from app.ai import health
from app.ai.claude import ClaudeWriter
from app.ai.context import LeadContext
from app.ai.writer import Writer
from tests.fakes.anthropic_server import Answer, FakeAnthropic, overloaded, rate_limited, server_error, slow
from tests.integration.writer_world import MODEL, fake

__all__ = ["fake"]  # fixture used by name

CONTEXT = LeadContext(tenant_id=1, lead_id=7, rung=1, channel="email", first_name="Ana", sender_name="Maya")
T0 = 1_800_000_000.0


def write_once(fake: FakeAnthropic, *answers: Answer, timeout: float = 5.0) -> str:
    fake.script(*answers)
    claude = ClaudeWriter(api_key=fake.api_key, model=MODEL, base_url=fake.url, timeout=timeout, max_retry_wait=0.01)
    with Writer(claude) as writer:
        return writer.write(CONTEXT).source


def marker(conn: redis.Redis) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in conn.hgetall("lre:ai:degraded").items()}


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ((overloaded(), overloaded(), overloaded()), "HTTP 529"),
        ((rate_limited(retry_after="600"),), "HTTP 429 rate limited"),
    ],
)
def test_an_api_failure_that_falls_back_is_noted(
    fake: FakeAnthropic, redis_conn: redis.Redis, answers: tuple[Answer, ...], reason: str
) -> None:
    assert write_once(fake, *answers) == "offline"
    noted = marker(redis_conn)
    assert (noted["reason"], noted["count"]) == (reason, "1")
    assert 0 < redis_conn.ttl("lre:ai:degraded") <= 900


def test_a_timeout_is_noted(fake: FakeAnthropic, redis_conn: redis.Redis) -> None:
    assert write_once(fake, *(slow(seconds=30) for _ in range(3)), timeout=0.3) == "offline"
    assert marker(redis_conn)["reason"] == "APITimeoutError"


def test_a_request_refused_as_ours_is_not_the_apis_trouble(fake: FakeAnthropic, redis_conn: redis.Redis) -> None:
    assert write_once(fake, server_error(400)) == "offline"
    assert marker(redis_conn) == {}


def test_the_marker_counts_for_fifteen_minutes(redis_conn: redis.Redis) -> None:
    health.note_fallback("HTTP 529", now=T0, connection=redis_conn)
    health.note_fallback("HTTP 529", now=T0 + 30, connection=redis_conn)
    assert health.degraded(now=T0 + 90, connection=redis_conn) == health.Degraded(T0 + 30, "HTTP 529", 2)
    assert health.degraded(now=T0 + 30 + 900, connection=redis_conn) is None
