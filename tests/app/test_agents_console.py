"""The Agents page through AppTest against the real test Redis and PostgreSQL: queue depths
equal what was enqueued, a job failed by a real worker is listed and retried with the button,
workers and cron schedulers are read, the modes are labelled, and the outbox shows messages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import streamlit as st
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.registry import FailedJobRegistry
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app import queue
from pages import agent_machinery
from tests.app import factories
from tests.app.driver import metrics, open_page, signed_in, truncate, value
from tests.integration import jobs

SANDBOX_BODY = "Hi **there** <b>Lead</b>, still keen? [click](http://evil.example)"


@pytest.fixture
def world(engine: Engine, redis_conn: redis.Redis) -> Iterator[factories.World]:
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


def agents_page() -> AppTest:
    return open_page(signed_in("demo@acme.example", "demo"), "pages/agent_activity.py")


# A read-only st.dataframe has no widget id, so AppTest finds each table by a column only it has.
TABLES = {
    "queues": "deferred",
    "workers": "alive",
    "failed": "exc_summary",
    "cron": "every",
    "outbox": "provider_message_id",
}


def tables_named(at: AppTest, name: str) -> list[list[dict[str, object]]]:
    return [d.value.to_dict("records") for d in at.dataframe if TABLES[name] in d.value.columns]


def table(at: AppTest, name: str) -> list[dict[str, object]]:
    [rows] = tables_named(at, name)
    return rows


def test_queue_depths_equal_what_was_enqueued(world: factories.World, redis_conn: redis.Redis) -> None:
    acme = world.tenants["acme"]
    queue.enqueue(redis_conn, "send_due", tenant_id=acme)
    for _ in range(3):
        queue.enqueue(redis_conn, "write_due", tenant_id=acme)
    for _ in range(2):
        queue.enqueue(redis_conn, "heartbeat")

    at = agents_page()

    shown = metrics(at)
    assert (shown["Queue high"], shown["Queue default"], shown["Queue low"]) == ("1", "3", "2")
    assert shown["Workers alive"] == "0"
    assert [(r["name"], r["queued"]) for r in table(at, "queues")] == [("high", 1), ("default", 3), ("low", 2)]
    assert any(i.value.startswith("**No worker is running**") for i in at.info)


def test_a_failed_job_is_listed_and_the_button_puts_it_back(world: factories.World, redis_conn: redis.Redis) -> None:
    acme, birch = world.tenants["acme"], world.tenants["birch"]
    job_id = jobs.fail_on_queue(redis_conn, "default", tenant_id=acme, job_id="acme-write-failed")
    jobs.fail_on_queue(redis_conn, "default", tenant_id=birch, job_id="birch-write-failed")

    at = agents_page()

    [failed] = table(at, "failed")
    assert (failed["id"], failed["queue"], failed["function"], failed["exc_summary"]) == (
        job_id,
        "default",
        "tests.integration.jobs.explode",
        jobs.FAILURE,
    ), "acme's failed job only: birch's is not acme's business"
    assert at.selectbox(key=agent_machinery.RETRY_PICK).value == job_id

    at.button(key="agents.retry").click().run()

    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == [f"Job {job_id} is back in the 'default' queue."]
    assert Queue("default", connection=redis_conn).job_ids == [job_id]
    assert job_id not in FailedJobRegistry("default", connection=redis_conn)
    assert "birch-write-failed" in FailedJobRegistry("default", connection=redis_conn)
    assert metrics(at)["Queue default"] == "1"
    assert not tables_named(at, "failed"), "nothing of acme's is failed any more"

    SimpleWorker(["default"], connection=redis_conn).work(burst=True)  # it fails again: still the cause
    st.cache_data.clear()  # the figures' TTL has passed
    at.run()
    assert [r["id"] for r in table(at, "failed")] == [job_id]


def test_tenant_less_failed_jobs_are_for_admins_only(world: factories.World, redis_conn: redis.Redis) -> None:
    jobs.fail_on_queue(redis_conn, "high", tenant_id=None, job_id="sweep-failed")

    rep = agents_page()
    assert not tables_named(rep, "failed"), "a job of no tenant may concern any tenant: not a rep's"

    admin = open_page(signed_in("boss@acme.example", factories.ADMIN_PASSWORD), "pages/agent_activity.py")
    assert [r["id"] for r in table(admin, "failed")] == ["sweep-failed"]
    admin.button(key="agents.retry").click().run()
    assert [s.value for s in admin.success] == ["Job sweep-failed is back in the 'high' queue."]
    assert Queue("high", connection=redis_conn).job_ids == ["sweep-failed"]


def test_workers_and_cron_schedulers_are_shown(world: factories.World, redis_conn: redis.Redis) -> None:
    worker = SimpleWorker(["high", "default", "low"], connection=redis_conn, name="worker-on-show")
    worker.register_birth()
    cron = CronScheduler(connection=redis_conn, name="cron-on-show")
    cron.register(jobs.explode, queue_name="low", interval=60, name="explode")
    cron.register_birth()
    try:
        at = agents_page()
    finally:
        worker.register_death()

    shown = metrics(at)
    assert (shown["Workers alive"], shown["Cron schedulers"], shown["Cron jobs registered"]) == ("1", "1", "1")
    [listed] = table(at, "workers")
    assert (listed["name"], listed["alive"], listed["queues"]) == ("worker-on-show", "yes", "high, default, low")
    [entry] = table(at, "cron")
    assert (entry["scheduler"], entry["name"], entry["queue"], entry["every"]) == (
        "cron-on-show",
        "explode",
        "low",
        "every 60 s",
    )
    assert any(t.value.startswith("cron-on-show · ") for t in at.text)
    assert any(c.value.startswith("Newest heartbeat job") and "1 min ago" in c.value for c in at.caption)


def test_providers_and_ai_mode_are_labelled(world: factories.World) -> None:
    at = agents_page()

    assert at.subheader[0].value == "Providers and AI"
    badges = [m.value for m in at.markdown if "-badge[" in m.value][3:]  # after the mode strip
    assert badges[:3] == [":orange-badge[AI: offline]", ":orange-badge[Email: sandbox]", ":orange-badge[SMS: sandbox]"]
    captions = [c.value for c in at.caption]
    assert "Emails are stored in the sandbox, never sent." in captions
    assert "SMS are stored in the sandbox, never sent." in captions
    assert any(c.startswith("No API key: the offline writer") for c in captions)


def test_the_outbox_shows_sandbox_messages_as_written(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    lead = value(engine, "SELECT id FROM leads WHERE tenant_id = :t ORDER BY id LIMIT 1", t=acme)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            """INSERT INTO outbound_messages (tenant_id, lead_id, channel, to_address, subject, body, source,
                                             status, provider, provider_message_id, dedupe_key, sent_at)
               VALUES (%s, %s, 'email', 'lead0@acme-mail.example', 'Still keen?', %s, 'offline', 'sent',
                       'sandbox', 'sandbox-42', 'k1', now()),
                      (%s, %s, 'sms', '+15550001111', NULL, 'Quick one', 'offline', 'pending',
                       NULL, NULL, 'k2', NULL)""",
            (acme, lead, SANDBOX_BODY, acme, lead),
        )

    at = agents_page()

    outbox = table(at, "outbox")
    assert [(r["status"], r["channel"], r["to_address"]) for r in outbox] == [
        ("pending", "sms", "+15550001111"),
        ("sent", "email", "lead0@acme-mail.example"),
    ]
    assert (outbox[1]["provider_message_id"], outbox[1]["body"], outbox[1]["source"]) == (
        "sandbox-42",
        SANDBOX_BODY,
        "offline",
    )
    assert any(c.value == "Last 24 h: pending 1 · sent 1" for c in at.caption)
    assert any(c.value.startswith("Sandbox (email and SMS)") for c in at.caption)

    at.selectbox(key="agents.outbox_status").set_value("sent").run()
    assert [r["status"] for r in table(at, "outbox")] == ["sent"]


def test_held_messages_are_settled_from_the_outbox(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    lead = value(engine, "SELECT id FROM leads WHERE tenant_id = :t ORDER BY id LIMIT 1", t=acme)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            """INSERT INTO outbound_messages (tenant_id, lead_id, channel, to_address, body, status, provider,
                                             dedupe_key, attempts, claimed_at, last_error)
               VALUES (%s, %s, 'email', 'lead0@acme-mail.example', 'Hi', 'held', 'sendgrid', 'h1', 1,
                       now() - interval '2 hours', 'worker lost mid-send')""",
            (acme, lead),
        )

    at = agents_page()
    at.selectbox(key="agents.outbox_status").set_value("held").run()
    at.selectbox(key="agents.held_decision").set_value("failed").run()
    at.button(key="agents.held_settle").click().run()

    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == ["1 marked failed; 0 settled by the provider's events."]
    status = value(engine, "SELECT status FROM outbound_messages WHERE dedupe_key = 'h1'")
    assert status == "failed"
    assert tables_named(at, "outbox") == []  # the held list is empty now
