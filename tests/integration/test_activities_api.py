"""`POST /api/activities` through the real app with a real API key: activities join the lead's timeline,
the lead's own signs of life move its last activity and reset its silence (an open or a note does not),
and every item's answer matches what the database holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.services import score_requests
from tests.integration.intake_world import NOW, World, build, client_at, count, post, snapshot, sql


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


@pytest.fixture
def world(db: Engine) -> World:
    return build(db)


@pytest.fixture
def client() -> Iterator[TestClient]:
    yield from client_at(NOW)


def activities(client: TestClient, key: str, items: list[Any], **headers: str) -> Any:
    return post(client, "/api/activities", key, {"activities": items}, **headers)


def seed(db: Engine, tenant: int, external_id: str, *, state: str = "silent", level: int = 1, days: int = 4) -> int:
    return int(
        sql(
            db,
            """INSERT INTO leads (tenant_id, external_id, first_name, email, recovery_state, silence_level,
                                  last_activity_at)
               VALUES (:t, :x, 'Lead', :x || '@example.com', :s, :l, :at) RETURNING id""",
            t=tenant,
            x=external_id,
            s=state,
            l=level,
            at=NOW - dt.timedelta(days=days),
        )[0][0]
    )


def test_activities_land_and_signs_of_life_reset_silence(
    db: Engine, client: TestClient, world: World, redis_conn: redis.Redis
) -> None:
    ada = seed(db, world.acme, "HS-1", state="in_recovery", level=2)
    bob = seed(db, world.acme, "HS-2")
    cat = seed(db, world.acme, "HS-3", state="replied", level=0)
    theirs = seed(db, world.birch, "HS-9")
    hour = dt.timedelta(hours=1)
    items = [
        {
            "external_id": "HS-1",
            "kind": "form",
            "occurred_at": (NOW - 3 * hour).isoformat(),
            "summary": "Demo form",
            "channel": "web",
            "details": {"form": "demo"},
        },
        {"external_id": "HS-1", "kind": "page_view", "occurred_at": (NOW - 2 * hour).isoformat()},
        {"lead_id": bob, "kind": "open", "occurred_at": (NOW - hour).isoformat()},  # not a sign of life
        {"lead_id": cat, "kind": "call", "occurred_at": "2026-12-09 09:30"},  # New York time: 14:30 UTC
        {"lead_id": theirs, "kind": "call", "occurred_at": NOW.isoformat()},  # birch's lead
        {"external_id": "nobody", "kind": "call", "occurred_at": NOW.isoformat()},
        {"external_id": "HS-1", "kind": "dance", "occurred_at": "tomorrow"},
        {"external_id": "HS-1", "lead_id": ada, "kind": "call", "occurred_at": "2027-01-01T00:00:00Z"},
        {"kind": "note"},
    ]
    answer = activities(client, world.key, items)
    assert answer.status_code == 200
    results = answer.json()["results"]
    stored = sql(
        db,
        "SELECT id, lead_id, kind, channel, occurred_at, summary, details FROM activities WHERE tenant_id = :t "
        "ORDER BY id",
        t=world.acme,
    )
    assert [(r["index"], r["status"], r["id"]) for r in results] == [
        (0, "created", stored[0].id),
        (1, "created", stored[1].id),
        (2, "created", stored[2].id),
        (3, "created", stored[3].id),
        (4, "rejected", None),
        (5, "rejected", None),
        (6, "rejected", None),
        (7, "rejected", None),
        (8, "rejected", None),
    ]
    assert [tuple(r)[1:] for r in stored] == [
        (ada, "form", "web", NOW - 3 * hour, "Demo form", {"form": "demo"}),
        (ada, "page_view", None, NOW - 2 * hour, "", {}),
        (bob, "open", None, NOW - hour, "", {}),
        (cat, "call", None, dt.datetime(2026, 12, 9, 14, 30, tzinfo=dt.UTC), "", {}),
    ]
    assert results[4]["errors"] == [{"field": "lead_id", "message": "no such lead"}]
    assert results[5]["errors"] == [{"field": "external_id", "message": "no such lead"}]
    kinds = "form, call, meeting, page_view, email_in, email_out, sms_in, sms_out, open, click, note, stage_change"
    assert results[6]["errors"] == [
        {"field": "kind", "message": f"must be one of {kinds}"},
        {
            "field": "occurred_at",
            "message": "'tomorrow' is not a date, e.g. 2026-12-01, 12/01/2026 or 2026-12-01T14:30:00Z",
        },
    ]
    assert results[7]["errors"] == [
        {"field": "lead_id", "message": "name the lead by lead_id or by external_id (one of them)"},
        {"field": "occurred_at", "message": "'2027-01-01T00:00:00Z' is in the future"},
    ]
    assert results[8]["errors"] == [
        {"field": "lead_id", "message": "name the lead by lead_id or by external_id (one of them)"},
        {"field": "occurred_at", "message": "is required, e.g. 2026-12-01, 12/01/2026 or 2026-12-01T14:30:00Z"},
    ]
    state = {
        r.id: tuple(r)[1:] for r in sql(db, "SELECT id, last_activity_at, silence_level, recovery_state FROM leads")
    }
    assert state[ada] == (NOW - 2 * hour, 0, "active"), "the latest sign of life, silence reset"
    assert state[bob] == (NOW - dt.timedelta(days=4), 1, "silent"), "an open is no sign of life"
    assert state[cat] == (dt.datetime(2026, 12, 9, 14, 30, tzinfo=dt.UTC), 0, "replied"), "a replied lead stays replied"
    assert state[theirs] == (NOW - dt.timedelta(days=4), 1, "silent")
    assert count(db, "activities") == 4
    pending = sorted(int(m) for m in redis_conn.smembers(score_requests.pending_key(world.acme)))
    assert pending == sorted([ada, bob, cat])


def test_an_older_activity_is_recorded_but_moves_nothing(db: Engine, client: TestClient, world: World) -> None:
    ada = seed(db, world.acme, "HS-1", days=1)
    old = (NOW - dt.timedelta(days=3)).isoformat()
    assert activities(client, world.key, [{"lead_id": ada, "kind": "call", "occurred_at": old}]).status_code == 200
    assert tuple(sql(db, "SELECT last_activity_at, silence_level FROM leads")[0]) == (NOW - dt.timedelta(days=1), 1)
    assert count(db, "activities") == 1


def test_a_retried_batch_with_its_key_is_recorded_once(db: Engine, client: TestClient, world: World) -> None:
    ada = seed(db, world.acme, "HS-1")
    items = [{"lead_id": ada, "kind": "call", "occurred_at": NOW.isoformat()}]
    first = activities(client, world.key, items, **{"Idempotency-Key": "calls-1"})
    after = snapshot(db)
    again = activities(client, world.key, items, **{"Idempotency-Key": "calls-1"})
    assert again.json() == first.json()
    assert snapshot(db) == after
    assert count(db, "activities") == 1
    assert activities(client, world.key, items).status_code == 200  # no key: a second call is a second activity
    assert count(db, "activities") == 2


def test_without_a_key_or_with_a_bad_body_nothing_is_recorded(db: Engine, client: TestClient, world: World) -> None:
    ada = seed(db, world.acme, "HS-1")
    item = {"lead_id": ada, "kind": "call", "occurred_at": NOW.isoformat()}
    assert client.post("/api/activities", json={"activities": [item]}).status_code == 401
    refused = post(client, "/api/activities", world.key, {"activities": [item] * 1001})
    assert (refused.status_code, refused.json()["detail"]) == (
        413,
        '"activities" has 1,001 items; send at most 1,000 per request',
    )
    wrong = post(client, "/api/activities", world.key, {"leads": [item]})
    assert wrong.status_code == 400
    assert count(db, "activities") == 0
