"""The SendGrid webhook's door: what it refuses (unsigned, tampered, stale, malformed, wrong type,
oversized) leaves only a line in the delivery log, and with PostgreSQL down it answers 503."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from rq import Queue
from sqlalchemy import Engine

from app.api import create_app
from app.web.sendgrid_events import delivery_sessions, webhook_clock
from db.engine import make_engine, make_session_factory
from tests.integration.sendgrid.scene import (
    NOW,
    T0,
    URL,
    Scene,
    deliveries,
    enqueue_sweep,
    fingerprint,
    post,
    sql,
    work,
)
from tests.sendgrid_signing import SIGNATURE, TIMESTAMP, SigningKey, body_of, new_key
from tests.support import free_port

# --- refused: nothing but the delivery log changes ----------------------------------------------


def assert_only_logged(engine: Engine, connection: redis.Redis, before: tuple[Any, ...], *, error: str) -> None:
    """One rejected row saying why; a worker run (the minute sweep's job) applies nothing."""
    [row] = deliveries(engine)
    assert (row.result, row.signature_valid) == ("rejected", False)
    assert row.error is not None
    assert error in row.error
    enqueue_sweep(connection)
    work(connection)
    assert [r.result for r in deliveries(engine)] == ["rejected"]
    assert fingerprint(engine) == before


def signed_elsewhere(body: bytes) -> dict[str, str]:
    return new_key().headers(body, NOW)


@pytest.mark.parametrize(
    ("case", "tamper", "error"),
    [
        (
            "body changed after signing",
            lambda key, body: (body.replace(b"open", b"click"), key.headers(body, NOW)),
            "does not match",
        ),
        ("signed by another key", lambda key, body: (body, signed_elsewhere(body)), "does not match"),
        (
            "signed 5 min 1 s ago",
            lambda key, body: (body, key.headers(body, NOW - timedelta(seconds=301))),
            "5 minutes",
        ),
        (
            "signed 5 min 1 s ahead",
            lambda key, body: (body, key.headers(body, NOW + timedelta(seconds=301))),
            "5 minutes",
        ),
        ("no signature header", lambda key, body: (body, without(key.headers(body, NOW), SIGNATURE)), "missing"),
        ("no timestamp header", lambda key, body: (body, without(key.headers(body, NOW), TIMESTAMP)), "missing"),
    ],
)
def test_an_untrusted_post_is_refused_and_only_logged(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient, case: str, tamper: Any, error: str
) -> None:
    s = Scene(db, 1)
    before = fingerprint(db)
    body, headers = tamper(key, body_of([s.ev(0, "open", T0), s.ev(0, "unsubscribe", T0 + 1)]))

    response = client.post(URL, content=body, headers=headers)

    assert (response.status_code, response.json()) == (403, {"error": "forbidden"}), case
    assert_only_logged(db, redis_conn, before, error=error)
    assert deliveries(db)[0].body_chars == len(body)


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


def test_with_no_key_configured_even_a_signed_post_is_refused(
    db: Engine, redis_conn: redis.Redis, no_key: None, client: TestClient
) -> None:
    s = Scene(db, 1)
    before = fingerprint(db)

    response = post(client, new_key(), [s.ev(0, "unsubscribe", T0)])

    assert response.status_code == 403
    assert_only_logged(db, redis_conn, before, error="no SENDGRID_WEBHOOK_PUBLIC_KEY")


# --- bad input ---------------------------------------------------------------------------------

FIVE_MB = 5 * 1024 * 1024


@pytest.mark.parametrize(
    ("case", "body", "content_type", "status", "error"),
    [
        ("malformed JSON", b'[{"event": "open"', "application/json", 400, "malformed JSON"),
        ("an object, not an array", b'{"event": "open"}', "application/json", 400, "got an object"),
        ("an array of numbers", b"[1, 2, 3]", "application/json", 400, "event 0 is a number"),
        ("not UTF-8", b'[{"email": "\xff\xfe"}]', "application/json", 400, "not UTF-8"),
        ("plain text", b"[]", "text/plain", 415, "content type"),
        ("a form", b"event=open", "application/x-www-form-urlencoded", 415, "content type"),
    ],
)
def test_a_bad_body_gets_its_status_and_changes_nothing_else(
    db: Engine,
    redis_conn: redis.Redis,
    key: SigningKey,
    client: TestClient,
    case: str,
    body: bytes,
    content_type: str,
    status: int,
    error: str,
) -> None:
    Scene(db, 1)
    before = fingerprint(db)
    headers = key.headers(body, NOW) | {"Content-Type": content_type}  # signed: only the body's shape is wrong

    response = client.post(URL, content=body, headers=headers)

    assert response.status_code == status, case
    assert error in response.json()["error"]
    [row] = deliveries(db)
    assert (row.result, row.body_chars) == ("rejected", len(body.decode("utf-8", "replace")))
    assert error in row.error
    enqueue_sweep(redis_conn)
    work(redis_conn)
    assert fingerprint(db) == before


def test_a_body_over_5_mb_is_refused_unread(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient
) -> None:
    declared = b"[" + b" " * FIVE_MB + b"]"  # 5 MB + 2 bytes, with its Content-Length

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap is met while streaming
        yield b"["
        for _ in range(6):
            yield b" " * (1024 * 1024)

    first = client.post(URL, content=declared, headers=key.headers(declared, NOW))
    second = client.post(URL, content=chunks(), headers={"Content-Type": "application/json"})

    assert (first.status_code, second.status_code) == (413, 413)
    rows = deliveries(db)
    assert [(r.result, r.body_chars, r.error) for r in rows] == [("rejected", 0, "body over 5 MB")] * 2
    assert sql(db, "SELECT count(*) AS n FROM message_events")[0].n == 0


def test_a_body_of_exactly_5_mb_is_taken(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient
) -> None:
    body = b"[" + b" " * (FIVE_MB - 2) + b"]"  # an empty array padded to the limit

    response = client.post(URL, content=body, headers=key.headers(body, NOW))
    work(redis_conn)

    assert (response.status_code, response.json()) == (200, {"accepted": 0})
    assert [(r.result, r.body_chars, r.event_count) for r in deliveries(db)] == [("applied", FIVE_MB, 0)]


# --- PostgreSQL down -----------------------------------------------------------------------------


def test_with_postgresql_unreachable_the_route_answers_503_so_sendgrid_retries(
    db: Engine, redis_conn: redis.Redis, key: SigningKey
) -> None:
    """The route's database is a real server address where nothing listens (a closed port)."""
    unreachable = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", null_pool=True)
    api = create_app()
    api.dependency_overrides[webhook_clock] = lambda: NOW
    api.dependency_overrides[delivery_sessions] = lambda: make_session_factory(unreachable)
    s = Scene(db, 1)

    with TestClient(api) as down:
        response = post(down, key, [s.ev(0, "delivered", T0)])

    assert response.status_code == 503
    assert "retry" in response.json()["error"]
    assert deliveries(db) == []
    assert Queue("high", connection=redis_conn).count == 0, "nothing to apply was announced"
    unreachable.dispose()
