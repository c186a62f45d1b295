"""Launch, pause, resume and kill a campaign; start the scheduled ones whose time has come.

Every move locks the campaign row, checks the operator and the status move
(`app/domain/campaign_status.py`), writes the new status and a `campaign_events` audit row, in
one transaction.

- **launch** refuses, with every problem, a plan `parse_plan` rejects or an audience nobody in
  it can be written to (`LaunchRefused`). Otherwise the campaign runs (or waits as `scheduled`
  when its start is still ahead) and its reachable leads are enrolled set-based by the plan
  interpreter (`campaign_run.enroll_leads`), after the status is committed so the interpreter
  sees a running campaign.
- **pause** and **resume** only move the status: the writer and the sender skip a paused
  campaign's work when they claim it, and the interpreter's timers wait.
- **kill** also cancels, in the same transaction, everything the campaign had queued: every
  pending `scheduled_actions` row of its enrollments, every outbox row not yet claimed by the
  sender (`pending`: due now, deferred, rate-limited or scheduled later), and every open
  enrollment stops with a `campaign_transitions` row (event and reason `killed`). A row the
  sender claimed before the kill (`sending`) is the sender's to settle; it checks the campaign
  when it claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app import runtime
from app.domain import roles
from app.domain.audience import Audience
from app.domain.campaign_review import NO_AUDIENCE, nobody_reachable
from app.domain.campaign_status import next_status
from app.domain.plan import validate_plan
from app.services import audiences, campaign_run
from app.services.campaign_rows import acting_operator, locked_campaign, record_event
from db.models import Campaign

KILLED = "killed"


class LaunchRefused(ValueError):
    """The campaign cannot launch; `problems` says every reason, plan problems with their JSON path."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Launched:
    status: str
    audience: int
    """Leads of the audience that can be written to on the plan's channels (those enrolled, or to be)."""
    enrolled: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Killed:
    enrollments: int
    actions: int
    messages: int


def launch(*, tenant_id: int, campaign_id: int, operator_id: int, now: datetime) -> Launched:
    """Launch a draft: running now, or scheduled for its start; raises LaunchRefused with every problem."""
    with runtime.session_scope() as session, session.begin():
        acting_operator(session, tenant_id=tenant_id, operator_id=operator_id, action=roles.Action.LAUNCH)
        campaign = locked_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
        before = campaign.status
        starts_later = campaign.starts_at is not None and campaign.starts_at > now
        status = next_status("launch", before, starts_later=starts_later)
        lead_ids = _launchable(session, campaign, now)
        campaign.status = status
        campaign.starts_at = campaign.starts_at or now
        record_event(
            session,
            campaign,
            event="launched",
            from_status=before,
            operator_id=operator_id,
            at=now,
            details={"audience": len(lead_ids)},
        )
    enrolled = (
        _enroll(tenant_id=tenant_id, campaign_id=campaign_id, lead_ids=lead_ids, now=now) if status == "running" else {}
    )
    return Launched(status, len(lead_ids), enrolled)


def _launchable(session: Session, campaign: Campaign, now: datetime) -> list[int]:
    """The ids a launch enrolls; LaunchRefused with every reason it cannot launch."""
    problems = [str(p) for p in validate_plan(campaign.plan)]
    try:
        audience = Audience.from_json(campaign.audience)
    except ValueError as error:
        return _refuse([*problems, f"Audience: {error}"])
    if audience is None:
        return _refuse([*problems, NO_AUDIENCE])
    audience_problems = audience.problems()
    if audience_problems:
        return _refuse(problems + [f"Audience: {p}" for p in audience_problems])
    channels = _plan_channels(campaign.plan)
    lead_ids = audiences.reachable_ids(
        session, tenant_id=campaign.tenant_id, audience=audience, channels=channels, now=now
    )
    if not lead_ids:
        problems.append(nobody_reachable(channels))
    if problems:
        return _refuse(problems)
    return lead_ids


def _refuse(problems: list[str]) -> list[int]:
    raise LaunchRefused(problems)


def _plan_channels(plan: dict[str, object]) -> list[str]:
    nodes = plan.get("nodes") if isinstance(plan, dict) else None
    found: list[str] = []
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and node.get("kind") == "send" and isinstance(node.get("channels"), list):
            found += [str(c) for c in node["channels"]]
    return list(dict.fromkeys(found))


def _enroll(*, tenant_id: int, campaign_id: int, lead_ids: Sequence[int], now: datetime) -> dict[str, int]:
    """Enroll the launched audience through the plan interpreter, which also asks for the first sends."""
    return campaign_run.enroll_leads(
        tenant_id=tenant_id, campaign_id=campaign_id, lead_ids=lead_ids, now=now, source="launch"
    )


def start_due(*, tenant_id: int, now: datetime) -> list[Launched]:
    """Start the tenant's scheduled campaigns whose start has come (for the cron tick); safe to run twice."""
    with runtime.session_scope() as session, session.begin():
        due = (
            session.execute(
                select(Campaign.id).where(
                    Campaign.tenant_id == tenant_id, Campaign.status == "scheduled", Campaign.starts_at <= now
                )
            )
            .scalars()
            .all()
        )
    return [started for campaign_id in due if (started := _start(tenant_id, campaign_id, now)) is not None]


def _start(tenant_id: int, campaign_id: int, now: datetime) -> Launched | None:
    with runtime.session_scope() as session, session.begin():
        campaign = locked_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
        if campaign.status != "scheduled":  # paused or killed since it was listed
            return None
        lead_ids = _launchable(session, campaign, now)
        campaign.status = next_status("start", campaign.status)
        record_event(
            session,
            campaign,
            event="started",
            from_status="scheduled",
            operator_id=None,
            at=now,
            details={"audience": len(lead_ids)},
        )
    return Launched(
        "running", len(lead_ids), _enroll(tenant_id=tenant_id, campaign_id=campaign_id, lead_ids=lead_ids, now=now)
    )


def pause(*, tenant_id: int, campaign_id: int, operator_id: int, now: datetime) -> str:
    """Stop sending for now; returns the new status."""
    return _move("pause", "paused", tenant_id, campaign_id, operator_id, now)


def resume(*, tenant_id: int, campaign_id: int, operator_id: int, now: datetime) -> str:
    """Send again (or wait for the start, if still ahead); returns the new status."""
    return _move("resume", "resumed", tenant_id, campaign_id, operator_id, now)


def _move(action: str, event: str, tenant_id: int, campaign_id: int, operator_id: int, now: datetime) -> str:
    with runtime.session_scope() as session, session.begin():
        acting_operator(session, tenant_id=tenant_id, operator_id=operator_id, action=roles.Action.LAUNCH)
        campaign = locked_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
        before = campaign.status
        later = campaign.starts_at is not None and campaign.starts_at > now
        campaign.status = next_status(action, before, starts_later=later)
        record_event(session, campaign, event=event, from_status=before, operator_id=operator_id, at=now)
        return campaign.status


_KILL = text(
    """
    WITH stopped AS (
        UPDATE enrollments AS e
        SET status = 'stopped', completed_at = CAST(:at AS timestamptz), next_action_at = NULL, updated_at = now()
        WHERE e.tenant_id = :tenant_id AND e.campaign_id = :campaign_id AND e.status IN ('active', 'waiting')
        RETURNING e.id, e.current_node
    ), audit AS (
        INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
        SELECT :tenant_id, s.id, s.current_node, NULL, 'killed', 'killed', CAST(:at AS timestamptz) FROM stopped AS s
    ), actions AS (
        UPDATE scheduled_actions AS a
        SET status = 'canceled', updated_at = now(), payload = a.payload || '{"reason": "campaign killed"}'::jsonb
        FROM enrollments AS e
        WHERE a.enrollment_id = e.id AND e.tenant_id = :tenant_id AND e.campaign_id = :campaign_id
          AND a.status = 'pending'
        RETURNING a.id
    ), outbox AS (
        UPDATE outbound_messages AS m
        SET status = 'canceled', last_error = 'campaign killed', updated_at = now()
        WHERE m.tenant_id = :tenant_id AND m.campaign_id = :campaign_id AND m.status = 'pending'
        RETURNING m.id
    )
    SELECT (SELECT count(*) FROM stopped) AS enrollments, (SELECT count(*) FROM actions) AS actions,
           (SELECT count(*) FROM outbox) AS messages
    """
)


def kill(*, tenant_id: int, campaign_id: int, operator_id: int, now: datetime) -> Killed:
    """End the campaign for good and cancel its whole queue at once; returns what was stopped and canceled."""
    with runtime.session_scope() as session, session.begin():
        acting_operator(session, tenant_id=tenant_id, operator_id=operator_id, action=roles.Action.LAUNCH)
        campaign = locked_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
        before = campaign.status
        campaign.status = next_status("kill", before)
        session.flush()
        row = session.execute(_KILL, {"tenant_id": tenant_id, "campaign_id": campaign_id, "at": now}).one()
        killed = Killed(int(row.enrollments), int(row.actions), int(row.messages))
        details = {"enrollments": killed.enrollments, "actions": killed.actions, "messages": killed.messages}
        record_event(
            session, campaign, event="killed", from_status=before, operator_id=operator_id, at=now, details=details
        )
        return killed
