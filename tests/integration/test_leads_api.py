"""`POST /api/leads` through the real app on real PostgreSQL and Redis, with a real API key: JSON
bodies as a CRM sends them, each item's answer, and what the database holds afterwards, read in SQL."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.services import intake_api, score_requests
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


def leads(client: TestClient, key: str, items: list[Any], **headers: str) -> Any:
    return post(client, "/api/leads", key, {"leads": items}, **headers)


LEAD_COLUMNS = (
    "external_id, first_name, last_name, company, title, email, phone, phone_unreachable, timezone, source, stage, "
    "deal_value, tags, attributes, consent_email, consent_sms, last_activity_at"
)


def test_a_batch_creates_valid_leads_and_rejects_the_rest_field_by_field(
    db: Engine, client: TestClient, world: World, redis_conn: redis.Redis
) -> None:
    items = [
        {
            "external_id": "HS-1",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company": "Analytical Engines",
            "title": "Founder",
            "email": "Ada@Example.com",
            "phone": "(415) 555-2671",
            "timezone": "America/Chicago",
            "source": "webinar",
            "stage": "qualified",
            "deal_value": "1,250.50",
            "tags": ["vip", "west"],
            "attributes": {"plan": "pro", "seats": 12},
            "consent_email": True,
            "consent_sms": True,
            "last_activity_at": "2026-12-01T15:04:05Z",
        },
        {"email": "grace@example.com"},
        {"email": "not-an-email", "deal_value": -3, "phone": "12", "colour": "red"},
        {"first_name": "Nobody"},
        "just a string",
        {"email": "ok@example.com", "last_activity_at": "2027-01-01T00:00:00Z", "consent_sms": "maybe"},
    ]
    answer = leads(client, world.key, items)
    assert answer.status_code == 200
    results = answer.json()["results"]
    stored = sql(db, f"SELECT id, {LEAD_COLUMNS} FROM leads WHERE tenant_id = :t ORDER BY id", t=world.acme)
    assert [(r["index"], r["status"], r["id"]) for r in results] == [
        (0, "created", stored[0].id),
        (1, "created", stored[1].id),
        (2, "rejected", None),
        (3, "rejected", None),
        (4, "rejected", None),
        (5, "rejected", None),
    ]
    assert results[2]["errors"] == [
        {"field": "colour", "message": "not a lead field"},
        {"field": "email", "message": "An email address must have an @-sign."},
        {"field": "phone", "message": "'12' is too short for a number in US (no country code given)"},
        {"field": "deal_value", "message": "cannot be negative"},
    ]
    assert results[3]["errors"] == [
        {"field": "row", "message": "give an external_id, an email or a phone: nothing else tells leads apart"}
    ]
    assert results[4]["errors"] == [{"field": "row", "message": "must be a JSON object"}]
    assert results[5]["errors"] == [
        {"field": "consent_sms", "message": "must be yes or no, got 'maybe'"},
        {"field": "last_activity_at", "message": "'2027-01-01T00:00:00Z' is in the future"},
    ]
    assert len(stored) == 2, "rejected items wrote nothing"
    assert tuple(stored[0])[1:] == (
        "HS-1",
        "Ada",
        "Lovelace",
        "Analytical Engines",
        "Founder",
        "ada@example.com",
        "+14155552671",
        None,
        "America/Chicago",
        "webinar",
        "qualified",
        Decimal("1250.50"),
        ["vip", "west"],
        {"plan": "pro", "seats": 12},
        True,
        True,
        dt.datetime(2026, 12, 1, 15, 4, 5, tzinfo=dt.UTC),
    )
    grace = stored[1]
    assert grace.external_id.startswith("lre-auto-")
    assert (grace.first_name, grace.last_name, grace.timezone, grace.source, grace.stage) == (
        "",
        "",
        "America/New_York",  # the tenant's zone
        "api",
        "new",
    )
    assert (grace.deal_value, grace.tags, grace.attributes, grace.consent_email, grace.consent_sms) == (
        Decimal("0.00"),
        [],
        {},
        True,
        False,
    )
    assert grace.last_activity_at == NOW
    pending = sorted(int(m) for m in redis_conn.smembers(score_requests.pending_key(world.acme)))
    assert pending == [stored[0].id, stored[1].id], "the written leads are queued for rescoring"


def make_lead(db: Engine, tenant: int, **columns: Any) -> int:
    values = {"external_id": f"seed-{len(columns)}-{columns.get('email')}", "first_name": "Seed", **columns}
    values.setdefault("last_activity_at", NOW - dt.timedelta(days=10))
    names = ", ".join(values)
    binds = ", ".join(f"CAST(:{k} AS jsonb)" if k == "attributes" else f":{k}" for k in values)
    if "attributes" in values:
        values["attributes"] = json.dumps(values["attributes"])
    return int(
        sql(db, f"INSERT INTO leads (tenant_id, {names}) VALUES (:t, {binds}) RETURNING id", t=tenant, **values)[0][0]
    )


def test_leads_are_matched_by_external_id_then_email_then_phone_within_the_tenant(
    db: Engine, client: TestClient, world: World
) -> None:
    by_ext = make_lead(db, world.acme, external_id="HS-7", email="seven@example.com", company="Seven Ltd")
    by_email = make_lead(db, world.acme, external_id="HS-8", email="eight@example.com")
    by_phone = make_lead(db, world.acme, external_id="HS-9", phone="+14155552672")
    theirs = make_lead(db, world.birch, external_id="HS-10", email="ten@example.com")
    items = [
        {"external_id": "HS-7", "email": "seven@new.example.com", "title": "CEO"},
        {"external_id": "NEW-8", "email": "EIGHT@example.com", "title": "CTO"},  # unknown id: the email
        {"email": "nine@example.com", "phone": "415-555-2672", "title": "CFO"},  # unknown email: the phone
        {"email": "ten@example.com", "title": "COO"},  # birch's lead: not acme's, so a new one
    ]
    results = leads(client, world.key, items).json()["results"]
    new_id = sql(db, "SELECT id FROM leads WHERE tenant_id = :t AND email = 'ten@example.com'", t=world.acme)[0].id
    assert [(r["status"], r["id"]) for r in results] == [
        ("updated", by_ext),
        ("updated", by_email),
        ("updated", by_phone),
        ("created", new_id),
    ]
    rows = {r.id: r for r in sql(db, "SELECT id, external_id, email, phone, title, company FROM leads")}
    assert (rows[by_ext].email, rows[by_ext].title, rows[by_ext].company) == (
        "seven@new.example.com",
        "CEO",
        "Seven Ltd",  # not given: kept
    )
    assert (rows[by_email].external_id, rows[by_email].title) == ("HS-8", "CTO"), "the lead keeps its CRM id"
    assert (rows[by_phone].email, rows[by_phone].title) == ("nine@example.com", "CFO")
    assert rows[theirs].title is None, "another tenant's lead is never touched"

    # The external id wins over an email another lead has: that lead is not touched.
    again = leads(client, world.key, [{"external_id": "HS-7", "email": "eight@example.com", "title": "Chair"}])
    assert [(r["status"], r["id"]) for r in again.json()["results"]] == [("updated", by_ext)]
    titles = dict(sql(db, "SELECT id, title FROM leads WHERE id IN (:a, :b)", a=by_ext, b=by_email))
    assert titles == {by_ext: "Chair", by_email: "CTO"}


def test_items_naming_one_lead_make_one_lead_and_the_later_values_win(
    db: Engine, client: TestClient, world: World
) -> None:
    items = [
        {"email": "ada@example.com", "company": "Old Co", "attributes": {"a": 1, "b": 1}},
        {"email": "bob@example.com"},
        {"external_id": "HS-1", "email": "ADA@example.com", "company": "New Co", "attributes": {"b": 2}},
        {"phone": "+1 415 555 2671", "external_id": "HS-1", "first_name": "Ada"},
    ]
    results = leads(client, world.key, items).json()["results"]
    stored = sql(db, "SELECT id, external_id, email, phone, first_name, company, attributes FROM leads ORDER BY id")
    assert len(stored) == 2
    ada = next(r for r in stored if r.email == "ada@example.com")
    assert [(r["status"], r["id"]) for r in results] == [
        ("created", ada.id),
        ("created", stored[1].id if stored[1].id != ada.id else stored[0].id),
        ("updated", ada.id),
        ("updated", ada.id),
    ]
    assert (ada.external_id, ada.phone, ada.first_name, ada.company, ada.attributes) == (
        "HS-1",
        "+14155552671",
        "Ada",
        "New Co",
        {"a": 1, "b": 2},
    )


def test_an_update_changes_only_what_is_given_and_a_newer_activity_resets_silence(
    db: Engine, client: TestClient, world: World
) -> None:
    quiet = make_lead(
        db,
        world.acme,
        external_id="HS-1",
        email="ada@example.com",
        company="AE",
        tags=["old"],
        attributes={"keep": 1},
        recovery_state="in_recovery",
        silence_level=2,
        consent_sms=True,
        last_activity_at=NOW - dt.timedelta(days=5),
    )
    stale = make_lead(
        db,
        world.acme,
        external_id="HS-2",
        email="bob@example.com",
        recovery_state="silent",
        silence_level=1,
        last_activity_at=NOW - dt.timedelta(days=2),
    )
    items = [
        {
            "external_id": "HS-1",
            "tags": "new;tags",
            "attributes": {"plan": "pro"},
            "consent_sms": False,
            "last_activity_at": (NOW - dt.timedelta(hours=1)).isoformat(),
        },
        {"external_id": "HS-2", "last_activity_at": (NOW - dt.timedelta(days=9)).isoformat()},  # older than ours
    ]
    assert [r["status"] for r in leads(client, world.key, items).json()["results"]] == ["updated", "updated"]
    rows = {r.id: r for r in sql(db, "SELECT * FROM leads")}
    ada, bob = rows[quiet], rows[stale]
    assert (ada.company, ada.email, ada.tags, ada.attributes, ada.consent_sms) == (
        "AE",
        "ada@example.com",
        ["new", "tags"],
        {"keep": 1, "plan": "pro"},
        False,
    )
    assert (ada.last_activity_at, ada.silence_level, ada.recovery_state) == (NOW - dt.timedelta(hours=1), 0, "active")
    assert (bob.last_activity_at, bob.silence_level, bob.recovery_state) == (NOW - dt.timedelta(days=2), 1, "silent")


def test_a_full_name_is_split_when_no_first_or_last_name_is_given(db: Engine, client: TestClient, world: World) -> None:
    items = [
        {"email": "a@example.com", "full_name": "Lovelace, Ada"},
        {"email": "b@example.com", "full_name": "Mary Ann Evans"},
    ]
    assert [r["status"] for r in leads(client, world.key, items).json()["results"]] == ["created", "created"]
    assert [tuple(r) for r in sql(db, "SELECT first_name, last_name FROM leads ORDER BY email")] == [
        ("Ada", "Lovelace"),
        ("Mary Ann", "Evans"),
    ]


def test_a_generated_external_id_gives_way_to_the_crms(db: Engine, client: TestClient, world: World) -> None:
    first = leads(client, world.key, [{"email": "ada@example.com"}]).json()["results"][0]["id"]
    assert sql(db, "SELECT external_id FROM leads")[0][0].startswith("lre-auto-")
    again = leads(client, world.key, [{"email": "ada@example.com", "external_id": "HS-77"}]).json()["results"][0]
    assert (again["status"], again["id"]) == ("updated", first)
    assert sql(db, "SELECT external_id FROM leads")[0][0] == "HS-77"


def test_landlines_are_kept_but_never_texted_and_a_new_phone_clears_the_mark(
    db: Engine, client: TestClient, world: World
) -> None:
    answer = leads(client, world.birch_key, [{"external_id": "uk-1", "phone": "020 7946 0958", "consent_sms": True}])
    lead = answer.json()["results"][0]["id"]
    row = sql(db, "SELECT phone, consent_sms, phone_unreachable FROM leads WHERE id = :l", l=lead)[0]
    assert tuple(row) == ("+442079460958", True, "landline: cannot take texts (libphonenumber: fixed line)")
    leads(client, world.birch_key, [{"external_id": "uk-1", "phone": "07400 123456"}])
    row = sql(db, "SELECT phone, consent_sms, phone_unreachable FROM leads WHERE id = :l", l=lead)[0]
    assert tuple(row) == ("+447400123456", True, None)


def test_a_retry_with_the_idempotency_key_gets_the_same_answer_and_writes_nothing(
    db: Engine, client: TestClient, world: World
) -> None:
    items = [{"email": "ada@example.com"}, {"email": "bad"}]
    first = leads(client, world.key, items, **{"Idempotency-Key": "sync-42"})
    after = snapshot(db)
    again = post(client, "/api/leads", world.key, {"leads": items}, **{"Idempotency-Key": "sync-42"})
    assert (again.status_code, again.json()) == (200, first.json())
    assert (first.headers.get("Idempotent-Replayed"), again.headers.get("Idempotent-Replayed")) == (None, "true")
    assert snapshot(db) == after
    assert [r["status"] for r in first.json()["results"]] == ["created", "rejected"]
    other = leads(client, world.key, [{"email": "eve@example.com"}], **{"Idempotency-Key": "sync-42"})
    assert other.status_code == 422
    assert other.json() == {
        "detail": "this Idempotency-Key was used with a different body; use a new key for a new request"
    }
    assert snapshot(db) == after
    birch = leads(client, world.birch_key, items, **{"Idempotency-Key": "sync-42"})  # keys are per tenant
    assert [r["status"] for r in birch.json()["results"]] == ["created", "rejected"]
    assert count(db, "intake_requests") == 2


def test_an_idempotency_key_expires_after_a_day(db: Engine, world: World) -> None:
    items = [{"email": "ada@example.com"}]
    for when, status in (
        (NOW, "created"),
        (NOW + dt.timedelta(hours=23), "created"),
        (NOW + dt.timedelta(hours=25), "updated"),
    ):
        for client in client_at(when):
            result = leads(client, world.key, items, **{"Idempotency-Key": "k"}).json()["results"][0]
            assert result["status"] == status, when


def test_two_deliveries_of_one_keyed_request_at_once_write_once(db: Engine, world: World) -> None:
    """Both start together; the tenant's intake lock queues one behind the other, which then finds the
    first one's answer: one set of leads, the same answer twice, one of them a replay."""
    items = [{"email": f"l{n}@example.com"} for n in range(200)]
    digest = intake_api.body_digest({"leads": items})
    start = threading.Barrier(2)

    def deliver() -> intake_api.Answer:
        start.wait()
        return intake_api.receive_leads(tenant_id=world.acme, items=items, key="once", digest=digest, now=NOW)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = [f.result() for f in [pool.submit(deliver), pool.submit(deliver)]]
    assert answers[0].body == answers[1].body
    assert sorted(a.replayed for a in answers) == [False, True]
    assert count(db, "leads") == 200
    assert count(db, "intake_requests") == 1
