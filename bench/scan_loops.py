"""The per-lead loops `python -m bench.scan` measures the set-based scan against."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.domain.holdout import is_control
from app.services import scan
from bench.scan_world import ANCHOR
from db.models import CampaignTransition, Enrollment, Lead, ScheduledAction, Suppression, Tenant

Approach = Callable[[Session, int], dict[str, int]]


def set_based(session: Session, tenant_id: int) -> dict[str, int]:
    """The service's own scan (app/services/scan.py), inside the caller's transaction."""
    return scan.run_scan(session, tenant_id=tenant_id, now=ANCHOR).counts()


_OPEN = scan.OPEN_STATES_SQL

LOOP_CANDIDATES = sa.text(
    f"""
    SELECT l.id, l.silence_level + 1 AS rung, l.email, l.phone, l.consent_email, l.consent_sms
    FROM leads AS l JOIN tenants AS t ON t.id = l.tenant_id
    WHERE l.tenant_id = :tenant_id AND l.recovery_state IN {_OPEN}
      AND l.silence_level < cardinality(t.silence_ladder_hours)
      AND l.last_activity_at <= :now - make_interval(hours => t.silence_ladder_hours[l.silence_level + 1])
      AND (l.last_contacted_at IS NULL OR l.last_contacted_at <= :now - make_interval(hours => t.cooldown_hours))
    ORDER BY l.intent_score * l.deal_value DESC, l.last_activity_at, l.id
    """
)
LOOP_TENANT = sa.text("SELECT holdout_percent, scan_cap FROM tenants WHERE id = :tenant_id")
LOOP_SUPPRESSED = sa.text(
    "SELECT 1 FROM suppressions "
    "WHERE tenant_id = :tenant_id AND channel = :channel AND address IN (:address, lower(:address))"
)
LOOP_BUSY = sa.text("SELECT 1 FROM enrollments WHERE lead_id = :lead_id AND status IN ('active', 'waiting') LIMIT 1")
LOOP_SENT = sa.text("SELECT 1 FROM scheduled_actions WHERE dedupe_key = :key")
LOOP_PREVIOUS = sa.text("SELECT current_node FROM enrollments WHERE campaign_id = :campaign_id AND lead_id = :lead_id")
LOOP_ENROLL = sa.text(
    """
    INSERT INTO enrollments AS e (tenant_id, campaign_id, lead_id, current_node, rung, is_control, status,
                                  next_action_at, enrolled_at)
    VALUES (:tenant_id, :campaign_id, :lead_id, :node, :rung, :control, :status, :next_at, :now)
    ON CONFLICT (campaign_id, lead_id) DO UPDATE
    SET current_node = excluded.current_node, rung = excluded.rung, is_control = excluded.is_control,
        status = excluded.status, next_action_at = excluded.next_action_at, enrolled_at = excluded.enrolled_at,
        completed_at = NULL, updated_at = now()
    WHERE e.status NOT IN ('active', 'waiting')
    RETURNING e.id
    """
)
LOOP_ACTION = sa.text(
    """
    INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key, payload)
    VALUES (:tenant_id, :enrollment_id, :lead_id, 'send', :node, :now, :key, CAST(:payload AS jsonb))
    ON CONFLICT (dedupe_key) DO NOTHING
    """
)
LOOP_CLIMB = sa.text(
    "UPDATE leads SET silence_level = :rung, recovery_state = :state, updated_at = now() WHERE id = :lead_id"
)
LOOP_AUDIT = sa.text(
    """
    INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
    VALUES (:tenant_id, :enrollment_id, :from_node, :node, :event, 'silence scan', :now)
    """
)


class Counted:
    """A session wrapper that counts the statements the loop sends."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.statements = 0

    def run(self, statement: sa.TextClause, params: dict[str, Any]) -> sa.Result[Any]:
        self.statements += 1
        return self.session.execute(statement, params)


def per_lead_loop(session: Session, tenant_id: int) -> dict[str, int]:
    """The obvious way: select the candidates, then one statement per check and per write, per lead."""
    db = Counted(session)
    campaign_id = scan.ensure_recovery_campaign(session, tenant_id)
    rules = db.run(LOOP_TENANT, {"tenant_id": tenant_id}).one()
    holdout, cap = rules.holdout_percent, rules.scan_cap
    base = {"tenant_id": tenant_id, "campaign_id": campaign_id, "now": ANCHOR}
    counts = {"enrolled": 0, "control": 0}
    for lead in db.run(LOOP_CANDIDATES, base).all():
        if counts["enrolled"] + counts["control"] >= cap:
            break
        control = is_control(tenant_id, lead.id, holdout)
        if _loop_can_enroll(db, base, lead, control):
            _loop_enroll(db, base, lead, control)
            counts["control" if control else "enrolled"] += 1
    return {**counts, "statements": db.statements + 1}


def _loop_can_enroll(db: Counted, base: dict[str, Any], lead: Any, control: bool) -> bool:
    if not (_loop_reachable(db, base, lead, "email") or _loop_reachable(db, base, lead, "sms")):
        return False
    if db.run(LOOP_BUSY, {"lead_id": lead.id}).first():
        return False
    key = f"{base['tenant_id']}:{base['campaign_id']}:{lead.id}:rung-{lead.rung}:send"
    return control or not db.run(LOOP_SENT, {"key": key}).first()


def _loop_reachable(db: Counted, base: dict[str, Any], lead: Any, channel: str) -> bool:
    address, consent = (lead.email, lead.consent_email) if channel == "email" else (lead.phone, lead.consent_sms)
    if not address or not consent:
        return False
    params = {"tenant_id": base["tenant_id"], "channel": channel, "address": address}
    return not db.run(LOOP_SUPPRESSED, params).first()


def _loop_enroll(db: Counted, base: dict[str, Any], lead: Any, control: bool) -> None:
    node = f"rung-{lead.rung}"
    previous = db.run(LOOP_PREVIOUS, {**base, "lead_id": lead.id}).scalar_one_or_none()
    status, next_at = ("control", None) if control else ("active", ANCHOR)
    params = {**base, "lead_id": lead.id, "node": node, "rung": lead.rung, "control": control}
    enrollment_id = db.run(LOOP_ENROLL, {**params, "status": status, "next_at": next_at}).scalar_one()
    if not control:
        key = f"{base['tenant_id']}:{base['campaign_id']}:{lead.id}:{node}:send"
        payload = json.dumps({"rung": lead.rung, "source": "silence scan"})
        db.run(LOOP_ACTION, {**params, "enrollment_id": enrollment_id, "key": key, "payload": payload})
    state = "control" if control else "in_recovery"
    db.run(LOOP_CLIMB, {"lead_id": lead.id, "rung": lead.rung, "state": state})
    event = "held_out" if control else "enrolled"
    db.run(LOOP_AUDIT, {**params, "enrollment_id": enrollment_id, "from_node": previous, "event": event})


def per_lead_orm_loop(session: Session, tenant_id: int) -> dict[str, int]:
    """The same loop as an ORM user writes it: lead objects in, a query per check, a flush per lead."""
    tenant = session.get_one(Tenant, tenant_id)
    campaign_id = scan.ensure_recovery_campaign(session, tenant_id)
    hours = tenant.silence_ladder_hours
    candidates = (
        select(Lead)
        .where(
            Lead.tenant_id == tenant_id,
            Lead.recovery_state.in_(scan.OPEN_STATES),
            Lead.silence_level < len(hours),
            Lead.last_activity_at <= ANCHOR - timedelta(hours=hours[0]),
        )
        .order_by((Lead.intent_score * Lead.deal_value).desc(), Lead.last_activity_at, Lead.id)
    )
    counts = {"enrolled": 0, "control": 0}
    for lead in session.scalars(candidates):
        if counts["enrolled"] + counts["control"] >= tenant.scan_cap:
            break
        control = is_control(tenant_id, lead.id, tenant.holdout_percent)
        if _orm_due(tenant, lead) and _orm_can_enroll(session, campaign_id, lead, control):
            _orm_enroll(session, campaign_id, lead, control)
            counts["control" if control else "enrolled"] += 1
    session.flush()
    return counts


def _orm_due(tenant: Tenant, lead: Lead) -> bool:
    threshold = ANCHOR - timedelta(hours=tenant.silence_ladder_hours[lead.silence_level])
    rested = lead.last_contacted_at is None or lead.last_contacted_at <= ANCHOR - timedelta(hours=tenant.cooldown_hours)
    return lead.last_activity_at <= threshold and rested


def _orm_can_enroll(session: Session, campaign_id: int, lead: Lead, control: bool) -> bool:
    def suppressed(channel: str, address: str) -> bool:
        where = (Suppression.tenant_id == lead.tenant_id, Suppression.channel == channel)
        return bool(session.scalar(select(exists().where(*where, Suppression.address.in_([address, address.lower()])))))

    email_ok = bool(lead.email) and lead.consent_email and not suppressed("email", lead.email or "")
    if not email_ok and not (bool(lead.phone) and lead.consent_sms and not suppressed("sms", lead.phone or "")):
        return False
    busy = exists().where(Enrollment.lead_id == lead.id, Enrollment.status.in_(("active", "waiting")))
    if session.scalar(select(busy)):
        return False
    key = f"{lead.tenant_id}:{campaign_id}:{lead.id}:rung-{lead.silence_level + 1}:send"
    return control or not session.scalar(select(exists().where(ScheduledAction.dedupe_key == key)))


def _orm_enroll(session: Session, campaign_id: int, lead: Lead, control: bool) -> None:
    rung, node = lead.silence_level + 1, f"rung-{lead.silence_level + 1}"
    found = select(Enrollment).where(Enrollment.campaign_id == campaign_id, Enrollment.lead_id == lead.id)
    enrollment = session.scalar(found) or Enrollment(tenant_id=lead.tenant_id, campaign_id=campaign_id, lead_id=lead.id)
    previous = enrollment.current_node
    enrollment.current_node, enrollment.rung, enrollment.is_control = node, rung, control
    enrollment.status, enrollment.next_action_at = ("control", None) if control else ("active", ANCHOR)
    enrollment.enrolled_at, enrollment.completed_at = ANCHOR, None
    session.add(enrollment)
    session.flush()
    if not control:
        key = f"{lead.tenant_id}:{campaign_id}:{lead.id}:{node}:send"
        payload = {"rung": rung, "source": "silence scan"}
        session.add(
            ScheduledAction(
                tenant_id=lead.tenant_id,
                enrollment_id=enrollment.id,
                lead_id=lead.id,
                kind="send",
                node=node,
                due_at=ANCHOR,
                dedupe_key=key,
                payload=payload,
            )
        )
    lead.silence_level, lead.recovery_state = rung, "control" if control else "in_recovery"
    event = "held_out" if control else "enrolled"
    session.add(
        CampaignTransition(
            tenant_id=lead.tenant_id,
            enrollment_id=enrollment.id,
            from_node=previous,
            to_node=node,
            event=event,
            reason="silence scan",
            at=ANCHOR,
        )
    )
