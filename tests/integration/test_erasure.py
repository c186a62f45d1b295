"""`python -m app erase-lead` on real PostgreSQL and Redis: afterwards the lead's email, phone,
names and words are nowhere in the database (every row of every table) or in Redis (every key,
compressed values opened), its counts and revenue are as they were, other leads are untouched,
and the same address imported again is never written to.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
import redis
from rq import Queue, SimpleWorker
from sqlalchemy import Engine

from app import cli
from app.services import send
from app.settings import load_settings
from tests.integration.outbox import make_messages, rows
from tests.integration.privacy_world import (
    EMAIL,
    NEEDLES,
    NEIGHBOUR_EMAIL,
    PHONE,
    build,
    database_dump,
    found_in_dump,
    found_in_redis,
    one,
    sql,
)


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def fail_naming_the_lead() -> None:
    """A job whose failure message names the lead, as an unhandled provider error would."""
    raise ValueError(f"could not reach {EMAIL} nor {PHONE}")


def digest(channel: str, address: str) -> str:
    """The stored digest, worked out here from its definition: sha256 of key:channel:address, the key
    an HMAC of the server's secret for the purpose 'lre.erasure.v1'."""
    secret = load_settings().secret_key.get_secret_value().encode()
    key = hmac.new(secret, b"lre.erasure.v1", hashlib.sha256).hexdigest()
    return "sha256:" + hashlib.sha256(f"{key}:{channel}:{address}".encode()).hexdigest()


def redis_with_the_lead(client: redis.Redis) -> None:
    """A failed RQ job whose traceback names the lead, a cache keyed by its phone, a value with its
    email, and a key that has nothing to do with it."""
    Queue("low", connection=client).enqueue(fail_naming_the_lead)
    SimpleWorker(["low"], connection=client).work(burst=True)
    client.set(f"lre:cache:contact:{PHONE}", "1")
    client.set("lre:cache:last-import", f'{{"rows": [{{"email": "{EMAIL}"}}]}}')
    client.set("lre:rl:tenant:1", "untouched")


def test_erase_lead_leaves_no_trace_in_the_database_or_redis_and_keeps_the_numbers(
    db: Engine, redis_conn: redis.Redis
) -> None:
    world = build(db)
    redis_with_the_lead(redis_conn)
    assert found_in_dump(database_dump(db), NEEDLES), "the world must hold the values before"
    assert found_in_redis(redis_conn, [EMAIL, PHONE]), "and so must Redis"
    numbers = """SELECT (SELECT count(*) FROM outbound_messages), (SELECT sum(value) FROM conversions),
                        (SELECT count(*) FROM activities), (SELECT count(*) FROM message_events),
                        (SELECT sum(cost_usd) FROM ai_generations), (SELECT count(*) FROM inbound_messages)"""
    before = sql(db, numbers)[0]

    assert cli.main(["erase-lead", "--lead-id", str(world.lead), "--yes"]) == 0

    assert found_in_dump(database_dump(db), NEEDLES) == []
    assert found_in_redis(redis_conn, NEEDLES) == []
    assert sql(db, numbers)[0] == before
    assert redis_conn.get("lre:rl:tenant:1") == b"untouched"
    lead = sql(db, "SELECT first_name, email, phone, recovery_state, erased_at FROM leads WHERE id = :l", l=world.lead)
    assert lead[0][:4] == ("Erased", None, None, "lost")
    assert lead[0].erased_at is not None
    assert sql(db, "SELECT status FROM outbound_messages WHERE lead_id = :l ORDER BY id", l=world.lead) == [
        ("sent",),
        ("canceled",),
    ]
    assert one(db, "SELECT status FROM enrollments WHERE lead_id = :l", l=world.lead) == "stopped"
    assert one(db, "SELECT count(*) FROM reply_labels WHERE tenant_id = :t", t=world.acme) == 1  # the neighbour's
    assert one(db, "SELECT prompt_hash FROM ai_generations WHERE lead_id = :l", l=world.lead).endswith(":erased")
    # Only digests remain of its addresses: its readable unsubscribe is gone, the neighbour's stays.
    suppressions = sql(
        db, "SELECT channel, address, reason FROM suppressions WHERE tenant_id = :t ORDER BY id", t=world.acme
    )
    assert sorted(suppressions) == sorted(
        [
            ("email", NEIGHBOUR_EMAIL, "unsubscribe"),
            ("email", digest("email", EMAIL), "erased"),
            ("sms", digest("sms", PHONE), "erased"),
        ]
    )
    # The neighbour's rows are as they were, including its half of the shared SendGrid batch.
    assert one(
        db, "SELECT body FROM outbound_messages WHERE lead_id = :l AND channel = 'email'", l=world.neighbour
    ) == ("Hi Ada Neighbour")
    assert one(db, "SELECT count(*) FROM webhook_deliveries WHERE strpos(body, :e) > 0", e=NEIGHBOUR_EMAIL) == 2
    # The text the lead sent is the lead's whole: its raw webhook is blanked, not just swept.
    assert sql(db, "SELECT body, headers FROM webhook_deliveries WHERE endpoint = 'twilio/sms'") == [("", {})]
    assert one(db, "SELECT email FROM leads WHERE id = :l", l=world.neighbour) == NEIGHBOUR_EMAIL


def test_the_same_person_in_another_tenant_keeps_their_data(db: Engine) -> None:
    world = build(db, namesake=True)

    assert cli.main(["erase-lead", "--lead-id", str(world.lead), "--yes"]) == 0

    birch = sql(db, "SELECT first_name, last_name, email, phone, erased_at FROM leads WHERE id = :l", l=world.namesake)
    assert birch == [("Zebulon", "Quistwhistle", EMAIL, PHONE, None)]
    assert one(db, "SELECT body FROM inbound_messages WHERE tenant_id = :t", t=world.birch).startswith("Zebulon here")
    assert sql(db, "SELECT channel, address, reason FROM suppressions WHERE tenant_id = :t", t=world.birch) == [
        ("email", EMAIL, "unsubscribe")
    ]


def test_the_address_imported_again_is_suppressed_and_never_sent_to(db: Engine, tmp_path: Path) -> None:
    world = build(db)
    assert cli.main(["erase-lead", "--lead-id", str(world.lead), "--yes"]) == 0
    upper = EMAIL.upper()  # the file spells it differently; the intake stores it lower-cased
    path = tmp_path / "again.csv"
    path.write_text(f"First name,Last name,Email,Phone\nZeb,Q,{upper},{PHONE}\n", encoding="utf-8")

    assert cli.main(["import-leads", str(path), "--tenant", "acme"]) == 0

    again = one(db, "SELECT id FROM leads WHERE tenant_id = :t AND email = :e", t=world.acme, e=EMAIL)
    plain = sql(
        db,
        "SELECT channel, address FROM suppressions"
        " WHERE tenant_id = :t AND reason = 'erased' AND address NOT LIKE 'sha256:%'",
        t=world.acme,
    )
    assert sorted(plain) == [("email", EMAIL), ("sms", PHONE)]
    ids = make_messages(db, world.acme, [again]) + make_messages(db, world.acme, [again], channel="sms")
    send.send_due(settings=load_settings())
    assert {row["status"] for row in rows(db, ids)} == {"suppressed"}


def test_erasing_twice_changes_nothing_and_an_unknown_lead_is_an_error(
    db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build(db)
    assert cli.main(["erase-lead", "--lead-id", str(world.lead), "--yes"]) == 0
    state = """SELECT (SELECT erased_at FROM leads WHERE id = :l),
                      (SELECT array_agg(address ORDER BY address) FROM suppressions),
                      (SELECT array_agg(status ORDER BY id) FROM outbound_messages),
                      (SELECT array_agg(prompt_hash ORDER BY id) FROM ai_generations)"""
    first = sql(db, state, l=world.lead)

    assert cli.main(["erase-lead", "--lead-id", str(world.lead), "--yes"]) == 0
    assert cli.main(["erase-lead", "--lead-id", "987654321", "--yes"]) == 2

    assert sql(db, state, l=world.lead) == first
    assert "no lead 987654321" in capsys.readouterr().err


def test_without_yes_the_command_asks_and_a_wrong_answer_erases_nothing(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build(db)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    assert cli.main(["erase-lead", "--lead-id", str(world.lead)]) == 1

    assert one(db, "SELECT email FROM leads WHERE id = :l", l=world.lead) == EMAIL
