"""No personal data where it would outlive its purpose or be read by everyone: the jobs the
product queues in Redis carry ids only, every job function takes ids only, a provider's refusal
that quotes the number is stored without it, and a failed agent's stored error loses addresses."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

import pytest
import redis
from fastapi.testclient import TestClient
from rq import Queue, SimpleWorker
from sqlalchemy import Engine

from app import queue
from app.services import agent_runs, scan, send, tick
from app.settings import load_settings
from tests.fakes import sendgrid_server, twilio_server
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.fakes.twilio_server import FakeTwilio
from tests.integration import twilio_door
from tests.integration.intake_world import NOW, build, client_at, post
from tests.integration.outbox import make_leads, make_messages, make_tenant, rows, twilio_settings
from tests.integration.privacy_world import found_in_redis, one
from tests.support import midday_zone

EMAIL = "marguerite.okonkwo@example.org"
PHONE = "+14155552671"


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


@contextmanager
def api() -> Iterator[TestClient]:
    yield from client_at(NOW)


def test_the_jobs_a_lead_sets_off_carry_ids_only(db: Engine, redis_conn: redis.Redis) -> None:
    world = build(db)
    lead = {"external_id": "crm-7", "first_name": "Marguerite", "last_name": "Okonkwo", "email": EMAIL, "phone": PHONE}
    with api() as client:
        assert post(client, "/api/leads", world.key, {"leads": [lead]}).status_code == 200
    scan.request_writes(world.acme)
    tick.enqueue_tick(tenant_ids=[world.acme])

    jobs = [job for name in queue.QUEUES for job in Queue(name, connection=redis_conn).jobs]
    assert {job.func_name for job in jobs} >= {"agents.scorer.rescore_pending", "agents.writer.write_due"}
    for job in jobs:
        assert job.args == ()
        assert all(isinstance(value, int) for value in job.kwargs.values()), (job.func_name, job.kwargs)
    assert found_in_redis(redis_conn, [EMAIL, PHONE, "Marguerite", "Okonkwo"]) == []


@pytest.mark.parametrize(("name", "target"), sorted(queue.JOBS.items()))
def test_every_job_takes_ids_and_numbers_only(name: str, target: tuple[str, str]) -> None:
    module, _, function = target[0].rpartition(".")
    signature = inspect.signature(getattr(import_module(module), function))
    for parameter in signature.parameters.values():
        assert parameter.annotation in {"int", "int | None", "list[int] | None"}, (name, parameter)


def test_a_refusal_quoting_the_number_is_stored_without_it(db: Engine, twilio: FakeTwilio) -> None:
    tenant_id = make_tenant(db)
    [lead_id] = make_leads(db, tenant_id, 1, timezone=midday_zone())  # inside the SMS hours now
    [message_id] = make_messages(db, tenant_id, [lead_id], channel="sms")
    number = one(db, "SELECT phone FROM leads WHERE id = :l", l=lead_id)
    twilio.refuse(number, twilio_server.invalid_number(number))

    send.send_due(settings=twilio_settings(twilio))

    [row] = rows(db, [message_id])
    assert row["status"] == "failed"
    assert row["last_error"].endswith("Invalid 'To' Phone Number: [phone]")
    assert number not in row["last_error"]


def fail_naming_a_lead(tenant_id: int | None = None) -> None:
    """An agent whose failure message quotes a lead's address, as a database error's detail does."""
    with agent_runs.tracked_run(agent="writer", tenant_id=tenant_id):
        raise ValueError(f"Key (email)=({EMAIL}) already exists; phone {PHONE}")


def test_a_failed_agents_stored_error_names_no_address(db: Engine, redis_conn: redis.Redis) -> None:
    tenant_id = make_tenant(db)
    Queue("default", connection=redis_conn).enqueue(fail_naming_a_lead, kwargs={"tenant_id": tenant_id})
    SimpleWorker(["default"], connection=redis_conn).work(burst=True)

    error = one(db, "SELECT error FROM agent_runs WHERE agent = 'writer'")
    assert error == "ValueError: Key (email)=([email]) already exists; phone [phone]"


def test_a_stray_text_is_stored_with_a_note_that_names_no_number(db: Engine) -> None:
    make_tenant(db, sender_phone="+15557770000")
    with twilio_door.client_for(twilio_door.settings()) as client:
        answer = twilio_door.post(
            client, twilio_door.SMS, twilio_door.text_fields("SMstray", "hello?", sender=PHONE, to="+15551112222")
        )

    assert answer.status_code == 200
    assert one(db, "SELECT error FROM webhook_deliveries") == "no tenant texts [phone] from [phone]"


def test_what_providers_keep_beside_the_message_is_ids_only(
    db: Engine, sendgrid: FakeSendGrid, twilio: FakeTwilio
) -> None:
    tenant_id = make_tenant(db)
    leads = make_leads(db, tenant_id, 2, timezone=midday_zone())  # inside the SMS hours now
    make_messages(db, tenant_id, leads)
    make_messages(db, tenant_id, leads, channel="sms")
    settings = load_settings(
        email_provider="sendgrid",
        sendgrid_api_key=sendgrid_server.API_KEY,
        sendgrid_api_host=sendgrid.url,
        sms_provider="twilio",
        twilio_account_sid=twilio_server.ACCOUNT_SID,
        twilio_auth_token=twilio_server.AUTH_TOKEN,
        twilio_api_base_url=twilio.url,
        twilio_from_number="+15550009999",
        public_base_url="https://lre.example",
    )

    assert send.send_due(settings=settings)["sent"] == 4

    custom_args = [p["custom_args"] for mail in sendgrid.mails() for p in mail["personalizations"]]
    assert len(custom_args) == 2
    assert all(set(args) <= {"tenant_id", "message_id", "lead_id", "campaign_id"} for args in custom_args)
    assert all(value.isdigit() for args in custom_args for value in args.values())
    callbacks = [form["StatusCallback"] for form in twilio.forms()]
    assert len(callbacks) == 2
    assert all(
        re.fullmatch(r"https://lre\.example/webhooks/twilio/status\?[a-z_]+=\d+(&[a-z_]+=[\w.-]+)*", c)
        for c in callbacks
    ), callbacks
