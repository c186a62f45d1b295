"""Enrolling and firing step once per class of leads, and every lead still gets exactly its own step.

An A/B campaign (a branch on deal value, two-variant sends, a wait, a second send) enrolls leads
that differ in zone, channels, deal value, suppression, an earlier episode, or a running
enrollment elsewhere. The messages are worked out by hand at a pinned clock (Friday 12:00 UTC:
07:00 in New York, 06:00 in Chicago, noon in London; SMS and email from 08:00 local); then every
row the services wrote (the enrollment's state, the sends with their variants, the timer, the
audit) is checked against the plain `step` of that lead alone, on enrolling and on firing.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from app.domain.plan import (
    Complete,
    Enrolled,
    EnrollmentState,
    LeadFacts,
    Moved,
    Plan,
    Send,
    Stop,
    TimerFired,
    parse_plan,
    state_from_json,
    step,
    variant_draw,
)
from app.domain.plan.state import NO_FACTS
from app.services import campaign_run
from tests.integration.scan_world import make_lead, make_tenant, suppress

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
ENDS = [{"on": "replied", "to": "stop"}]
PLAN = {
    "version": 2,
    "timezone": "America/Chicago",
    "quiet_hours": {"start": 21, "end": 8},
    "send_window": {"start": 8, "end": 20},
    "start": "vip?",
    "nodes": [
        {
            "id": "vip?",
            "kind": "branch",
            "cases": [{"if": {"field": "deal_value", "op": ">=", "value": 5000}, "to": "vip-1"}],
            "else": "offer-1",
        },
        {
            "id": "offer-1",
            "kind": "send",
            "rung": 1,
            "channels": ["email", "sms"],
            "brief": "an offer",
            "variants": [{"name": "A", "weight": 1}, {"name": "B", "weight": 1, "template": "t-b"}],
            "next": "wait-1",
        },
        {"id": "vip-1", "kind": "send", "rung": 1, "channels": ["sms", "email"], "template": "t-vip", "next": "wait-1"},
        {"id": "wait-1", "kind": "wait", "duration": "PT24H", "next": "offer-2", "transitions": ENDS},
        {
            "id": "offer-2",
            "kind": "send",
            "rung": 2,
            "channels": ["sms", "email"],
            "brief": "the last word",
            "variants": [{"name": "A", "weight": 1}, {"name": "B", "weight": 3, "brief": "a call offer"}],
            "next": "done",
        },
        {"id": "done", "kind": "stop"},
        {"id": "stop", "kind": "stop", "result": "stopped"},
    ],
}


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


@pytest.fixture
def world(clean_db: Engine, redis_conn: redis.Redis) -> dict[str, Any]:
    tenant = make_tenant(clean_db)
    [campaign, elsewhere] = [
        row.id
        for row in sql(
            clean_db,
            "INSERT INTO campaigns (tenant_id, name, kind, status, plan) VALUES "
            "(:t, 'Offer A/B', 'sequence', 'running', CAST(:plan AS jsonb)), (:t, 'Nurture', 'sequence', 'running', "
            "'{}') RETURNING id",
            t=tenant,
            plan=json.dumps(PLAN),
        )
    ]
    phone = {"consent_sms": True}
    leads = {
        "ny_vip": make_lead(
            clean_db, tenant, timezone="America/New_York", phone="+15550100001", deal_value=8000, **phone
        ),
        "london": make_lead(clean_db, tenant, timezone="Europe/London", deal_value=100, stage="new"),
        "london_twin": make_lead(clean_db, tenant, timezone="Europe/London", deal_value=900, stage="qualified"),
        "chicago_sms": make_lead(
            clean_db, tenant, timezone="America/Chicago", email=None, phone="+15550100002", **phone
        ),
        "nowhere": make_lead(clean_db, tenant, timezone="Mars/Base", deal_value=100),
        "unreachable": make_lead(clean_db, tenant, email=None),
        "suppressed": make_lead(clean_db, tenant, timezone="Europe/London", email="gone@example.com"),
        "busy": make_lead(clean_db, tenant, timezone="Europe/London"),
        "again": make_lead(clean_db, tenant, timezone="Europe/London", deal_value=100),
        "london_other_arm": make_lead(clean_db, tenant, timezone="Europe/London", deal_value=100),
    }
    suppress(clean_db, tenant, "email", "gone@example.com")
    sql(
        clean_db,
        "INSERT INTO enrollments (tenant_id, campaign_id, lead_id, status, episode) VALUES "
        "(:t, :elsewhere, :busy, 'active', 1), (:t, :campaign, :again, 'completed', 1)",
        t=tenant,
        elsewhere=elsewhere,
        campaign=campaign,
        busy=leads["busy"],
        again=leads["again"],
    )
    return {"tenant": tenant, "campaign": campaign, "leads": leads}


HUNDRED = ("london", "nowhere", "again", "london_other_arm")


def facts(name: str) -> LeadFacts:
    """Each lead as the plan sees it, written out by hand from the world above."""
    zone = {"ny_vip": "America/New_York", "chicago_sms": "America/Chicago", "nowhere": "Mars/Base"}.get(name)
    return LeadFacts(
        timezone=zone or ("UTC" if name == "unreachable" else "Europe/London"),
        email_ok=name not in ("chicago_sms", "unreachable", "suppressed"),
        sms_ok=name in ("ny_vip", "chicago_sms"),
        deal_value=8000.0
        if name == "ny_vip"
        else 900.0
        if name == "london_twin"
        else 100.0
        if name in HUNDRED
        else 0.0,
        stage={"london_twin": "qualified"}.get(name, "new"),
        source="unknown",
    )


def sends(engine: Engine, lead: int) -> list[tuple[Any, ...]]:
    found = sql(
        engine,
        "SELECT node, payload->>'channel' AS channel, due_at, payload->>'variant' AS variant, "
        "(payload->>'episode')::int AS episode, payload->>'template' AS template, payload->>'brief' AS brief "
        "FROM scheduled_actions WHERE lead_id = :lead AND kind = 'send' ORDER BY id",
        lead=lead,
    )
    return [tuple(row) for row in found]


def stored(engine: Engine, lead: int, campaign: int) -> tuple[EnrollmentState, int]:
    [row] = sql(
        engine, "SELECT id, state FROM enrollments WHERE lead_id = :lead AND campaign_id = :c", lead=lead, c=campaign
    )
    return state_from_json(row.state), row.id


def audit(engine: Engine, enrollment: int) -> list[tuple[Any, ...]]:
    found = sql(
        engine,
        "SELECT from_node, to_node, event, reason FROM campaign_transitions WHERE enrollment_id = :e ORDER BY id",
        e=enrollment,
    )
    return [tuple(row) for row in found]


def expected_rows(after: EnrollmentState, actions: tuple[Any, ...], source: str) -> dict[str, Any]:
    """What plain `step` says the rows should be: the state without facts, the sends, the audit."""
    moves: list[tuple[Any, ...]] = []
    for action in actions:
        if isinstance(action, Moved):
            moves.append((action.from_node, action.to_node, action.trigger, source))
        elif isinstance(action, Complete | Stop):
            event = "completed" if isinstance(action, Complete) else "stopped"
            moves.append((after.node, after.node, event, action.reason))
    return {
        "state": replace(after, facts=NO_FACTS),
        "sends": [
            (a.node, a.channel, a.not_before, a.variant, a.episode, a.template, a.brief)
            for a in actions
            if isinstance(a, Send)
        ],
        "audit": moves,
    }


def test_each_lead_gets_its_own_step_on_enrolling_and_on_firing(world: dict[str, Any], clean_db: Engine) -> None:
    tenant, campaign, leads = world["tenant"], world["campaign"], world["leads"]
    plan = parse_plan(PLAN)
    assert isinstance(plan, Plan)

    summary = campaign_run.enroll_leads(tenant_id=tenant, campaign_id=campaign, lead_ids=list(leads.values()), now=NOW)

    assert (summary["enrolled"], summary["busy"], summary["sends"], summary["timers"]) == (9, 1, 7, 7)
    # worked by hand: the first message, its channel and its moment (UTC)
    firsts = {name: [s[:3] for s in sends(clean_db, lead)] for name, lead in leads.items()}
    assert firsts == {
        "ny_vip": [("vip-1", "sms", NOW + H)],  # a VIP; 07:00 in New York, the SMS waits for 08:00
        "london": [("offer-1", "email", NOW)],  # noon in London
        "london_twin": [("offer-1", "email", NOW)],
        "chicago_sms": [("offer-1", "sms", NOW + 2 * H)],  # no email: SMS, at 08:00 in Chicago
        "nowhere": [("offer-1", "email", NOW + 2 * H)],  # no real zone: the plan's (Chicago)
        "unreachable": [],
        "suppressed": [],
        "busy": [],
        "again": [("offer-1", "email", NOW)],
        "london_other_arm": [("offer-1", "email", NOW)],
    }
    assert [s[4] for s in sends(clean_db, leads["again"])] == [2]  # its second episode
    # the same zone, channels and branch, but their draws fall in different arms: two classes
    arms = {name: sends(clean_db, leads[name])[0][3] for name in ("london", "london_twin", "london_other_arm")}
    assert arms == {"london": "B", "london_twin": "B", "london_other_arm": "A"}

    # every row, against the plain step of that lead alone
    states: dict[str, EnrollmentState] = {}
    for name, lead in leads.items():
        if name == "busy":
            continue
        episode = 2 if name == "again" else 1
        draw = variant_draw(f"{tenant}:{campaign}:{lead}")
        after, actions = step(plan, EnrollmentState(episode=episode - 1), Enrolled(facts(name), episode, draw), NOW)
        state, enrollment = stored(clean_db, lead, campaign)
        want = expected_rows(after, actions, "launch")
        assert (state, sends(clean_db, lead), audit(clean_db, enrollment)) == (
            want["state"],
            want["sends"],
            want["audit"],
        ), name
        states[name] = after

    # a day after the last first message, every wait has run out: each lead's rung 2
    later = NOW + 26 * H
    fired = campaign_run.fire_due(tenant_id=tenant, now=later)

    assert (fired["fired"], fired["sends"]) == (7, 7)
    for name, before in states.items():
        lead = leads[name]
        state, enrollment = stored(clean_db, lead, campaign)
        if before.timer is None:
            assert state == replace(before, facts=NO_FACTS), name
            continue
        after, actions = step(plan, before, TimerFired(before.timer.kind, before.timer.node, facts(name)), later)
        want = expected_rows(after, actions, "plan")
        assert state == want["state"], name
        assert sends(clean_db, lead)[1:] == want["sends"], name
        assert audit(clean_db, enrollment)[-len(want["audit"]) :] == want["audit"], name
    assert [s[:2] for s in sends(clean_db, leads["chicago_sms"])] == [("offer-1", "sms"), ("offer-2", "sms")]


def test_fire_due_takes_rounds_until_nothing_is_due(world: dict[str, Any], clean_db: Engine) -> None:
    tenant, campaign, leads = world["tenant"], world["campaign"], world["leads"]
    campaign_run.enroll_leads(tenant_id=tenant, campaign_id=campaign, lead_ids=list(leads.values()), now=NOW)

    fired = campaign_run.fire_due(tenant_id=tenant, now=NOW + 26 * H, limit=2)

    # seven wait timers, two per transaction: four rounds in one call
    assert (fired["fired"], fired["sends"], fired["enrollments"]) == (7, 7, 7)
    assert (
        sql(clean_db, "SELECT count(*) AS n FROM scheduled_actions WHERE kind = 'wait' AND status = 'done'")[0].n == 7
    )
    assert campaign_run.fire_due(tenant_id=tenant, now=NOW + 26 * H, limit=2) == {"fired": 0}
