"""Carry out what the plan interpreter decided, for a whole batch of enrollments, in one statement.

The interpreter (`app/domain/plan/machine.py`) is pure: each step returns the enrollment's new
state and the actions that get it there. A batch steps once per class of enrollments that
cannot step differently (`app/domain/plan/classes.py`), so what it writes is a few templates,
one per class, and a few columns of the batch (the enrollment or the lead, its class, the
lead's variant draw). One statement joins the two and writes every row, without a JSON object
per enrollment:

- `Send` → a pending `send` action due at the planned moment, keyed
  `<tenant>:<campaign>:<lead>:e<episode>:<node>:send`, so the same node can go out again in a
  later silence episode and never twice in one (the writer keys its outbox row the same way);
- `Schedule` → a pending timer action (only the step's last one: an earlier one in the same
  step was already superseded), `CancelTimers` → the enrollment's pending timers canceled
  (the timer the step arms is not among them);
- `Moved`, `Complete`, `Stop` → `campaign_transitions` rows, the audit of every move, in order;
- the enrollment row takes the new state (status, node, next timer, variant, rung) and a lead
  whose rung message is planned climbs to that rung (`leads.silence_level`, the highest of the
  step's rungs), which is what the console's ladder and the scan read.

The stored state is the class's, with the lead's own draw and no lead facts: every step the
services take is given the lead's facts as they are then (`campaign_facts`), never the stored
ones. Helpers: they run inside the caller's transaction and never commit.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from app.domain.plan import (
    Action,
    CancelTimers,
    Complete,
    EnrollmentState,
    Moved,
    Plan,
    Schedule,
    Send,
    SendNode,
    Stop,
    state_to_json,
)
from app.domain.plan.state import NO_FACTS

_TEMPLATES = """
plan_class AS (
    SELECT * FROM jsonb_to_recordset(CAST(:classes AS jsonb))
        AS c(cls int, campaign_id bigint, status text, node text, rung smallint, is_control boolean, episode int,
             state jsonb, variant text, next_action_at timestamptz, climb int, cancel boolean,
             from_nodes text[], to_nodes text[], events text[], reasons text[])
),
plan_action AS (
    SELECT * FROM jsonb_to_recordset(CAST(:actions AS jsonb))
        AS t(cls int, kind text, node text, due_at timestamptz, key_head text, key_tail text, payload jsonb)
)"""

# The pending timers of the moved enrollments whose step canceled them, by the enrollments' index
# (the statement has this part only when some class cancels: a scan of the tenant's pending work
# for nothing would cost more than the rest).
_CANCELED = """
canceled AS (
    UPDATE scheduled_actions AS a SET status = 'canceled', updated_at = now()
    WHERE a.enrollment_id = ANY (ARRAY(
              SELECT m.enrollment_id FROM moved AS m JOIN plan_class AS c ON c.cls = m.cls WHERE c.cancel))
      AND a.status = 'pending' AND a.kind NOT IN ('send', 'event')
),"""

# What every moved enrollment (`moved`: enrollment_id, lead_id, cls) writes besides its own row.
_EFFECTS = """
scheduled AS (
    INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key, payload)
    SELECT :tenant_id, m.enrollment_id, m.lead_id, t.kind, t.node, t.due_at, t.key_head || m.lead_id || t.key_tail,
           t.payload
    FROM moved AS m JOIN plan_action AS t ON t.cls = m.cls
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING kind
),
audit AS (  -- move by move (every enrollment's first, then every second, ...), so ids follow the moves
    INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
    SELECT :tenant_id, r.enrollment_id, r.from_node, r.to_node, r.event, r.reason, CAST(:now AS timestamptz)
    FROM generate_series(1, (SELECT max(cardinality(events)) FROM plan_class)) AS p(position)
    CROSS JOIN LATERAL (
        SELECT m.enrollment_id, c.from_nodes[p.position] AS from_node, c.to_nodes[p.position] AS to_node,
               c.events[p.position] AS event, c.reasons[p.position] AS reason
        FROM moved AS m JOIN plan_class AS c ON c.cls = m.cls
        WHERE cardinality(c.events) >= p.position
        OFFSET 0
    ) AS r
    RETURNING 1
),
climbed AS (
    UPDATE leads AS l
    SET silence_level = greatest(l.silence_level, c.climb),
        recovery_state = CASE WHEN l.recovery_state IN ('active', 'silent') THEN 'in_recovery'
                              ELSE l.recovery_state END,
        updated_at = now()
    FROM moved AS m JOIN plan_class AS c ON c.cls = m.cls
    WHERE c.climb IS NOT NULL AND l.id = m.lead_id AND l.tenant_id = :tenant_id
)
SELECT (SELECT coalesce(array_agg(lead_id), '{}') FROM moved) AS moved,
       (SELECT count(*) FROM scheduled WHERE kind = 'send') AS sends,
       (SELECT count(*) FROM scheduled WHERE kind <> 'send') AS timers,
       (SELECT count(*) FROM audit) AS transitions
"""

_STATE = "c.state || CASE WHEN c.is_control THEN '{}' ELSE jsonb_build_object('draw', CAST(x.draw AS numeric)) END"

# Start (or restart, for a lead whose earlier episode ended) one enrollment per lead; a lead
# in a running enrollment of this campaign keeps it and is left out of `moved`.
_ENROLL = f"""
    WITH lead AS (
        SELECT * FROM unnest(CAST(string_to_array(:lead_ids, ',') AS bigint[]),
                             CAST(string_to_array(:cls, ',') AS int[]), string_to_array(:draws, ','))
            AS x(lead_id, cls, draw)
    ), {_TEMPLATES},
    stored AS (
        INSERT INTO enrollments AS e
            (tenant_id, campaign_id, lead_id, current_node, rung, is_control, status, episode, state, variant,
             next_action_at, enrolled_at, completed_at)
        SELECT :tenant_id, c.campaign_id, x.lead_id, c.node, coalesce(c.rung, 0), c.is_control, c.status, c.episode,
               {_STATE}, c.variant, c.next_action_at, CAST(:now AS timestamptz),
               CASE WHEN c.status IN ('completed', 'stopped') THEN CAST(:now AS timestamptz) END
        FROM lead AS x JOIN plan_class AS c ON c.cls = x.cls
        ON CONFLICT (campaign_id, lead_id) DO UPDATE
        SET current_node = excluded.current_node, rung = excluded.rung, is_control = excluded.is_control,
            status = excluded.status, episode = excluded.episode, state = excluded.state,
            variant = excluded.variant, next_action_at = excluded.next_action_at,
            enrolled_at = excluded.enrolled_at, completed_at = excluded.completed_at, updated_at = now()
        WHERE e.status NOT IN ('active', 'waiting')
        RETURNING e.id, e.lead_id
    ),
    moved AS (
        SELECT s.id AS enrollment_id, s.lead_id, x.cls FROM stored AS s JOIN lead AS x ON x.lead_id = s.lead_id
    ),"""

# Move enrollments the caller has locked to their class's state.
_STEP = f"""
    WITH lead AS (
        SELECT * FROM unnest(CAST(string_to_array(:enrollment_ids, ',') AS bigint[]),
                             CAST(string_to_array(:cls, ',') AS int[]), string_to_array(:draws, ','))
            AS x(enrollment_id, cls, draw)
    ), {_TEMPLATES},
    moved AS (
        UPDATE enrollments AS e
        SET state = {_STATE}, status = c.status, current_node = c.node, next_action_at = c.next_action_at,
            variant = coalesce(c.variant, e.variant), rung = coalesce(c.rung, e.rung),
            completed_at = CASE WHEN c.status IN ('completed', 'stopped') THEN CAST(:now AS timestamptz) END,
            updated_at = now()
        FROM lead AS x JOIN plan_class AS c ON c.cls = x.cls
        WHERE e.id = x.enrollment_id AND e.tenant_id = :tenant_id
        RETURNING e.id AS enrollment_id, e.lead_id, x.cls
    ),"""


@dataclass(frozen=True)
class Outcome:
    """One step as every enrollment of its class takes it; `after` carries one of its leads' draw and facts."""

    campaign_id: int
    plan: Plan
    after: EnrollmentState
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class HeldOut:
    """A lead of the hold-out: an enrollment marked `control`, never contacted."""

    campaign_id: int
    episode: int
    reason: str


@dataclass
class Batch:
    """The enrollments one statement moves: per enrollment its lead, its draw and its class (an index of `classes`)."""

    classes: list[Outcome | HeldOut] = field(default_factory=list)
    enrollment_ids: list[int] = field(default_factory=list)
    lead_ids: list[int] = field(default_factory=list)
    draws: list[float] = field(default_factory=list)
    members: list[int] = field(default_factory=list)

    def add(self, cls: int, *, lead_id: int, draw: float, enrollment_id: int = 0) -> None:
        self.enrollment_ids.append(enrollment_id)
        self.lead_ids.append(lead_id)
        self.draws.append(draw)
        self.members.append(cls)


@dataclass(frozen=True)
class Written:
    """What the statement wrote: the leads it moved (in no order) and the rows it added."""

    lead_ids: list[int]
    counts: dict[str, int]


def send_key(tenant_id: int, campaign_id: int, lead_id: int, episode: int, node: str) -> str:
    """The dedupe key of a node's send in one episode (the writer builds its outbox key from it)."""
    return f"{_key_head(tenant_id, campaign_id)}{lead_id}{_send_tail(episode, node)}"


def timer_key(tenant_id: int, campaign_id: int, lead_id: int, episode: int, kind: str, node: str, due: datetime) -> str:
    """The dedupe key of a timer: one per enrollment, episode, node, kind and due moment."""
    return f"{_key_head(tenant_id, campaign_id)}{lead_id}{_timer_tail(episode, kind, node, due)}"


def _key_head(tenant_id: int, campaign_id: int) -> str:
    return f"{tenant_id}:{campaign_id}:"


def _send_tail(episode: int, node: str) -> str:
    return f":e{episode}:{node}:send"


def _timer_tail(episode: int, kind: str, node: str, due: datetime) -> str:
    return f":e{episode}:{node}:{kind}:{due.strftime('%Y%m%dT%H%M%S%z')}"


def enroll(session: Session, *, tenant_id: int, batch: Batch, now: datetime, source: str) -> Written:
    """Start the batch's enrollments (its leads, with no enrollment id yet) and write what their first step asked."""
    params = {"lead_ids": _column(batch.lead_ids), "cls": _column(batch.members), "draws": _draws(batch)}
    return _write(session, _ENROLL, tenant_id=tenant_id, batch=batch, now=now, source=source, params=params)


def move(session: Session, *, tenant_id: int, batch: Batch, now: datetime, source: str) -> Written:
    """Store the batch's locked enrollments' new states and write what their steps asked."""
    params = {"enrollment_ids": _column(batch.enrollment_ids), "cls": _column(batch.members), "draws": _draws(batch)}
    return _write(session, _STEP, tenant_id=tenant_id, batch=batch, now=now, source=source, params=params)


@functools.cache
def _statement(head: str, cancel: bool) -> TextClause:
    return text(head + (_CANCELED if cancel else "") + _EFFECTS)


def _write(
    session: Session,
    head: str,
    *,
    tenant_id: int,
    batch: Batch,
    now: datetime,
    source: str,
    params: dict[str, Any],
) -> Written:
    if not batch.members:
        return Written([], {"sends": 0, "timers": 0, "transitions": 0})
    classes, actions = [], []
    for cls, outcome in enumerate(batch.classes):
        if isinstance(outcome, HeldOut):
            classes.append(_held_out_row(cls, outcome))
            continue
        classes.append(_class_row(cls, outcome, source))
        actions += _action_rows(cls, tenant_id, outcome, source)
    cancel = any(row["cancel"] for row in classes)
    row = session.execute(
        _statement(head, cancel),
        {**params, "tenant_id": tenant_id, "now": now, "classes": _json(classes), "actions": _json(actions)},
    ).one()
    counts = {"sends": int(row.sends), "timers": int(row.timers), "transitions": int(row.transitions)}
    return Written(list(row.moved), counts)


def _column(values: list[int]) -> str:
    """A column of the batch as one comma-separated text (split in SQL): far cheaper to send than a list."""
    return ",".join(map(str, values))


def _draws(batch: Batch) -> str:
    """Each draw as its shortest exact decimal, so the stored state holds the very float the step used."""
    return ",".join(map(repr, batch.draws))


def _class_row(cls: int, outcome: Outcome, source: str) -> dict[str, Any]:
    after = outcome.after
    state = state_to_json(replace(after, facts=NO_FACTS))
    del state["draw"]
    rungs = [_rung(outcome.plan, action) for action in outcome.actions if isinstance(action, Send)]
    numbered = [rung for rung in rungs if rung is not None]
    audit = _audit_rows(outcome, source)
    return {
        "cls": cls,
        "campaign_id": outcome.campaign_id,
        "status": after.status,
        "node": after.node,
        "rung": numbered[-1] if numbered else None,
        "is_control": False,
        "episode": after.episode,
        "state": state,
        "variant": after.variant,
        "next_action_at": after.timer.due_at.isoformat() if after.timer else None,
        "climb": max((rung for rung in numbered if rung), default=None),
        "cancel": any(isinstance(action, CancelTimers) for action in outcome.actions),
        "from_nodes": [row[0] for row in audit],
        "to_nodes": [row[1] for row in audit],
        "events": [row[2] for row in audit],
        "reasons": [row[3] for row in audit],
    }


def _held_out_row(cls: int, held: HeldOut) -> dict[str, Any]:
    return {
        "cls": cls,
        "campaign_id": held.campaign_id,
        "status": "control",
        "node": None,
        "rung": 1,
        "is_control": True,
        "episode": held.episode,
        "state": {},
        "variant": None,
        "next_action_at": None,
        "climb": None,
        "cancel": False,
        "from_nodes": [None],
        "to_nodes": [None],
        "events": ["held_out"],
        "reasons": [held.reason],
    }


def _action_rows(cls: int, tenant_id: int, outcome: Outcome, source: str) -> list[dict[str, Any]]:
    """The class's sends and the timer it is left with; the lead's id goes between `key_head` and `key_tail`."""
    head = _key_head(tenant_id, outcome.campaign_id)
    rows = []
    for action in outcome.actions:
        if not isinstance(action, Send):
            continue
        node = outcome.plan.node(action.node)
        rows.append(
            {
                "cls": cls,
                "kind": "send",
                "node": action.node,
                "due_at": action.not_before.isoformat(),
                "key_head": head,
                "key_tail": _send_tail(action.episode, action.node),
                "payload": {
                    "rung": node.rung if isinstance(node, SendNode) else None,
                    "channel": action.channel,
                    "channels": list(node.channels) if isinstance(node, SendNode) else [action.channel],
                    "variant": action.variant,
                    "episode": action.episode,
                    "template": action.template,
                    "brief": action.brief,
                    "source": source,
                },
            }
        )
    timer = outcome.after.timer
    armed = timer is not None and any(
        isinstance(a, Schedule) and (a.kind, a.node, a.due_at) == (timer.kind, timer.node, timer.due_at)
        for a in outcome.actions
    )
    if timer is not None and armed:
        episode = outcome.after.episode
        rows.append(
            {
                "cls": cls,
                "kind": timer.kind,
                "node": timer.node,
                "due_at": timer.due_at.isoformat(),
                "key_head": head,
                "key_tail": _timer_tail(episode, timer.kind, timer.node, timer.due_at),
                "payload": {"episode": episode},
            }
        )
    return rows


def _audit_rows(outcome: Outcome, source: str) -> list[tuple[str | None, str | None, str, str]]:
    """One row per move of the step; a move's reason names who started the step (the scan, a rep, the plan)."""
    rows: list[tuple[str | None, str | None, str, str]] = []
    node = outcome.after.node
    for action in outcome.actions:
        if isinstance(action, Moved):
            rows.append((action.from_node, action.to_node, action.trigger, source))
        elif isinstance(action, Complete):
            rows.append((node, node, "completed", action.reason))
        elif isinstance(action, Stop):
            rows.append((node, node, "stopped", action.reason))
    return rows


def _rung(plan: Plan, send: Send) -> int | None:
    node = plan.node(send.node)
    return node.rung if isinstance(node, SendNode) else None


def _json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(rows, separators=(",", ":"), default=str)
