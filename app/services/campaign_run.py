"""The plan interpreter's doors: enroll leads in a campaign, and fire what is due.

Every enrollment moves only here, through the pure `step(plan, state, event, now)` of
`app/domain/plan`:
- `enroll_leads` (a launched campaign's audience) and the silence scan (`app/services/scan.py`,
  through `enroll_in_session`) start episodes: one set-based read of the leads, one step per
  lead in memory, then one statement per kind of row;
- `fire_due` (the `fire_due` cron agent, `python -m app tick`) takes the tenant's due timers and
  the lead events waiting in `scheduled_actions` (kind `event`, queued by `queue_events`),
  locks their enrollments, steps each through its events in order and writes the batch.

A paused campaign's timers and events wait (they are not claimed until it runs again); a
killed one's were canceled by the kill. What a step asks to send becomes a `send` action that
the writer and the sender carry out (`docs/pipeline.md`).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import queue, runtime
from app.domain.plan import (
    Enrolled,
    EnrollmentState,
    Event,
    LeadEvent,
    Plan,
    TimerFired,
    load_plan,
    state_from_json,
    step,
    variant_draw,
)
from app.services import campaign_facts
from app.services.campaign_apply import Move, state_rows, write_moves

FIRE_LIMIT = 5_000
"""Due timers and events taken per `fire_due` transaction; a bigger backlog takes more rounds."""

CONTROL = "control"

_PLAN = text("SELECT plan, status FROM campaigns WHERE id = :campaign_id AND tenant_id = :tenant_id")

_ENROLL = text(
    """
    INSERT INTO enrollments AS e
        (tenant_id, campaign_id, lead_id, current_node, rung, is_control, status, episode, state, variant,
         next_action_at, enrolled_at, completed_at)
    SELECT :tenant_id, :campaign_id, r.lead_id, r.node, coalesce(r.rung, 0), r.is_control, r.status, r.episode,
           r.state, r.variant, r.next_action_at, CAST(:now AS timestamptz),
           CASE WHEN r.status IN ('completed', 'stopped') THEN CAST(:now AS timestamptz) END
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS r(lead_id bigint, node text, rung smallint, is_control boolean, status text, episode int, state jsonb,
             variant text, next_action_at timestamptz)
    ON CONFLICT (campaign_id, lead_id) DO UPDATE
    SET current_node = excluded.current_node, rung = excluded.rung, is_control = excluded.is_control,
        status = excluded.status, episode = excluded.episode, state = excluded.state, variant = excluded.variant,
        next_action_at = excluded.next_action_at, enrolled_at = excluded.enrolled_at,
        completed_at = excluded.completed_at, updated_at = now()
    WHERE e.status NOT IN ('active', 'waiting')
    RETURNING e.id, e.lead_id
    """
)

_HELD_OUT = text(
    """
    INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
    SELECT :tenant_id, x.id, NULL, NULL, 'held_out', CAST(:reason AS text), CAST(:now AS timestamptz)
    FROM unnest(CAST(:ids AS bigint[])) AS x(id)
    """
)

_CLAIM_DUE = text(
    """
    WITH due AS (
        SELECT a.id FROM scheduled_actions AS a
        JOIN enrollments AS e ON e.id = a.enrollment_id
        JOIN campaigns AS c ON c.id = e.campaign_id
        WHERE a.tenant_id = :tenant_id AND a.status = 'pending' AND a.kind <> 'send'
          AND a.due_at <= CAST(:now AS timestamptz) AND c.status = 'running'
        ORDER BY a.due_at, a.id
        LIMIT :limit
        FOR UPDATE OF a SKIP LOCKED
    )
    UPDATE scheduled_actions AS a SET status = 'done', updated_at = now()
    FROM due WHERE a.id = due.id
    RETURNING a.id, a.enrollment_id, a.kind, a.node, a.due_at, a.payload
    """
)

_QUEUE_EVENTS = text(
    """
    INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key, payload)
    SELECT e.tenant_id, e.id, e.lead_id, 'event', NULL, r.at,
           e.id || ':event:' || r.kind || ':' || r.ref,
           jsonb_build_object('event', r.kind, 'at', r.at, 'episode', r.episode)
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(lead_id bigint, kind text, at timestamptz, episode int, ref text)
    JOIN enrollments AS e ON e.lead_id = r.lead_id AND e.tenant_id = :tenant_id AND e.status = 'active'
    ON CONFLICT (dedupe_key) DO NOTHING
    """
)


@dataclass
class Enrollment:
    """What one enrollment call did, for the console and the agent's run row."""

    campaign_id: int
    enrolled: list[int] = field(default_factory=list)
    control: list[int] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, int]:
        return {"enrolled": len(self.enrolled), "control": len(self.control), "busy": len(self.busy), **self.counts}


@dataclass(frozen=True)
class LeadSignal:
    """Something a lead did that a running plan may route on; `ref` makes a redelivery harmless."""

    lead_id: int
    kind: str
    at: datetime
    ref: str
    episode: int | None = None


class CampaignNotRunning(Exception):
    """Enrolling needs a running campaign with a valid plan."""


def enroll_leads(
    *, tenant_id: int, campaign_id: int, lead_ids: Sequence[int], now: datetime | None = None, source: str = "launch"
) -> dict[str, int]:
    """Enroll these leads (the tenant's, not already in a running enrollment) and wake the writer."""
    with runtime.session_scope() as session, session.begin():
        result = enroll_in_session(
            session, tenant_id=tenant_id, campaign_id=campaign_id, lead_ids=lead_ids, now=now or _now(), source=source
        )
    if result.counts["sends"]:
        _request_writes(tenant_id)
    return result.summary()


def enroll_in_session(
    session: Session,
    *,
    tenant_id: int,
    campaign_id: int,
    lead_ids: Sequence[int],
    now: datetime,
    source: str,
    control_ids: frozenset[int] = frozenset(),
    start_nodes: Mapping[int, str] | None = None,
) -> Enrollment:
    """Start an episode of the campaign's plan for each lead; `control_ids` are held out instead.

    `start_nodes` may name, per lead, the node its episode begins at (else the plan's start).

    A lead already in an active enrollment of any campaign is left alone (reported `busy`): one
    conversation at a time. A lead enrolled here before starts the next episode.
    """
    plan = _running_plan(session, tenant_id, campaign_id)
    result = Enrollment(campaign_id)
    rows: list[dict[str, Any]] = []
    steps: dict[int, Move] = {}
    for candidate in campaign_facts.candidates(
        session, tenant_id=tenant_id, campaign_id=campaign_id, lead_ids=lead_ids, now=now
    ):
        if candidate.busy:
            result.busy.append(candidate.lead_id)
            continue
        episode = candidate.prior_episode + 1
        if candidate.lead_id in control_ids:
            rows.append(_control_row(candidate.lead_id, episode))
            continue
        draw = variant_draw(f"{tenant_id}:{campaign_id}:{candidate.lead_id}")
        start = (start_nodes or {}).get(candidate.lead_id)
        event = Enrolled(facts=candidate.facts, episode=episode, draw=draw, start=start)
        after, actions = step(plan, EnrollmentState(episode=episode - 1), event, now)
        move = Move(0, candidate.lead_id, campaign_id, plan, after, actions)
        steps[candidate.lead_id] = move
        row = state_rows([move])[0]
        rows.append({**row, "is_control": False, "episode": episode})
    if not rows:
        return result
    params = {"tenant_id": tenant_id, "campaign_id": campaign_id, "now": now, "rows": _json(rows)}
    stored = {row.lead_id: row.id for row in session.execute(_ENROLL, params)}
    moves = [
        Move(stored[lead], lead, campaign_id, plan, move.after, move.actions)
        for lead, move in steps.items()
        if lead in stored
    ]
    result.enrolled = [move.lead_id for move in moves]
    result.control = [lead for lead in control_ids if lead in stored and lead not in steps]
    result.busy += [row["lead_id"] for row in rows if row["lead_id"] not in stored]
    if result.control:
        held = {"tenant_id": tenant_id, "now": now, "reason": source, "ids": [stored[x] for x in result.control]}
        session.execute(_HELD_OUT, held)
    result.counts.update(
        write_moves(session, tenant_id=tenant_id, moves=moves, now=now, source=source, update_states=False)
    )
    return result


def fire_due(*, tenant_id: int, now: datetime | None = None, limit: int = FIRE_LIMIT) -> dict[str, int]:
    """Step every enrollment whose timer is due or that heard an event (up to `limit` of them); idempotent."""
    now = now or _now()
    with runtime.session_scope() as session, session.begin():
        counts = fire_in_session(session, tenant_id=tenant_id, now=now, limit=limit)
    if counts.get("sends"):
        _request_writes(tenant_id)
    return counts


def fire_in_session(session: Session, *, tenant_id: int, now: datetime, limit: int = FIRE_LIMIT) -> dict[str, int]:
    """`fire_due` inside the caller's transaction."""
    claimed = session.execute(_CLAIM_DUE, {"tenant_id": tenant_id, "now": now, "limit": limit}).all()
    if not claimed:
        return {"fired": 0}
    by_enrollment: dict[int, list[Any]] = defaultdict(list)
    for action in sorted(claimed, key=lambda a: (a.due_at, a.id)):
        by_enrollment[action.enrollment_id].append(action)
    plans: dict[int, Plan | None] = {}
    moves: list[Move] = []
    for row in campaign_facts.locked_enrollments(session, tenant_id=tenant_id, ids=list(by_enrollment), now=now):
        plan = (
            plans.get(row.campaign_id)
            if row.campaign_id in plans
            else plans.setdefault(row.campaign_id, _plan_of(row.plan))
        )
        state = _state_of(row.state)
        if plan is None or state is None:
            continue
        facts = campaign_facts.facts_of(row)
        actions: list[Any] = []
        for due in by_enrollment[row.enrollment_id]:
            state, done = step(plan, state, _event_of(due, facts), now)
            actions += done
        moves.append(Move(row.enrollment_id, row.lead_id, row.campaign_id, plan, state, tuple(actions)))
    counts = write_moves(session, tenant_id=tenant_id, moves=moves, now=now, source="plan")
    return {"fired": len(claimed), "enrollments": len(moves), **counts}


def queue_events(session: Session, *, tenant_id: int, signals: Sequence[LeadSignal]) -> int:
    """Queue what leads did for their active enrollments' plans (the next `fire_due` hears it)."""
    if not signals:
        return 0
    rows = [
        {"lead_id": s.lead_id, "kind": s.kind, "at": s.at.isoformat(), "episode": s.episode, "ref": s.ref}
        for s in signals
    ]
    result = session.execute(_QUEUE_EVENTS, {"tenant_id": tenant_id, "rows": _json(rows)})
    return int(getattr(result, "rowcount", 0) or 0)


def _running_plan(session: Session, tenant_id: int, campaign_id: int) -> Plan:
    found = session.execute(_PLAN, {"tenant_id": tenant_id, "campaign_id": campaign_id}).one_or_none()
    if found is None:
        raise CampaignNotRunning(f"no campaign {campaign_id} in tenant {tenant_id}")
    if found.status != "running":
        raise CampaignNotRunning(f"campaign {campaign_id} is {found.status}, not running")
    plan = load_plan(found.plan)
    if not isinstance(plan, Plan):
        problems = "; ".join(str(problem) for problem in plan)
        raise CampaignNotRunning(f"campaign {campaign_id} has an invalid plan: {problems}")
    return plan


def _plan_of(data: Any) -> Plan | None:
    plan = load_plan(data)
    return plan if isinstance(plan, Plan) else None


def _state_of(data: Any) -> EnrollmentState | None:
    try:
        return state_from_json(dict(data))
    except (KeyError, TypeError, ValueError):
        return None


def _event_of(due: Any, facts: Any) -> Event:
    if due.kind == "event":
        payload = due.payload or {}
        at = datetime.fromisoformat(str(payload.get("at"))) if payload.get("at") else due.due_at
        episode = payload.get("episode")
        return LeadEvent(str(payload.get("event")), at, int(episode) if episode is not None else None, facts)
    return TimerFired(due.kind, str(due.node), facts)


def _control_row(lead_id: int, episode: int) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "node": None,
        "rung": 1,
        "is_control": True,
        "status": CONTROL,
        "episode": episode,
        "state": {},
        "variant": None,
        "next_action_at": None,
    }


def _request_writes(tenant_id: int) -> None:
    """Wake the writer for this tenant (after the commit, so it sees the new sends)."""
    queue.enqueue(runtime.redis_client(), "write_due", tenant_id=tenant_id)


def _now() -> datetime:
    return datetime.now(UTC)


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, separators=(",", ":"), default=str)
