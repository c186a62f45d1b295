"""The plan interpreter's doors: enroll leads in a campaign, and fire what is due.

Every enrollment moves only here, through the pure `step(plan, state, event, now)` of
`app/domain/plan`:
- `enroll_leads` (a launched campaign's audience) and the silence scan (`app/services/scan.py`,
  through `enroll_in_session`) start episodes: one set-based read of the leads, one step per
  class of leads that cannot step differently (`app/domain/plan/classes.py`: same episode,
  start, zone, reachable channels, branch outcomes and variant picks), then one statement
  that writes every row (`campaign_apply`);
- `fire_due` (the `fire_due` cron agent, `python -m app tick`) takes the tenant's due timers and
  the lead events waiting in `scheduled_actions` (kind `event`, queued by `queue_events`),
  locks their enrollments, steps each class of them (same plan, same state but for the draw,
  same events, same lead key) through its events in order, and writes the batch; it takes
  `FIRE_LIMIT` at a time, each round its own transaction, until nothing is due.

A hundred thousand leads make a few hundred classes, so the interpreter's cost no longer grows
with the audience; what does is the rows themselves (bench/campaigns.py).

A paused campaign's timers and events wait (they are not claimed until it runs again); a
killed one's were canceled by the kill. What a step asks to send becomes a `send` action that
the writer and the sender carry out (`docs/pipeline.md`).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import queue, runtime
from app.domain.plan import (
    Action,
    Enrolled,
    EnrollmentState,
    Event,
    LeadClasses,
    LeadEvent,
    LeadFacts,
    Plan,
    TimerFired,
    load_plan,
    state_from_json,
    step,
    variant_draw,
)
from app.services import campaign_apply, campaign_facts, campaign_routes
from app.services.campaign_apply import Batch, HeldOut, Outcome

FIRE_LIMIT = 5_000
"""Due timers and events taken per `fire_due` transaction; `fire_due` runs rounds until none is left."""
FIRE_ROUNDS = 100
"""At most this many rounds per `fire_due` call (500,000 timers), so one job cannot run forever."""

CONTROL = "control"

_PLAN = text("SELECT plan, status FROM campaigns WHERE id = :campaign_id AND tenant_id = :tenant_id")

# The oldest due timers and events of running campaigns, read in the order of
# ix_scheduled_actions_pending_interpreter so a round stops at its limit, then marked done by id.
_CLAIM_DUE = text(
    """
    WITH due AS (
        SELECT a.id FROM scheduled_actions AS a
        WHERE a.tenant_id = :tenant_id AND a.status = 'pending' AND a.kind <> 'send'
          AND a.due_at <= CAST(:now AS timestamptz)
          AND EXISTS (SELECT 1 FROM enrollments AS e JOIN campaigns AS c ON c.id = e.campaign_id
                      WHERE e.id = a.enrollment_id AND c.status = 'running')
        ORDER BY a.due_at, a.id
        LIMIT :limit
        FOR UPDATE OF a SKIP LOCKED
    )
    UPDATE scheduled_actions AS a SET status = 'done', updated_at = now()
    WHERE a.id = ANY (ARRAY(SELECT id FROM due))
    RETURNING a.id, a.enrollment_id, a.kind, a.node, a.due_at, CASE WHEN a.kind = 'event' THEN a.payload END AS payload
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
    classes: int = 0
    """How many distinct steps the interpreter took for the whole batch (one per class of leads)."""

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
    """Enroll these leads (the tenant's, not already in a running enrollment) and wake the writer;
    a lead who is away or snoozed starts the plan with its first send held until they are back."""
    with runtime.session_scope() as session, session.begin():
        at = now or _now()
        result = enroll_in_session(
            session, tenant_id=tenant_id, campaign_id=campaign_id, lead_ids=lead_ids, now=at, source=source
        )
        campaign_routes.hold_absent(
            session, tenant_id=tenant_id, campaign_id=campaign_id, lead_ids=result.enrolled, now=at
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
    classes = LeadClasses.of(plan)
    result = Enrollment(campaign_id)
    batch = Batch()
    index: dict[Hashable, int] = {}
    starts = start_nodes or {}
    prefix = f"{tenant_id}:{campaign_id}:"
    for candidate in campaign_facts.candidates(
        session, tenant_id=tenant_id, campaign_id=campaign_id, lead_ids=lead_ids, now=now
    ):
        lead = candidate.lead_id
        if candidate.busy:
            result.busy.append(lead)
            continue
        episode = candidate.prior_episode + 1
        if lead in control_ids:
            held = (CONTROL, episode)
            if held not in index:
                index[held] = len(batch.classes)
                batch.classes.append(HeldOut(campaign_id, episode, source))
            batch.add(index[held], lead_id=lead, draw=0.0)
            continue
        draw = variant_draw(prefix + str(lead))
        start = starts.get(lead)
        key = (episode, start, classes.key(candidate.facts, draw))
        if key not in index:
            event = Enrolled(facts=candidate.facts, episode=episode, draw=draw, start=start)
            after, actions = step(plan, EnrollmentState(episode=episode - 1), event, now)
            index[key] = len(batch.classes)
            batch.classes.append(Outcome(campaign_id, plan, after, actions))
        batch.add(index[key], lead_id=lead, draw=draw)
    if not batch.members:
        return result
    result.classes = len(batch.classes)
    written = campaign_apply.enroll(session, tenant_id=tenant_id, batch=batch, now=now, source=source)
    stored = set(written.lead_ids)
    for lead, cls in zip(batch.lead_ids, batch.members, strict=True):
        if lead not in stored:
            result.busy.append(lead)
        elif isinstance(batch.classes[cls], HeldOut):
            result.control.append(lead)
        else:
            result.enrolled.append(lead)
    result.counts.update(written.counts)
    return result


def fire_due(*, tenant_id: int, now: datetime | None = None, limit: int = FIRE_LIMIT) -> dict[str, int]:
    """Step every enrollment whose timer is due or that heard an event, `limit` per transaction; idempotent.

    A launch of a large audience makes its timers due together: rounds continue (each committed)
    until a round finds fewer than `limit`, up to `FIRE_ROUNDS`.
    """
    now = now or _now()
    total: Counter[str] = Counter()
    for _ in range(FIRE_ROUNDS):
        with runtime.session_scope() as session, session.begin():
            counts = fire_in_session(session, tenant_id=tenant_id, now=now, limit=limit)
        total.update(counts)
        if counts["fired"] < limit:
            break
    if total["sends"]:
        _request_writes(tenant_id)
    return {"fired": 0, **total}


def fire_in_session(session: Session, *, tenant_id: int, now: datetime, limit: int = FIRE_LIMIT) -> dict[str, int]:
    """One round of `fire_due` inside the caller's transaction."""
    claimed = session.execute(_CLAIM_DUE, {"tenant_id": tenant_id, "now": now, "limit": limit}).all()
    if not claimed:
        return {"fired": 0}
    by_enrollment: dict[int, list[Any]] = defaultdict(list)
    for action in sorted(claimed, key=lambda a: (a.due_at, a.id)):
        by_enrollment[action.enrollment_id].append(action)
    rows = campaign_facts.locked_enrollments(session, tenant_id=tenant_id, ids=list(by_enrollment), now=now)
    stored = campaign_facts.plans(session, [row.campaign_id for row in rows])
    plans = {campaign: _plan_of(data) for campaign, data in stored.items()}
    keyers = {campaign: LeadClasses.of(plan) for campaign, plan in plans.items() if plan is not None}
    batch = Batch()
    index: dict[Hashable, int | None] = {}
    for row in rows:
        plan, draw = plans.get(row.campaign_id), _draw_of(row.draw)
        if plan is None or draw is None:
            continue
        facts = campaign_facts.facts_of(row)
        events = tuple(_event_of(due) for due in by_enrollment[row.enrollment_id])
        key = (row.campaign_id, row.shape, events, keyers[row.campaign_id].key(facts, draw))
        if key not in index:
            index[key] = _fire_class(batch, row, plan, draw, facts, events, now)
        cls = index[key]
        if cls is not None:
            batch.add(cls, lead_id=row.lead_id, draw=draw, enrollment_id=row.enrollment_id)
    written = campaign_apply.move(session, tenant_id=tenant_id, batch=batch, now=now, source="plan")
    return {"fired": len(claimed), "enrollments": len(written.lead_ids), **written.counts}


def _fire_class(
    batch: Batch, row: Any, plan: Plan, draw: float, facts: LeadFacts, events: tuple[Event, ...], now: datetime
) -> int | None:
    """Step one enrollment of a new class through its events; the class's index in the batch (None: unreadable)."""
    state = _state_of(row.shape, draw)
    if state is None:
        return None
    actions: list[Action] = []
    for event in events:
        state, done = step(plan, state, replace(event, facts=facts), now)
        actions += done
    batch.classes.append(Outcome(row.campaign_id, plan, state, tuple(actions)))
    return len(batch.classes) - 1


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


def _state_of(shape: str, draw: float) -> EnrollmentState | None:
    """The stored state (its shape and draw, as `campaign_facts.locked_enrollments` reads it); None when unreadable."""
    try:
        data = json.loads(shape)
        return state_from_json({**data, "draw": draw})
    except (KeyError, TypeError, ValueError):
        return None


def _draw_of(raw: str | None) -> float | None:
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def _event_of(due: Any) -> Event:
    """The event a claimed action stands for, without the lead's facts (the step adds them)."""
    if due.kind == "event":
        payload = due.payload or {}
        at = datetime.fromisoformat(str(payload.get("at"))) if payload.get("at") else due.due_at
        episode = payload.get("episode")
        return LeadEvent(str(payload.get("event")), at, int(episode) if episode is not None else None)
    return TimerFired(due.kind, str(due.node))


def _request_writes(tenant_id: int) -> None:
    """Wake the writer for this tenant (after the commit, so it sees the new sends)."""
    queue.enqueue(runtime.redis_client(), "write_due", tenant_id=tenant_id)


def _now() -> datetime:
    return datetime.now(UTC)


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, separators=(",", ":"), default=str)
