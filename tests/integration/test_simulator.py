"""The demo's leads answer through the api's own doors: the simulator POSTs signed webhooks to a running
`uvicorn app.api:app`, the listener applies them on a real RQ worker, and the database shows the loop.

Expectations are read with SQL written here: what the api stored raw is compared with what was
applied, and every rule is checked row by row (a bounce suppresses its address, a STOP its
number, a reply stops its lead's recovery), never against the simulator's own script.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from rq import SimpleWorker
from sqlalchemy import Engine

from app import queue, webhook_keys
from app.services import simulator
from app.settings import Settings, get_settings, load_settings
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SENT_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
MESSAGES_PER_CHANNEL = 300
SENDER_PHONE = "+15550007777"
UP_DEADLINE_S = 60.0


def rows(engine: Engine, sql: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params).all())


def value(engine: Engine, sql: str, **params: Any) -> Any:
    return rows(engine, sql, **params)[0][0]


@pytest.fixture
def demo_settings(tmp_path: Path) -> Settings:
    settings = load_settings(data_dir=tmp_path, public_base_url=f"http://127.0.0.1:{free_port()}")
    webhook_keys.ensure_demo_keys(settings)
    return settings


@pytest.fixture
def api(demo_settings: Settings, database_url: str, redis_url: str) -> Iterator[str]:
    """The api process as the Procfile starts it, verifying with the demo's keys."""
    base = str(demo_settings.public_base_url).rstrip("/")
    port = base.rsplit(":", 1)[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(demo_settings.data_dir),
        "PUBLIC_BASE_URL": base,
    }
    uvicorn = Path(sys.executable).with_name("uvicorn")
    process = subprocess.Popen(
        [str(uvicorn), "app.api:app", "--host", "127.0.0.1", "--port", port, "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + UP_DEADLINE_S
        while not healthy(base):
            assert process.poll() is None, "the api exited"
            assert time.monotonic() < deadline, "the api did not answer /healthz"
            time.sleep(0.1)  # polling a starting process, not synchronising the test
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 - our api
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture
def sandbox_sends(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    """One tenant, 300 leads with an email and a phone, each in an active recovery, each sent one
    sandbox email and one sandbox text five hours ago (long enough for every scripted step)."""
    with clean_db.begin() as conn:
        tenant = conn.execute(
            sa.text(
                "INSERT INTO tenants (slug, name, sender_name, sender_phone) "
                "VALUES ('sunny', 'Sunny Solar', 'Sunny', :phone) RETURNING id"
            ),
            {"phone": SENDER_PHONE},
        ).scalar_one()
        campaign = conn.execute(
            sa.text("INSERT INTO campaigns (tenant_id, name, status) VALUES (:t, 'Win back', 'running') RETURNING id"),
            {"t": tenant},
        ).scalar_one()
        conn.execute(
            sa.text("""
                INSERT INTO leads (tenant_id, external_id, first_name, email, phone, consent_sms, last_activity_at,
                                   recovery_state)
                SELECT :t, 'lead-' || n, 'Lead' || n, 'lead' || n || '@example.com', '+1555' || lpad(n::text, 7, '0'),
                       true, :quiet, 'in_recovery'
                FROM generate_series(1, :n) AS n
            """),
            {"t": tenant, "n": MESSAGES_PER_CHANNEL, "quiet": SENT_AT - timedelta(days=3)},
        )
        conn.execute(
            sa.text("""
                INSERT INTO enrollments (tenant_id, campaign_id, lead_id, current_node, rung, status)
                SELECT :t, :c, id, 'rung-1', 1, 'active' FROM leads
            """),
            {"t": tenant, "c": campaign},
        )
        conn.execute(
            sa.text("""
                INSERT INTO outbound_messages (tenant_id, campaign_id, enrollment_id, lead_id, node, channel,
                                               to_address, subject, body, status, provider, provider_message_id,
                                               sent_at, dedupe_key)
                SELECT e.tenant_id, e.campaign_id, e.id, l.id, 'rung-1', ch.channel,
                       CASE ch.channel WHEN 'email' THEN l.email ELSE l.phone END, 'Hello', 'Hi', 'sent', 'sandbox',
                       'sandbox-' || ch.channel || '-' || l.id, :sent_at, 'sim:' || l.id || ':' || ch.channel
                FROM leads AS l JOIN enrollments AS e ON e.lead_id = l.id
                CROSS JOIN (VALUES ('email'), ('sms')) AS ch(channel)
            """),
            {"sent_at": SENT_AT},
        )
    return clean_db


def apply_on_a_worker(redis_url: str) -> None:
    connection = redis.Redis.from_url(redis_url)
    queue.enqueue(connection, "apply_webhooks")  # the route enqueued one; the sweep's own run is harmless
    SimpleWorker(queue.QUEUES, connection=connection).work(burst=True)


def test_the_demo_leads_answer_through_the_api_and_the_loop_applies_it(
    api: str, demo_settings: Settings, sandbox_sends: Engine, redis_url: str
) -> None:
    engine = sandbox_sends
    signer = webhook_keys.demo_signer(demo_settings)
    assert signer is not None
    window = (SENT_AT, SENT_AT + timedelta(hours=5))

    posted = simulator.post_window(*window, settings=demo_settings, signer=signer, channels=["email", "sms"])
    apply_on_a_worker(redis_url)

    assert posted["failed"] == 0
    assert posted["posted"] > 0
    # Nothing was refused, and everything accepted was applied.
    assert (
        value(engine, "SELECT count(*) FROM webhook_deliveries WHERE result <> 'applied' AND endpoint <> 'twilio/sms'")
        == 0
    )
    assert value(engine, "SELECT count(*) FROM webhook_deliveries WHERE signature_valid IS NOT TRUE") == 0

    kinds = {r.event_type: r.n for r in rows(engine, "SELECT event_type, count(*) AS n FROM message_events GROUP BY 1")}
    # 300 emails at the documented 97 % delivery, 3 % bounce, 35 % opens: each kind is there.
    for kind in ("delivered", "bounce", "open", "click"):
        assert kinds.get(kind, 0) > 0, (kind, kinds)
    # Every email event the api stored landed once (SQL over the stored raw bodies).
    stored = value(
        engine,
        """SELECT count(DISTINCT e->>'sg_event_id') FROM webhook_deliveries AS d,
                  jsonb_array_elements(CAST(d.body AS jsonb)) AS e WHERE d.endpoint = 'sendgrid/events'""",
    )
    assert value(engine, "SELECT count(*) FROM message_events WHERE channel = 'email'") == stored

    # Every bounced address is suppressed, and its lead's recovery stopped with a transition.
    bounced = rows(
        engine,
        """SELECT m.to_address, m.lead_id FROM message_events AS e JOIN outbound_messages AS m ON m.id = e.message_id
           WHERE e.event_type = 'bounce'""",
    )
    suppressed = {
        (r.channel, r.address): r.reason for r in rows(engine, "SELECT channel, address, reason FROM suppressions")
    }
    assert all(suppressed.get(("email", b.to_address)) == "bounce" for b in bounced)
    assert value(engine, "SELECT count(*) FROM outbound_messages WHERE channel = 'email' AND status = 'failed'") == len(
        bounced
    )

    # Texts: delivered statuses moved the rows, STOPs suppressed their numbers, replies were stored.
    assert value(engine, "SELECT count(*) FROM outbound_messages WHERE channel = 'sms' AND status = 'delivered'") > 0
    inbound = rows(engine, "SELECT from_address, body, lead_id FROM inbound_messages")
    stops = rows(engine, "SELECT address FROM suppressions WHERE channel = 'sms' AND reason = 'stop'")
    assert inbound, "some demo leads replied by text"
    assert stops, "some demo leads texted STOP"
    replied = {r.lead_id for r in inbound}
    stopped = {
        r.lead_id
        for r in rows(
            engine,
            """SELECT e.lead_id FROM enrollments AS e JOIN campaign_transitions AS t ON t.enrollment_id = e.id
               WHERE t.event = 'replied' AND e.status = 'stopped'""",
        )
    }
    assert replied <= stopped
    assert {
        r.recovery_state
        for r in rows(engine, "SELECT recovery_state FROM leads WHERE id = ANY(:ids)", ids=list(replied))
    } == {"replied"}

    # A replayed window posts again and changes nothing.
    before = value(engine, "SELECT count(*) FROM message_events") + value(
        engine, "SELECT count(*) FROM inbound_messages"
    )
    again = simulator.post_window(*window, settings=demo_settings, signer=signer, channels=["email", "sms"])
    apply_on_a_worker(redis_url)
    assert again["failed"] == 0
    after = value(engine, "SELECT count(*) FROM message_events") + value(
        engine, "SELECT count(*) FROM inbound_messages"
    )
    assert after == before


def test_outside_the_demo_the_simulator_posts_nothing(tmp_path: Path) -> None:
    no_keys = load_settings(data_dir=tmp_path)
    assert simulator.simulate(settings=no_keys) == {"skipped": 1}


@pytest.fixture
def job_settings(demo_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The environment the simulator job reads under `make run`: the demo's data folder (its keys
    and inbound secret) and the api's public URL, as this process's settings."""
    monkeypatch.setenv("DATA_DIR", str(demo_settings.data_dir))
    monkeypatch.setenv("PUBLIC_BASE_URL", str(demo_settings.public_base_url).rstrip("/"))
    get_settings.cache_clear()
    yield get_settings()
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_simulator_job_posts_emailed_replies_through_the_inbound_parse_door(
    api: str, job_settings: Settings, sandbox_sends: Engine, redis_url: str
) -> None:
    engine = sandbox_sends
    connection = redis.Redis.from_url(redis_url)
    connection.set(simulator.CURSOR_KEY, SENT_AT.timestamp())  # the last run was when the mail went out

    queue.enqueue(connection, "simulate_engagement")
    SimpleWorker(queue.QUEUES, connection=connection).work(burst=True)

    run = rows(engine, "SELECT status, counts FROM agent_runs WHERE agent = 'simulator'")
    assert [r.status for r in run] == ["succeeded"]
    assert run[0].counts.get("failed", 0) == 0
    # What the door stored: Inbound Parse's multipart form, never refused, each applied.
    door = rows(engine, "SELECT result, body FROM webhook_deliveries WHERE endpoint = 'sendgrid/inbound'")
    assert door, "some demo leads answered by email"
    assert {r.result for r in door} == {"applied"}
    # Each delivery became one emailed reply of the lead we wrote to, its quote and signature cut.
    replies = rows(
        engine,
        """SELECT i.id, i.lead_id, i.from_address, i.body, i.intent, i.sentiment, i.priority, i.suggested_reply,
                  m.lead_id AS our_lead, m.to_address, m.channel AS our_channel
           FROM inbound_messages AS i JOIN outbound_messages AS m ON m.id = i.message_id
           WHERE i.channel = 'email'""",
    )
    assert len(replies) == len(door) == run[0].counts["email_replies"]
    for reply in replies:
        assert (reply.lead_id, reply.from_address, reply.our_channel) == (reply.our_lead, reply.to_address, "email")
        assert reply.body
        assert "wrote:" not in reply.body
        assert ">" not in reply.body
        # Triaged within the request: every field the inbox shows is there.
        assert reply.intent in {
            "interested",
            "question",
            "not_now",
            "not_interested",
            "unsubscribe",
            "out_of_office",
            "wrong_person",
        }
        assert reply.sentiment
        assert reply.priority
        assert reply.suggested_reply is not None
    lead_ids = [r.lead_id for r in replies]
    # An activity that resets each lead's silence, and its recovery stopped as replied, with triage's transition.
    activity = rows(
        engine,
        "SELECT lead_id, channel, (details->>'inbound_message_id')::bigint AS reply FROM activities "
        "WHERE kind = 'email_in'",
    )
    assert sorted((a.lead_id, a.channel, a.reply) for a in activity) == sorted(
        (r.lead_id, "email", r.id) for r in replies
    )
    silence = rows(
        engine,
        "SELECT count(*) FROM leads WHERE id = ANY(:ids) AND last_activity_at > :sent",
        ids=lead_ids,
        sent=SENT_AT,
    )
    assert silence[0][0] == len(set(lead_ids))
    events = rows(
        engine,
        """SELECT e.lead_id, e.status, array_agg(t.event ORDER BY t.id) AS events
           FROM enrollments AS e JOIN campaign_transitions AS t ON t.enrollment_id = e.id
           WHERE e.lead_id = ANY(:ids) GROUP BY e.lead_id, e.status""",
        ids=lead_ids,
    )
    assert len(events) == len(set(lead_ids))
    for enrollment in events:
        assert enrollment.status == "stopped"
        assert "replied" in enrollment.events
        assert any(event.startswith("triage_") for event in enrollment.events)

    # The next run (or a replay of the window) stores nothing twice: the reply's Message-ID is stable.
    connection.set(simulator.CURSOR_KEY, SENT_AT.timestamp())
    queue.enqueue(connection, "simulate_engagement")
    SimpleWorker(queue.QUEUES, connection=connection).work(burst=True)
    assert value(engine, "SELECT count(*) FROM inbound_messages WHERE channel = 'email'") == len(replies)
    assert value(engine, "SELECT count(*) FROM activities WHERE kind = 'email_in'") == len(replies)
