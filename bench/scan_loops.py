"""The per-lead loops `python -m bench.scan` measures the set-based scan against.

Both do what the scan does now, one lead at a time: select the candidates (open leads that
crossed the ladder's first threshold, `silence_level` 0, rested), best first; then per lead,
until the cap, check its channels against the suppressions and that no active enrollment holds
it, read its earlier episode, and either hold it out (a `control` enrollment and its audit row)
or start its episode: `step` the recovery plan for that lead alone, write the enrollment, the
rung-1 send, the wait timer, each audit row and the climb; last, mark the lead entered. The
rows are built by `bench/campaign_loops.py` from the step's actions, independently of the
service's class-based writing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.domain.holdout import is_control
from app.domain.plan import Enrolled, EnrollmentState, LeadFacts, Plan, step, variant_draw
from app.services import recovery_campaign, scan
from bench.campaign_loops import ENROLL, StepRows, load, step_rows, write_rows
from bench.scan_world import ANCHOR
from db.models import CampaignTransition, Enrollment, Lead, ScheduledAction, Suppression, Tenant

Approach = Callable[[Session, int], dict[str, int]]
SOURCE = "silence scan"


def set_based(session: Session, tenant_id: int) -> dict[str, int]:
    """The service's own scan (app/services/scan.py), inside the caller's transaction."""
    return scan.run_scan(session, tenant_id=tenant_id, now=ANCHOR).counts()


_OPEN = scan.OPEN_STATES_SQL

LOOP_CANDIDATES = sa.text(
    f"""
    SELECT l.id, l.email, l.phone, l.consent_email, l.consent_sms, l.phone_unreachable, l.timezone, l.deal_value,
           l.intent_score, l.stage, l.source, l.tags, l.last_activity_at
    FROM leads AS l JOIN tenants AS t ON t.id = l.tenant_id
    WHERE l.tenant_id = :tenant_id AND l.recovery_state IN {_OPEN} AND l.silence_level = 0
      AND l.last_activity_at <= :now - make_interval(hours => t.silence_ladder_hours[1])
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
LOOP_PREVIOUS = sa.text("SELECT episode FROM enrollments WHERE campaign_id = :campaign_id AND lead_id = :lead_id")
LOOP_HOLD_OUT = sa.text(
    """
    INSERT INTO enrollments AS e (tenant_id, campaign_id, lead_id, current_node, rung, is_control, status, episode,
                                  state, variant, next_action_at, enrolled_at, completed_at)
    VALUES (:tenant_id, :campaign_id, :lead_id, NULL, 1, true, 'control', :episode, '{}', NULL, NULL, :now, NULL)
    ON CONFLICT (campaign_id, lead_id) DO UPDATE
    SET current_node = excluded.current_node, rung = excluded.rung, is_control = excluded.is_control,
        status = excluded.status, episode = excluded.episode, state = excluded.state, variant = excluded.variant,
        next_action_at = excluded.next_action_at, enrolled_at = excluded.enrolled_at,
        completed_at = excluded.completed_at, updated_at = now()
    WHERE e.status NOT IN ('active', 'waiting')
    RETURNING e.id
    """
)
LOOP_HELD_OUT = sa.text(
    """
    INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
    VALUES (:tenant_id, :enrollment_id, NULL, NULL, 'held_out', :reason, :now)
    """
)
LOOP_ENTERED = sa.text(
    """
    UPDATE leads SET silence_level = greatest(silence_level, 1),
                     recovery_state = CASE WHEN :control THEN 'control'
                                           WHEN recovery_state IN ('active', 'silent') THEN 'in_recovery'
                                           ELSE recovery_state END,
                     updated_at = now()
    WHERE id = :lead_id
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
    """The obvious way: select the candidates, then one statement per check and per row, per lead."""
    db = Counted(session)
    campaign_id = recovery_campaign.ensure_recovery_campaign(session, tenant_id)
    plan = load(session, campaign_id)
    rules = db.run(LOOP_TENANT, {"tenant_id": tenant_id}).one()
    base = {"tenant_id": tenant_id, "campaign_id": campaign_id, "now": ANCHOR}
    counts = {"enrolled": 0, "control": 0}
    for lead in db.run(LOOP_CANDIDATES, base).all():
        if counts["enrolled"] + counts["control"] >= rules.scan_cap:
            break
        email_ok, sms_ok = _loop_reachable(db, base, lead, "email"), _loop_reachable(db, base, lead, "sms")
        if not (email_ok or sms_ok) or db.run(LOOP_BUSY, {"lead_id": lead.id}).first():
            continue
        control = is_control(tenant_id, lead.id, rules.holdout_percent)
        episode = (db.run(LOOP_PREVIOUS, {**base, "lead_id": lead.id}).scalar_one_or_none() or 0) + 1
        params = {**base, "lead_id": lead.id, "episode": episode}
        if control:
            enrollment_id = db.run(LOOP_HOLD_OUT, params).scalar_one()
            db.run(LOOP_HELD_OUT, {**params, "enrollment_id": enrollment_id, "reason": SOURCE})
        else:
            reach = _facts(lead, email_ok, sms_ok and lead.phone_unreachable is None)
            rows = _first_step(plan, base, lead, episode, reach)
            enrollment_id = db.run(ENROLL, {**params, **rows.columns}).scalar_one()
            ids = {"tenant_id": tenant_id, "enrollment_id": enrollment_id, "lead_id": lead.id, "now": ANCHOR}
            db.statements += write_rows(session, rows, **ids)
        db.run(LOOP_ENTERED, {"lead_id": lead.id, "control": control})
        counts["control" if control else "enrolled"] += 1
    return {**counts, "statements": db.statements + 2}  # and the campaign and its plan


def _loop_reachable(db: Counted, base: dict[str, Any], lead: Any, channel: str) -> bool:
    address, consent = (lead.email, lead.consent_email) if channel == "email" else (lead.phone, lead.consent_sms)
    if not address or not consent:
        return False
    params = {"tenant_id": base["tenant_id"], "channel": channel, "address": address}
    return not db.run(LOOP_SUPPRESSED, params).first()


def _first_step(plan: Plan, base: dict[str, Any], lead: Any, episode: int, facts: LeadFacts) -> StepRows:
    tenant_id, campaign_id = base["tenant_id"], base["campaign_id"]
    draw = variant_draw(f"{tenant_id}:{campaign_id}:{lead.id}")
    after, actions = step(plan, EnrollmentState(episode=episode - 1), Enrolled(facts, episode, draw), ANCHOR)
    return step_rows(plan, tenant_id, campaign_id, lead.id, after, actions, SOURCE)


def _facts(lead: Any, email_ok: bool, sms_ok: bool) -> LeadFacts:
    silent_h = (ANCHOR - lead.last_activity_at).total_seconds() / 3600
    return LeadFacts(
        timezone=lead.timezone,
        email_ok=email_ok,
        sms_ok=sms_ok,
        deal_value=float(lead.deal_value),
        intent_score=int(lead.intent_score),
        silent_hours=max(silent_h, 0.0),
        stage=lead.stage,
        source=lead.source,
        tags=frozenset(lead.tags or ()),
    )


@dataclass
class OrmScan:
    """The same loop as an ORM user writes it: lead objects in, a query per check, a flush per lead."""

    session: Session
    tenant: Tenant
    campaign_id: int
    plan: Plan

    def run(self) -> dict[str, int]:
        tenant, hours = self.tenant, self.tenant.silence_ladder_hours
        candidates = (
            select(Lead)
            .where(
                Lead.tenant_id == tenant.id,
                Lead.recovery_state.in_(scan.OPEN_STATES),
                Lead.silence_level == 0,
                Lead.last_activity_at <= ANCHOR - timedelta(hours=hours[0]),
            )
            .order_by((Lead.intent_score * Lead.deal_value).desc(), Lead.last_activity_at, Lead.id)
        )
        counts = {"enrolled": 0, "control": 0}
        for lead in self.session.scalars(candidates):
            if counts["enrolled"] + counts["control"] >= tenant.scan_cap:
                break
            rested = lead.last_contacted_at is None or lead.last_contacted_at <= ANCHOR - timedelta(
                hours=tenant.cooldown_hours
            )
            email_ok = bool(lead.email) and lead.consent_email and not self._suppressed("email", lead.email or "")
            sms_ok = bool(lead.phone) and lead.consent_sms and not self._suppressed("sms", lead.phone or "")
            if not rested or not (email_ok or sms_ok) or self._busy(lead):
                continue
            control = is_control(tenant.id, lead.id, tenant.holdout_percent)
            self._enroll(lead, control, email_ok, sms_ok and lead.phone_unreachable is None)
            counts["control" if control else "enrolled"] += 1
        self.session.flush()
        return counts

    def _suppressed(self, channel: str, address: str) -> bool:
        where = (Suppression.tenant_id == self.tenant.id, Suppression.channel == channel)
        found = exists().where(*where, Suppression.address.in_([address, address.lower()]))
        return bool(self.session.scalar(select(found)))

    def _busy(self, lead: Lead) -> bool:
        busy = exists().where(Enrollment.lead_id == lead.id, Enrollment.status.in_(("active", "waiting")))
        return bool(self.session.scalar(select(busy)))

    def _enroll(self, lead: Lead, control: bool, email_ok: bool, sms_ok: bool) -> None:
        found = select(Enrollment).where(Enrollment.campaign_id == self.campaign_id, Enrollment.lead_id == lead.id)
        enrollment = self.session.scalar(found) or Enrollment(
            tenant_id=lead.tenant_id, campaign_id=self.campaign_id, lead_id=lead.id, episode=0
        )
        enrollment.episode = (enrollment.episode or 0) + 1
        enrollment.enrolled_at, enrollment.is_control = ANCHOR, control
        if control:
            enrollment.current_node, enrollment.rung, enrollment.status, enrollment.state = None, 1, "control", {}
            enrollment.variant = enrollment.next_action_at = enrollment.completed_at = None
            self.session.add(enrollment)
            self.session.flush()
            self._audit(enrollment, [{"from_node": None, "to_node": None, "event": "held_out", "reason": SOURCE}])
        else:
            base = {"tenant_id": lead.tenant_id, "campaign_id": self.campaign_id}
            rows = _first_step(self.plan, base, lead, enrollment.episode, _facts(lead, email_ok, sms_ok))
            self._store(enrollment, rows)
            self._audit(enrollment, rows.audit)
            for action in rows.actions:
                self.session.add(
                    ScheduledAction(
                        tenant_id=lead.tenant_id,
                        enrollment_id=enrollment.id,
                        lead_id=lead.id,
                        kind=action["kind"],
                        node=action["node"],
                        due_at=action["due_at"],
                        dedupe_key=action["key"],
                        payload=action["payload"],
                    )
                )
            if rows.climb is not None:
                lead.silence_level = max(lead.silence_level, rows.climb)
        lead.silence_level = max(lead.silence_level, 1)
        if control:
            lead.recovery_state = "control"
        elif lead.recovery_state in ("active", "silent"):
            lead.recovery_state = "in_recovery"

    def _store(self, enrollment: Enrollment, rows: StepRows) -> None:
        columns = rows.columns
        enrollment.state = json.loads(columns["state"])
        enrollment.status, enrollment.current_node, enrollment.rung = (
            columns["status"],
            columns["node"],
            columns["rung"] or 0,
        )
        enrollment.variant, enrollment.next_action_at = columns["variant"], columns["next_action_at"]
        enrollment.completed_at = ANCHOR if columns["status"] in ("completed", "stopped") else None
        self.session.add(enrollment)
        self.session.flush()

    def _audit(self, enrollment: Enrollment, moves: list[dict[str, Any]]) -> None:
        for move in moves:
            self.session.add(
                CampaignTransition(tenant_id=enrollment.tenant_id, enrollment_id=enrollment.id, at=ANCHOR, **move)
            )
        self.session.flush()


def per_lead_orm_loop(session: Session, tenant_id: int) -> dict[str, int]:
    campaign_id = recovery_campaign.ensure_recovery_campaign(session, tenant_id)
    return OrmScan(session, session.get_one(Tenant, tenant_id), campaign_id, load(session, campaign_id)).run()
