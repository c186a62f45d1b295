"""The per-lead loops `python -m bench.campaigns` measures the services against, on the same data.

Each is the obvious way to drive the interpreter: per lead (or per due timer), read it, call
`step` once for it alone, then write its rows one statement each: the enrollment, each send,
the timer, each audit row, the lead's climb. The rows are built here from the step's actions,
independently of `app/services/campaign_apply.py`, so that the benchmark's check (both ways
write the same rows) also checks the services' class-based writing against a plain reading
of the interpreter's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.domain.plan import (
    Action,
    CancelTimers,
    Complete,
    Enrolled,
    EnrollmentState,
    LeadEvent,
    LeadFacts,
    Moved,
    Plan,
    Schedule,
    Send,
    SendNode,
    Stop,
    TimerFired,
    load_plan,
    state_from_json,
    state_to_json,
    step,
    variant_draw,
)
from app.domain.plan.state import NO_FACTS

_REACH = """
    (coalesce(l.email, '') <> '' AND l.consent_email AND NOT EXISTS (
        SELECT 1 FROM suppressions AS s
        WHERE s.tenant_id = l.tenant_id AND s.channel = 'email' AND s.address IN (l.email, lower(l.email))
    )) AS email_ok,
    (coalesce(l.phone, '') <> '' AND l.consent_sms AND l.phone_unreachable IS NULL AND NOT EXISTS (
        SELECT 1 FROM suppressions AS s
        WHERE s.tenant_id = l.tenant_id AND s.channel = 'sms' AND s.address = l.phone
    )) AS sms_ok,
    l.timezone, l.deal_value, l.intent_score, l.stage, l.source, l.tags,
    greatest(extract(epoch FROM CAST(:now AS timestamptz) - l.last_activity_at) / 3600, 0) AS silent_hours
"""
LEAD = sa.text(
    f"""
    SELECT l.id, {_REACH},
           (SELECT episode FROM enrollments WHERE campaign_id = :campaign_id AND lead_id = l.id) AS prior_episode,
           EXISTS (SELECT 1 FROM enrollments WHERE lead_id = l.id AND status IN ('active', 'waiting')) AS busy
    FROM leads AS l WHERE l.id = :lead_id AND l.tenant_id = :tenant_id
    """
)
PLAN = sa.text("SELECT plan FROM campaigns WHERE id = :campaign_id")
ENROLL = sa.text(
    """
    INSERT INTO enrollments AS e
        (tenant_id, campaign_id, lead_id, current_node, rung, is_control, status, episode, state, variant,
         next_action_at, enrolled_at, completed_at)
    VALUES (:tenant_id, :campaign_id, :lead_id, :node, coalesce(:rung, 0), false, :status, :episode,
            CAST(:state AS jsonb), :variant, :next_action_at, :now,
            CASE WHEN :status IN ('completed', 'stopped') THEN :now END)
    ON CONFLICT (campaign_id, lead_id) DO UPDATE
    SET current_node = excluded.current_node, rung = excluded.rung, is_control = excluded.is_control,
        status = excluded.status, episode = excluded.episode, state = excluded.state, variant = excluded.variant,
        next_action_at = excluded.next_action_at, enrolled_at = excluded.enrolled_at,
        completed_at = excluded.completed_at, updated_at = now()
    WHERE e.status NOT IN ('active', 'waiting')
    RETURNING e.id
    """
)
ACTION = sa.text(
    """
    INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key, payload)
    VALUES (:tenant_id, :enrollment_id, :lead_id, :kind, :node, :due_at, :key, CAST(:payload AS jsonb))
    ON CONFLICT (dedupe_key) DO NOTHING
    """
)
AUDIT = sa.text(
    """
    INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
    VALUES (:tenant_id, :enrollment_id, :from_node, :to_node, :event, :reason, :now)
    """
)
CLIMB = sa.text(
    """
    UPDATE leads SET silence_level = greatest(silence_level, :rung),
                     recovery_state = CASE WHEN recovery_state IN ('active', 'silent') THEN 'in_recovery'
                                           ELSE recovery_state END,
                     updated_at = now()
    WHERE id = :lead_id
    """
)
DUE = sa.text(
    """
    SELECT a.id, a.enrollment_id, a.kind, a.node, a.due_at, a.payload
    FROM scheduled_actions AS a
    WHERE a.tenant_id = :tenant_id AND a.status = 'pending' AND a.kind <> 'send' AND a.due_at <= :now
    ORDER BY a.due_at, a.id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)
DONE = sa.text("UPDATE scheduled_actions SET status = 'done', updated_at = now() WHERE id = :id")
ENROLLMENT = sa.text(
    f"""
    SELECT e.id, e.lead_id, e.campaign_id, e.state, {_REACH}
    FROM enrollments AS e JOIN leads AS l ON l.id = e.lead_id
    WHERE e.id = :enrollment_id
    FOR UPDATE OF e
    """
)
CANCEL = sa.text(
    """
    UPDATE scheduled_actions SET status = 'canceled', updated_at = now()
    WHERE enrollment_id = :enrollment_id AND status = 'pending' AND kind NOT IN ('send', 'event')
    """
)
STORE = sa.text(
    """
    UPDATE enrollments
    SET state = CAST(:state AS jsonb), status = :status, current_node = :node, next_action_at = :next_action_at,
        variant = coalesce(:variant, variant), rung = coalesce(:rung, rung),
        completed_at = CASE WHEN :status IN ('completed', 'stopped') THEN CAST(:now AS timestamptz) END,
        updated_at = now()
    WHERE id = :enrollment_id
    """
)


def enroll_loop(session: Session, *, tenant_id: int, campaign_id: int, lead_ids: list[int], now: datetime) -> int:
    """Enroll each lead on its own; the number of statements sent."""
    plan = load(session, campaign_id)
    statements = 1
    base = {"tenant_id": tenant_id, "campaign_id": campaign_id, "now": now}
    for lead_id in lead_ids:
        lead = session.execute(LEAD, {**base, "lead_id": lead_id}).one()
        statements += 1
        if lead.busy:
            continue
        episode = int(lead.prior_episode or 0) + 1
        draw = variant_draw(f"{tenant_id}:{campaign_id}:{lead_id}")
        after, actions = step(plan, EnrollmentState(episode=episode - 1), Enrolled(facts_of(lead), episode, draw), now)
        rows = step_rows(plan, tenant_id, campaign_id, lead_id, after, actions, "launch")
        enrollment_id = session.execute(ENROLL, {**base, **rows.columns, "lead_id": lead_id, "episode": episode})
        statements += 1
        found = enrollment_id.scalar_one_or_none()
        if found is not None:
            statements += write_rows(session, rows, tenant_id=tenant_id, enrollment_id=found, lead_id=lead_id, now=now)
    return statements


def fire_loop(session: Session, *, tenant_id: int, now: datetime, limit: int) -> int:
    """Fire each due timer on its own enrollment; the number of statements sent."""
    due = session.execute(DUE, {"tenant_id": tenant_id, "now": now, "limit": limit}).all()
    statements = 1
    plans: dict[int, Plan] = {}
    for action in due:
        session.execute(DONE, {"id": action.id})
        row = session.execute(ENROLLMENT, {"enrollment_id": action.enrollment_id, "now": now}).one()
        statements += 2
        if row.campaign_id not in plans:
            plans[row.campaign_id] = load(session, row.campaign_id)
            statements += 1
        plan = plans[row.campaign_id]
        event: TimerFired | LeadEvent = TimerFired(action.kind, action.node, facts_of(row))
        if action.kind == "event":
            payload = action.payload
            at = datetime.fromisoformat(payload["at"])
            event = LeadEvent(payload["event"], at, payload["episode"], facts_of(row))
        after, actions = step(plan, state_from_json(row.state), event, now)
        rows = step_rows(plan, tenant_id, row.campaign_id, row.lead_id, after, actions, "plan")
        session.execute(STORE, {**rows.columns, "enrollment_id": row.id, "now": now})
        statements += 1 + write_rows(
            session, rows, tenant_id=tenant_id, enrollment_id=row.id, lead_id=row.lead_id, now=now
        )
    return statements


@dataclass(frozen=True)
class StepRows:
    """What one step of one enrollment writes, built from the step's actions alone."""

    columns: dict[str, Any]
    cancel: bool
    actions: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    climb: int | None


def step_rows(
    plan: Plan,
    tenant_id: int,
    campaign_id: int,
    lead_id: int,
    after: EnrollmentState,
    actions: tuple[Action, ...],
    source: str,
) -> StepRows:
    prefix = f"{tenant_id}:{campaign_id}:{lead_id}:e"
    rows: list[dict[str, Any]] = []
    rungs: list[int] = []
    for action in actions:
        if isinstance(action, Send):
            node = plan.node(action.node)
            assert isinstance(node, SendNode)
            payload = {
                "rung": node.rung,
                "channel": action.channel,
                "channels": list(node.channels),
                "variant": action.variant,
                "episode": action.episode,
                "template": action.template,
                "brief": action.brief,
                "source": source,
            }
            key = f"{prefix}{action.episode}:{action.node}:send"
            rows.append(
                {"kind": "send", "node": action.node, "due_at": action.not_before, "key": key, "payload": payload}
            )
            rungs += [node.rung] if node.rung else []
    timer = after.timer
    if timer is not None and Schedule(timer.kind, timer.node, timer.due_at) in actions:
        key = f"{prefix}{after.episode}:{timer.node}:{timer.kind}:{timer.due_at.strftime('%Y%m%dT%H%M%S%z')}"
        armed = {"kind": timer.kind, "node": timer.node, "due_at": timer.due_at, "key": key}
        rows.append({**armed, "payload": {"episode": after.episode}})
    return StepRows(
        columns=_columns(plan, after, actions),
        cancel=any(isinstance(action, CancelTimers) for action in actions),
        actions=rows,
        audit=_moves(after, actions, source),
        climb=max(rungs) if rungs else None,
    )


def write_rows(
    session: Session, rows: StepRows, *, tenant_id: int, enrollment_id: int, lead_id: int, now: datetime
) -> int:
    """The step's rows, one statement each; how many statements that took."""
    ids = {"tenant_id": tenant_id, "enrollment_id": enrollment_id, "lead_id": lead_id, "now": now}
    statements = 0
    if rows.cancel:
        session.execute(CANCEL, ids)
        statements += 1
    for action in rows.actions:
        session.execute(ACTION, {**ids, **action, "payload": json.dumps(action["payload"])})
        statements += 1
    for move in rows.audit:
        session.execute(AUDIT, {**ids, **move})
        statements += 1
    if rows.climb is not None:
        session.execute(CLIMB, {"lead_id": lead_id, "rung": rows.climb})
        statements += 1
    return statements


def _moves(after: EnrollmentState, actions: tuple[Action, ...], source: str) -> list[dict[str, Any]]:
    rows: list[tuple[Any, ...]] = []
    for action in actions:
        if isinstance(action, Moved):
            rows.append((action.from_node, action.to_node, action.trigger, source))
        elif isinstance(action, Complete | Stop):
            event = "completed" if isinstance(action, Complete) else "stopped"
            rows.append((after.node, after.node, event, action.reason))
    return [dict(zip(("from_node", "to_node", "event", "reason"), row, strict=True)) for row in rows]


def _columns(plan: Plan, after: EnrollmentState, actions: tuple[Action, ...]) -> dict[str, Any]:
    rungs = [node.rung for a in actions if isinstance(a, Send) and isinstance(node := plan.node(a.node), SendNode)]
    numbered = [rung for rung in rungs if rung is not None]
    return {
        "state": json.dumps(state_to_json(replace(after, facts=NO_FACTS))),
        "status": after.status,
        "node": after.node,
        "next_action_at": after.timer.due_at if after.timer else None,
        "variant": after.variant,
        "rung": numbered[-1] if numbered else None,
    }


def load(session: Session, campaign_id: int) -> Plan:
    plan = load_plan(session.execute(PLAN, {"campaign_id": campaign_id}).scalar_one())
    assert isinstance(plan, Plan), plan
    return plan


def facts_of(row: Any) -> LeadFacts:
    return LeadFacts(
        timezone=row.timezone,
        email_ok=bool(row.email_ok),
        sms_ok=bool(row.sms_ok),
        deal_value=float(row.deal_value or 0),
        intent_score=int(row.intent_score or 0),
        silent_hours=float(row.silent_hours or 0),
        stage=row.stage or "",
        source=row.source or "",
        tags=frozenset(row.tags or ()),
    )
