"""What the applier reads from each stored event, in PostgreSQL: which events it acts on, how far each
moves a status, which suppress the address and why, the ids it matches on, and bodies PostgreSQL's
JSON refuses. Each case stores a delivery as the door would and runs the applier's staging
statement on it; the expected facts are worked out by hand from the event."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from app import runtime
from app.services import sendgrid_apply
from tests.integration.sendgrid.scene import Scene, sql

AT = 1796137200  # 2026-12-01 15:00:00 UTC


def store(engine: Engine, body: str) -> int:
    """A delivery the door accepted (`received`), with exactly this body."""
    return int(
        sql(
            engine,
            """INSERT INTO webhook_deliveries (provider, endpoint, headers, body, signature_valid, result)
               VALUES ('sendgrid', 'sendgrid/events', '{}', :body, true, 'received') RETURNING id""",
            body=body,
        )[0].id
    )


def staged(engine: Engine, body: str) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The rows the applier's staging statement reads from one stored body, and its notes."""
    delivery = store(engine, body)
    with runtime.session_scope() as session, session.begin():
        notes = sendgrid_apply.stage(session, [delivery])
        rows = [dict(r) for r in session.execute(sa.text("SELECT * FROM sg_batch ORDER BY ordinal")).mappings()]
        session.rollback()
    return rows, notes


def one(engine: Engine, event: dict[str, Any]) -> dict[str, Any]:
    rows, notes = staged(engine, json.dumps([event]))
    assert notes == {}
    [row] = rows
    return row


def event(name: str, **fields: object) -> dict[str, object]:
    return {"event": name, "email": "Lead1@Example.com", "timestamp": AT, **fields}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (event("bounce", type="bounce", status="5.1.1"), "bounce"),
        (event("bounce"), "bounce"),  # the older webhook sent no type: every bounce was hard
        (event("bounce", type=None), "bounce"),
        (event("bounce", type="blocked", status="4.0.0"), None),
        (event("dropped", reason="Bounced Address"), "bounce"),
        (event("dropped", reason=" Invalid "), "bounce"),
        (event("dropped", reason="Unsubscribed Address"), "unsubscribe"),
        (event("dropped", reason="Spam Reporting Address"), "spam"),
        (event("dropped", reason="Spam Content (if spam checker app enabled)"), None),
        (event("dropped", reason="Invalid SMTPAPI header"), None),
        (event("dropped"), None),
        (event("spamreport"), "spam"),
        (event("unsubscribe"), "unsubscribe"),
        (event("group_unsubscribe", asm_group_id=4), "unsubscribe"),
        (event("delivered"), None),
        (event("click", url="https://acme.example/pricing"), None),
    ],
)
def test_which_events_suppress_the_address_and_why(db: Engine, raw: dict[str, object], reason: str | None) -> None:
    assert one(db, raw)["suppression"] == reason


@pytest.mark.parametrize(
    ("name", "kind", "rank"),
    [
        ("processed", "processed", 1),
        ("deferred", "deferred", 0),
        ("delivered", "delivered", 3),
        ("open", "open", 0),
        ("click", "click", 0),
        ("bounce", "bounce", 2),
        ("dropped", "dropped", 2),
        ("spamreport", "spamreport", 0),
        ("unsubscribe", "unsubscribe", 0),
        ("group_unsubscribe", "unsubscribe", 0),
    ],
)
def test_each_known_event_has_its_kind_and_status_rank(db: Engine, name: str, kind: str, rank: int) -> None:
    row = one(db, event(name))
    assert (row["acted"], row["kind"], row["rank"]) == (True, kind, rank)


@pytest.mark.parametrize(
    "raw",
    [
        event("group_resubscribe"),
        event("machine_open"),
        {"email": "a@b.example", "timestamp": AT},
        event(["open"]),  # type: ignore[arg-type]
        event("delivered", timestamp=None),
        event("delivered", timestamp="yesterday"),
        event("delivered", timestamp=True),
        event("delivered", timestamp=-1),
        event("delivered", timestamp="-1"),
        event("delivered", timestamp=10**20),  # after the year 9999
    ],
)
def test_unknown_kinds_and_unusable_timestamps_are_not_acted_on(db: Engine, raw: dict[str, object]) -> None:
    row = one(db, raw)
    assert (row["acted"], row["occurred_at"], row["message_id"], row["natural_key"]) == (False, None, None, None)


def test_a_bounce_is_read_with_its_ids_time_and_failure(db: Engine) -> None:
    row = one(
        db,
        event(
            "bounce",
            sg_event_id="ZmFrZS1ldmVudA",
            sg_message_id="14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            tenant_id="7",
            message_id="1234",
            lead_id=99,
            status="5.1.1",
            reason="550 5.1.1 no such user",
        ),
    )
    assert row["occurred_at"] == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert (row["stamp"], row["sg_event_id"], row["provider_id"]) == ("1796137200", "ZmFrZS1ldmVudA", "14c5d75ce93")
    assert row["email"] == "lead1@example.com"
    assert (row["arg_tenant"], row["arg_message"], row["arg_lead"], row["by_args"]) == (7, 1234, 99, True)
    assert (row["error_code"], row["error"]) == ("5.1.1", "SendGrid bounce: 550 5.1.1 no such user")
    assert row["message_id"] is None, "no message 1234 of tenant 7 here"


@pytest.mark.parametrize(
    ("timestamp", "stamp", "at"),
    [
        (AT, "1796137200", datetime(2026, 12, 1, 15, 0, tzinfo=UTC)),
        (f" {AT} ", "1796137200", datetime(2026, 12, 1, 15, 0, tzinfo=UTC)),
        (AT + 0.25, "1796137200.250000", datetime(2026, 12, 1, 15, 0, 0, 250000, tzinfo=UTC)),
        (1.7961372e9, "1796137200", datetime(2026, 12, 1, 15, 0, tzinfo=UTC)),
    ],
)
def test_a_timestamp_is_a_number_or_a_string_holding_one(
    db: Engine, timestamp: object, stamp: str, at: datetime
) -> None:
    row = one(db, event("open", timestamp=timestamp))
    assert (row["acted"], row["stamp"], row["occurred_at"]) == (True, stamp, at)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("12", 12), (12, 12), ("0012", 12), ("x", None), (True, None), (0, None), (12.5, None), (2**63, None)],
)
def test_custom_args_are_our_positive_bigint_ids(db: Engine, value: object, parsed: int | None) -> None:
    row = one(db, event("open", message_id=value))
    assert (row["arg_message"], row["by_args"]) == (parsed, True)


def test_without_custom_args_the_event_falls_back_to_the_provider_id(db: Engine) -> None:
    row = one(db, event("open", sg_message_id="abc.def"))
    assert (row["arg_message"], row["by_args"], row["provider_id"]) == (None, False, "abc")


def test_a_long_event_id_is_kept_as_its_digest(db: Engine) -> None:
    row = one(db, event("open", sg_event_id="e" * 500))
    assert row["sg_event_id"] == "sha256:" + hashlib.sha256(b"e" * 500).hexdigest()


def test_an_event_is_matched_to_our_message_and_keyed_by_it(db: Engine) -> None:
    s = Scene(db, 2)
    url = "https://acme.example/pricing"
    row = one(db, s.ev(1, "click", AT, url=url))
    assert (row["message_id"], row["tenant_id"], row["lead_id"]) == (s.messages[1], s.tenant, s.leads[1])
    assert row["to_address"] == s.address(1)
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    assert row["natural_key"] == f"sendgrid:{s.messages[1]}:click:1796137200:{digest}"


def test_texts_postgresql_refuses_are_read_cleaned_and_stored_as_sent(db: Engine) -> None:
    """A NUL or a lone surrogate anywhere in a body makes PostgreSQL refuse the whole of it: that
    delivery is read through `storable`, the others of its batch as they are."""
    s = Scene(db, 1)
    body = json.dumps(
        [
            s.ev(0, "bounce", AT, reason="\ud800 lone", status="5.1.1"),
            s.ev(0, "click", AT + 1, url="https://a.example/\x00x", useragent="\x00"),
        ]
    )
    assert "\\u0000" in body
    assert "\\ud800" in body
    plain = store(db, json.dumps([s.ev(0, "open", AT + 2)]))
    refused = store(db, body)

    with runtime.session_scope() as session, session.begin():
        notes = sendgrid_apply.stage(session, [plain, refused])
        rows = session.execute(sa.text("SELECT * FROM sg_batch ORDER BY delivery_id, ordinal")).mappings().all()
        session.rollback()

    assert notes == {}
    assert [(r["delivery_id"], r["kind"], r["message_id"]) for r in rows] == [
        (plain, "open", s.messages[0]),
        (refused, "bounce", s.messages[0]),
        (refused, "click", s.messages[0]),
    ]
    assert rows[1]["error"] == "SendGrid bounce: ? lone"
    assert rows[2]["url"] == "https://a.example/x"
    assert sql(db, "SELECT body FROM webhook_deliveries WHERE id = :id", id=refused)[0].body == body


def test_a_stored_body_that_is_not_a_batch_is_noted_not_applied(db: Engine) -> None:
    rows, notes = staged(db, '{"event": "open"}')
    assert rows == []
    assert list(notes.values()) == ["not applied: expected a JSON array of events, got an object"]
