"""The recovery ladder as the plan interpreter climbs it, on real PostgreSQL and Redis, with the
clock injected: the scan starts an episode, each wait's timer (fired by `fire_due`, what the
planner agent runs every minute) sends the next rung, a reply through the Twilio door ends it,
and a paused campaign neither fires nor writes nor sends.

The tenant's ladder is the default 24/48/72 h, so (worked by hand) rung 1 goes at the scan, the
wait after it is 48 - 24 = 24 h, after rung 2 it is 72 - 48 = 24 h, and after rung 3 the lead
is given as long as the whole ladder (72 h) to answer before the enrollment completes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from rq import Queue
from sqlalchemy import Engine

from app import queue
from app.services import campaign_run, scan, send
from app.services.write import write_due
from tests.integration import twilio_door
from tests.integration.scan_world import make_lead, make_tenant

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a Friday, noon in the tenant's (UTC) zone
HOUR = timedelta(hours=1)
TENANT_NUMBER = "+15550004444"
LEAD_PHONE = "+15550101010"


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def sends(engine: Engine) -> list[tuple[Any, ...]]:
    """Every send the plan scheduled: node, channel, episode, due time and status."""
    found = sql(
        engine,
        "SELECT node, payload->>'channel' AS channel, (payload->>'episode')::int AS episode, due_at, status "
        "FROM scheduled_actions WHERE kind = 'send' ORDER BY due_at, id",
    )
    return [tuple(row) for row in found]


def timers(engine: Engine) -> list[tuple[Any, ...]]:
    found = sql(engine, "SELECT kind, node, due_at, status FROM scheduled_actions WHERE kind = 'wait' ORDER BY id")
    return [tuple(row) for row in found]


def enrollment(engine: Engine) -> tuple[Any, ...]:
    [row] = sql(engine, "SELECT status, current_node, rung, episode FROM enrollments")
    return tuple(row)


@pytest.fixture
def world(clean_db: Engine, redis_conn: redis.Redis) -> tuple[int, int]:
    tenant = make_tenant(clean_db, sender_phone=TENANT_NUMBER)
    lead = make_lead(clean_db, tenant, silent_hours=30, phone=LEAD_PHONE, consent_sms=True)
    return tenant, lead


def test_a_lead_climbs_the_three_rungs_as_its_silence_grows_and_stops_at_a_reply(
    world: tuple[int, int], clean_db: Engine, redis_conn: redis.Redis
) -> None:
    tenant, _ = world
    assert scan.scan_tenant(tenant_id=tenant, now=NOW).scheduled == 1
    assert sends(clean_db) == [("rung-1", "email", 1, NOW, "pending")]
    assert enrollment(clean_db) == ("active", "wait-1", 1, 1)

    assert campaign_run.fire_due(tenant_id=tenant, now=NOW + 23 * HOUR) == {"fired": 0}  # not yet due

    fired = campaign_run.fire_due(tenant_id=tenant, now=NOW + 24 * HOUR)
    assert (fired["fired"], fired["sends"]) == (1, 1)
    # rung 2 prefers SMS, and this lead has a consented phone
    assert sends(clean_db)[-1] == ("rung-2", "sms", 1, NOW + 24 * HOUR, "pending")
    assert enrollment(clean_db) == ("active", "wait-2", 2, 1)
    assert sql(clean_db, "SELECT silence_level FROM leads")[0].silence_level == 2

    campaign_run.fire_due(tenant_id=tenant, now=NOW + 48 * HOUR)
    assert [s[:2] for s in sends(clean_db)] == [("rung-1", "email"), ("rung-2", "sms"), ("rung-3", "email")]
    assert enrollment(clean_db) == ("active", "wait-3", 3, 1)
    assert timers(clean_db)[-1] == ("wait", "wait-3", NOW + (48 + 72) * HOUR, "pending")
    assert [t[3] for t in timers(clean_db)] == ["done", "done", "pending"]

    # The lead answers the last text, through Twilio's door (signed with the SDK's validator).
    for name in queue.QUEUES:  # the writer's wake-ups are not under test here
        Queue(name, connection=redis_conn).empty()
    client: TestClient = twilio_door.client_for(twilio_door.settings())
    fields = twilio_door.text_fields("SMreply9", "Yes - can we talk Monday?", sender=LEAD_PHONE, to=TENANT_NUMBER)
    assert twilio_door.post(client, twilio_door.SMS, fields).status_code == 200
    twilio_door.run_worker(redis_conn)

    assert enrollment(clean_db)[0] == "stopped"
    assert timers(clean_db)[-1][3] == "canceled"
    events = [r.event for r in sql(clean_db, "SELECT event FROM campaign_transitions ORDER BY id")]
    # then triage reads "Yes - can we talk Monday?" as interest and records it
    assert events == ["enrolled", "next", "wait", "next", "wait", "next", "replied", "triage_interested"]
    # Long after, nothing is due and nothing more is scheduled: no fourth message.
    assert campaign_run.fire_due(tenant_id=tenant, now=NOW + 30 * 24 * HOUR) == {"fired": 0}
    assert len(sends(clean_db)) == 3


def test_without_an_answer_the_enrollment_completes_after_the_last_wait(
    world: tuple[int, int], clean_db: Engine
) -> None:
    tenant, _ = world
    scan.scan_tenant(tenant_id=tenant, now=NOW)
    for hours in (24, 48, 48 + 72):
        campaign_run.fire_due(tenant_id=tenant, now=NOW + hours * HOUR)

    assert enrollment(clean_db) == ("completed", "done", 3, 1)
    [last] = sql(clean_db, "SELECT event, to_node FROM campaign_transitions ORDER BY id DESC LIMIT 1")
    assert tuple(last) == ("completed", "done")
    assert len(sends(clean_db)) == 3


def test_firing_twice_at_the_same_moment_sends_each_rung_once(world: tuple[int, int], clean_db: Engine) -> None:
    tenant, _ = world
    scan.scan_tenant(tenant_id=tenant, now=NOW)

    first = campaign_run.fire_due(tenant_id=tenant, now=NOW + 24 * HOUR)
    again = campaign_run.fire_due(tenant_id=tenant, now=NOW + 24 * HOUR)

    assert (first["fired"], again["fired"]) == (1, 0)
    assert [s[0] for s in sends(clean_db)] == ["rung-1", "rung-2"]


def test_a_paused_campaign_fires_nothing_writes_nothing_and_sends_nothing(
    world: tuple[int, int], clean_db: Engine
) -> None:
    tenant, _ = world
    scan.scan_tenant(tenant_id=tenant, now=NOW)
    sql(clean_db, "UPDATE campaigns SET status = 'paused'")

    assert campaign_run.fire_due(tenant_id=tenant, now=NOW + 24 * HOUR) == {"fired": 0}
    assert write_due(tenant_id=tenant, now=NOW)["claimed"] == 0
    assert sql(clean_db, "SELECT count(*) AS n FROM outbound_messages")[0].n == 0
    assert sends(clean_db) == [("rung-1", "email", 1, NOW, "pending")]

    # Resumed, the plan picks up where it stood: rung 1 is written, the wait fires.
    sql(clean_db, "UPDATE campaigns SET status = 'running'")
    assert write_due(tenant_id=tenant, now=NOW)["claimed"] == 1
    assert campaign_run.fire_due(tenant_id=tenant, now=NOW + 24 * HOUR)["fired"] == 1


def test_a_paused_campaigns_written_message_is_not_sent(world: tuple[int, int], clean_db: Engine) -> None:
    tenant, _ = world
    scan.scan_tenant(tenant_id=tenant, now=NOW)
    write_due(tenant_id=tenant, now=NOW)
    sql(clean_db, "UPDATE outbound_messages SET scheduled_for = now() - interval '1 minute'")
    sql(clean_db, "UPDATE campaigns SET status = 'paused'")

    outcome = send.send_due(tenant_id=tenant)

    assert outcome["claimed"] == 0
    assert [r.status for r in sql(clean_db, "SELECT status FROM outbound_messages")] == ["pending"]


def test_the_writer_keys_the_message_by_episode(world: tuple[int, int], clean_db: Engine) -> None:
    tenant, lead = world
    result = scan.scan_tenant(tenant_id=tenant, now=NOW)
    write_due(tenant_id=tenant, now=NOW)

    [message] = sql(clean_db, "SELECT dedupe_key, channel, node FROM outbound_messages")
    assert tuple(message) == (f"{tenant}:{result.campaign_id}:{lead}:e1:rung-1:email", "email", "rung-1")


THANK_YOU_PLAN = {
    "version": 2,
    "timezone": "UTC",
    "quiet_hours": {"start": 21, "end": 8},
    "send_window": {"start": 8, "end": 20},
    "start": "ask",
    "nodes": [
        {"id": "ask", "kind": "send", "channels": ["sms"], "brief": "ask for a call", "next": "wait"},
        {
            "id": "wait",
            "kind": "wait",
            "duration": "P2D",
            "next": "done",
            "transitions": [{"on": "replied", "to": "thanks"}],
        },
        {"id": "thanks", "kind": "send", "channels": ["sms"], "brief": "thank them", "next": "after"},
        {"id": "after", "kind": "wait", "duration": "P1D", "next": "done"},
        {"id": "done", "kind": "stop", "result": "completed"},
    ],
}


def test_a_plan_that_routes_a_reply_keeps_the_enrollment_and_takes_that_route(
    world: tuple[int, int], clean_db: Engine, redis_conn: redis.Redis
) -> None:
    tenant, lead = world
    [campaign] = sql(
        clean_db,
        "INSERT INTO campaigns (tenant_id, name, kind, status, plan) "
        "VALUES (:t, 'Ask then thank', 'sequence', 'running', CAST(:plan AS jsonb)) RETURNING id",
        t=tenant,
        plan=json.dumps(THANK_YOU_PLAN),
    )
    asked_at = twilio_door.AT - HOUR  # the Twilio door's clock is pinned; the campaign starts an hour before
    enrolled = campaign_run.enroll_leads(tenant_id=tenant, campaign_id=campaign.id, lead_ids=[lead], now=asked_at)
    assert enrolled["enrolled"] == 1
    for name in queue.QUEUES:
        Queue(name, connection=redis_conn).empty()

    client: TestClient = twilio_door.client_for(twilio_door.settings())
    fields = twilio_door.text_fields("SMreply7", "Sure, call me", sender=LEAD_PHONE, to=TENANT_NUMBER)
    assert twilio_door.post(client, twilio_door.SMS, fields).status_code == 200
    twilio_door.run_worker(redis_conn)

    # The reply did not stop it: the plan routes `replied` at `wait` to `thanks`.
    assert enrollment(clean_db)[:2] == ("active", "wait")
    [queued] = sql(clean_db, "SELECT payload->>'event' AS event FROM scheduled_actions WHERE kind = 'event'")
    assert queued.event == "replied"
    assert sql(clean_db, "SELECT recovery_state FROM leads")[0].recovery_state == "replied"

    assert campaign_run.fire_due(tenant_id=tenant, now=twilio_door.AT)["fired"] == 1
    assert [(s[0], s[1]) for s in sends(clean_db)] == [("ask", "sms"), ("thanks", "sms")]
    assert enrollment(clean_db)[:2] == ("active", "after")


def test_the_writer_keeps_a_message_inside_the_plans_own_hours(world: tuple[int, int], clean_db: Engine) -> None:
    """The tenant allows 08:00-20:00; this plan only 15:00-17:00. Written at 12:00, the message is
    scheduled for 15:00 the same day (the lead has no history, so no better window pulls it
    elsewhere); without the plan's hours the writer would have taken 12:00."""
    tenant, lead = world
    plan = {**THANK_YOU_PLAN, "send_window": {"start": 15, "end": 17}}
    [campaign] = sql(
        clean_db,
        "INSERT INTO campaigns (tenant_id, name, kind, status, plan) "
        "VALUES (:t, 'Afternoons', 'sequence', 'running', CAST(:plan AS jsonb)) RETURNING id",
        t=tenant,
        plan=json.dumps(plan),
    )
    campaign_run.enroll_leads(tenant_id=tenant, campaign_id=campaign.id, lead_ids=[lead], now=NOW)
    assert sends(clean_db)[0][3] == NOW.replace(hour=15)

    write_due(tenant_id=tenant, now=NOW)

    [message] = sql(clean_db, "SELECT scheduled_for FROM outbound_messages")
    assert message.scheduled_for == NOW.replace(hour=15)
