"""Carry out what the plan interpreter decided, for a whole batch of enrollments at once.

The interpreter (`app/domain/plan/machine.py`) is pure: each step returns the enrollment's new
state and the actions that get it there. Here those actions become rows, one statement per
kind of row for the whole batch (never one per enrollment):

- `Send` → a pending `send` action due at the planned moment, keyed
  `<tenant>:<campaign>:<lead>:e<episode>:<node>:send`, so the same node can go out again in a
  later silence episode and never twice in one (the writer keys its outbox row the same way);
- `Schedule` → a pending timer action (only the step's last one: an earlier one in the same
  batch was already superseded), `CancelTimers` → the enrollment's pending timers canceled
  first;
- `Moved`, `Complete`, `Stop` → `campaign_transitions` rows, the audit of every move;
- the enrollment row takes the new state (status, node, next timer, variant, rung), and a lead
  whose rung message is planned climbs to that rung (`leads.silence_level`), which is what the
  console's ladder and the scan read.

Helpers: they run inside the caller's transaction and never commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger

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

_CANCEL_TIMERS = text(
    """
    UPDATE scheduled_actions SET status = 'canceled', updated_at = now()
    WHERE tenant_id = :tenant_id AND enrollment_id = ANY(:ids) AND status = 'pending'
      AND kind NOT IN ('send', 'event')
    """
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))

_SCHEDULE = text(
    """
    INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key, payload)
    SELECT :tenant_id, r.enrollment_id, r.lead_id, r.kind, r.node, r.due_at, r.dedupe_key, r.payload
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS r(enrollment_id bigint, lead_id bigint, kind text, node text, due_at timestamptz, dedupe_key text,
             payload jsonb)
    ON CONFLICT (dedupe_key) DO NOTHING
    """
)

_UPDATE_ENROLLMENTS = text(
    """
    UPDATE enrollments AS e
    SET state = r.state, status = r.status, current_node = r.node, next_action_at = r.next_action_at,
        variant = coalesce(r.variant, e.variant), rung = coalesce(r.rung, e.rung),
        completed_at = CASE WHEN r.status IN ('completed', 'stopped') THEN CAST(:now AS timestamptz) END,
        updated_at = now()
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS r(enrollment_id bigint, state jsonb, status text, node text, next_action_at timestamptz, variant text,
             rung smallint)
    WHERE e.id = r.enrollment_id AND e.tenant_id = :tenant_id
    """
)

_AUDIT = text(
    """
    INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
    SELECT :tenant_id, r.enrollment_id, r.from_node, r.to_node, r.event, r.reason, CAST(:now AS timestamptz)
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS r(enrollment_id bigint, from_node text, to_node text, event text, reason text)
    """
)

_CLIMB = text(
    """
    UPDATE leads AS l
    SET silence_level = greatest(l.silence_level, r.rung),
        recovery_state = CASE WHEN l.recovery_state IN ('active', 'silent') THEN 'in_recovery'
                              ELSE l.recovery_state END,
        updated_at = now()
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(lead_id bigint, rung int)
    WHERE l.id = r.lead_id AND l.tenant_id = :tenant_id
    """
)


@dataclass(frozen=True)
class Move:
    """One enrollment's step (or steps) in this batch: where it ended and what it asked for."""

    enrollment_id: int
    lead_id: int
    campaign_id: int
    plan: Plan
    after: EnrollmentState
    actions: tuple[Action, ...]


def send_key(tenant_id: int, campaign_id: int, lead_id: int, episode: int, node: str) -> str:
    """The dedupe key of a node's send in one episode (the writer builds its outbox key from it)."""
    return f"{tenant_id}:{campaign_id}:{lead_id}:e{episode}:{node}:send"


def write_moves(
    session: Session, *, tenant_id: int, moves: Sequence[Move], now: datetime, source: str, update_states: bool = True
) -> dict[str, int]:
    """Write the batch's moves; `update_states=False` when the caller already stored the states."""
    if not moves:
        return {"sends": 0, "timers": 0, "transitions": 0}
    canceled = [move.enrollment_id for move in moves if any(isinstance(a, CancelTimers) for a in move.actions)]
    if canceled:
        session.execute(_CANCEL_TIMERS, {"tenant_id": tenant_id, "ids": canceled})
    sends = [row for move in moves for row in _send_rows(tenant_id, move, source)]
    timers = [row for move in moves for row in _timer_rows(tenant_id, move)]
    if sends or timers:
        session.execute(_SCHEDULE, {"tenant_id": tenant_id, "rows": _json(sends + timers)})
    if update_states:
        session.execute(_UPDATE_ENROLLMENTS, {"tenant_id": tenant_id, "now": now, "rows": _json(state_rows(moves))})
    audit = [row for move in moves for row in _audit_rows(move, source)]
    if audit:
        session.execute(_AUDIT, {"tenant_id": tenant_id, "now": now, "rows": _json(audit)})
    climbs = [{"lead_id": row["lead_id"], "rung": row["payload"]["rung"]} for row in sends if row["payload"]["rung"]]
    if climbs:
        session.execute(_CLIMB, {"tenant_id": tenant_id, "rows": _json(climbs)})
    return {"sends": len(sends), "timers": len(timers), "transitions": len(audit)}


def state_rows(moves: Sequence[Move]) -> list[dict[str, Any]]:
    """The enrollment columns each move leaves behind."""
    return [
        {
            "enrollment_id": move.enrollment_id,
            "lead_id": move.lead_id,
            "state": state_to_json(move.after),
            "status": move.after.status,
            "node": move.after.node,
            "next_action_at": move.after.timer.due_at.isoformat() if move.after.timer else None,
            "variant": move.after.variant,
            "rung": _last_rung(move),
        }
        for move in moves
    ]


def _send_rows(tenant_id: int, move: Move, source: str) -> list[dict[str, Any]]:
    rows = []
    for action in move.actions:
        if not isinstance(action, Send):
            continue
        node = move.plan.node(action.node)
        rows.append(
            {
                "enrollment_id": move.enrollment_id,
                "lead_id": move.lead_id,
                "kind": "send",
                "node": action.node,
                "due_at": action.not_before.isoformat(),
                "dedupe_key": send_key(tenant_id, move.campaign_id, move.lead_id, action.episode, action.node),
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
    return rows


def _timer_rows(tenant_id: int, move: Move) -> list[dict[str, Any]]:
    """The pending timer the enrollment is left with, if this batch armed it."""
    timer = move.after.timer
    armed = any(
        isinstance(a, Schedule) and (a.kind, a.node, a.due_at) == (timer.kind, timer.node, timer.due_at)
        for a in move.actions
        if timer is not None
    )
    if timer is None or not armed:
        return []
    episode = move.after.episode
    stamp = timer.due_at.strftime("%Y%m%dT%H%M%S%z")
    key = f"{tenant_id}:{move.campaign_id}:{move.lead_id}:e{episode}:{timer.node}:{timer.kind}:{stamp}"
    return [
        {
            "enrollment_id": move.enrollment_id,
            "lead_id": move.lead_id,
            "kind": timer.kind,
            "node": timer.node,
            "due_at": timer.due_at.isoformat(),
            "dedupe_key": key,
            "payload": {"episode": episode},
        }
    ]


def _audit_rows(move: Move, source: str) -> list[dict[str, Any]]:
    """One row per move of the step; a move's reason names who started the step (the scan, a rep, the plan)."""
    rows: list[dict[str, Any]] = []
    node = move.after.node
    for action in move.actions:
        if isinstance(action, Moved):
            row: tuple[str | None, str | None, str, str] = (action.from_node, action.to_node, action.trigger, source)
        elif isinstance(action, Complete):
            row = (node, node, "completed", action.reason)
        elif isinstance(action, Stop):
            row = (node, node, "stopped", action.reason)
        else:
            continue
        from_node, to_node, event, reason = row
        rows.append(
            {
                "enrollment_id": move.enrollment_id,
                "from_node": from_node,
                "to_node": to_node,
                "event": event,
                "reason": reason,
            }
        )
    return rows


def _last_rung(move: Move) -> int | None:
    rungs = [move.plan.node(a.node) for a in move.actions if isinstance(a, Send)]
    numbered = [node.rung for node in rungs if isinstance(node, SendNode) and node.rung is not None]
    return numbered[-1] if numbered else None


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, separators=(",", ":"), default=str)
