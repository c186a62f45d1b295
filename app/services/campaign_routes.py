"""Which open enrollments a plan routes an answer through, instead of the answer stopping them.

Every door through which a lead answers stops its enrollments at once (`reactions.py`): nobody
who answered is written to again by accident. A plan may say otherwise for a reply: a node with
a transition on `replied` to a node that is not a stop (a thank-you, a booking link) keeps the
enrollment, and the reply waits in `scheduled_actions` for the planner to step it. A route to a
stop node is the same as stopping, so it stops now, with its pending sends canceled in the same
transaction.

Helpers: they run inside the caller's transaction and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.plan import Plan, StopNode, load_plan

_OPEN = text(
    """
    SELECT e.id, e.lead_id, e.current_node, e.episode, e.campaign_id, c.plan
    FROM enrollments AS e JOIN campaigns AS c ON c.id = e.campaign_id
    WHERE e.tenant_id = :tenant_id AND e.lead_id = ANY(CAST(:lead_ids AS bigint[])) AND e.status = 'active'
    ORDER BY e.id
    """
)

_QUEUE = text(
    """
    INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key, payload)
    SELECT e.tenant_id, e.id, e.lead_id, 'event', NULL, CAST(:at AS timestamptz),
           e.id || ':event:' || CAST(:event AS text) || ':' || CAST(:ref AS text),
           jsonb_build_object('event', CAST(:event AS text), 'at', CAST(:at AS timestamptz))
    FROM enrollments AS e WHERE e.id = ANY(CAST(:ids AS bigint[]))
    ON CONFLICT (dedupe_key) DO NOTHING
    """
)


def routed_elsewhere(session: Session, *, tenant_id: int, lead_ids: Sequence[int], event: str) -> list[int]:
    """The leads' active enrollments whose current node routes `event` to a node that is not a stop."""
    plans: dict[int, Plan | None] = {}
    kept = []
    for row in session.execute(_OPEN, {"tenant_id": tenant_id, "lead_ids": sorted(set(lead_ids))}):
        if row.campaign_id not in plans:
            parsed = load_plan(row.plan)
            plans[row.campaign_id] = parsed if isinstance(parsed, Plan) else None
        plan = plans[row.campaign_id]
        node = plan.by_id.get(row.current_node or "") if plan else None
        route = next((t for t in node.transitions if t.on == event), None) if node else None
        if plan and route and not isinstance(plan.by_id.get(route.to), StopNode):
            kept.append(int(row.id))
    return kept


def queue_for_plans(session: Session, *, enrollment_ids: Sequence[int], event: str, at: datetime, ref: str) -> None:
    """Queue the answer for these enrollments' plans (the planner steps it within a minute)."""
    if enrollment_ids:
        params = {"ids": list(enrollment_ids), "event": event, "at": at, "ref": ref}
        session.execute(_QUEUE, params)


# Shifts each enrollment of `open` (id, until) so its earliest pending work falls due at `until`.
_SHIFT = """
    pending AS (
        SELECT a.enrollment_id AS id, a.due_at AS at
        FROM scheduled_actions AS a JOIN open AS o ON o.id = a.enrollment_id
        WHERE a.status = 'pending' AND a.kind <> 'event'
        UNION ALL
        SELECT m.enrollment_id, m.scheduled_for
        FROM outbound_messages AS m JOIN open AS o ON o.id = m.enrollment_id
        WHERE m.status = 'pending'
    ), shift AS (
        SELECT p.id, o.until - min(p.at) AS by
        FROM pending AS p JOIN open AS o ON o.id = p.id
        GROUP BY p.id, o.until HAVING min(p.at) < o.until
    ), actions AS (
        UPDATE scheduled_actions AS a SET due_at = a.due_at + s.by, updated_at = now()
        FROM shift AS s WHERE a.enrollment_id = s.id AND a.status = 'pending' AND a.kind <> 'event'
    ), outbox AS (
        UPDATE outbound_messages AS m SET scheduled_for = m.scheduled_for + s.by, updated_at = now()
        FROM shift AS s WHERE m.enrollment_id = s.id AND m.status = 'pending'
    )
    UPDATE enrollments AS e
    SET next_action_at = e.next_action_at + s.by,
        state = CASE WHEN jsonb_typeof(e.state -> 'timer') = 'object'
                     THEN jsonb_set(e.state, '{timer,due_at}',
                                    to_jsonb(CAST(e.state -> 'timer' ->> 'due_at' AS timestamptz) + s.by))
                     ELSE e.state END,
        updated_at = now()
    FROM shift AS s WHERE e.id = s.id
    RETURNING e.id
"""

_WAIT_UNTIL = text(
    """
    WITH open AS (
        SELECT e.id, CAST(:until AS timestamptz) AS until FROM enrollments AS e
        WHERE e.tenant_id = :tenant_id AND e.lead_id = :lead_id AND e.status IN ('active', 'waiting')
        ORDER BY e.id
        FOR NO KEY UPDATE OF e
    ),"""
    + _SHIFT
)

_HOLD_ABSENT = text(
    """
    WITH open AS (
        SELECT e.id, greatest(l.resume_at, l.snoozed_until) AS until
        FROM enrollments AS e JOIN leads AS l ON l.id = e.lead_id
        WHERE e.tenant_id = :tenant_id AND e.campaign_id = :campaign_id
          AND e.lead_id = ANY(CAST(:lead_ids AS bigint[]))  -- any status: a one-send plan has completed
          AND greatest(l.resume_at, l.snoozed_until) > CAST(:now AS timestamptz)
        ORDER BY e.id
        FOR NO KEY UPDATE OF e
    ),"""
    + _SHIFT
)


def wait_until(session: Session, *, tenant_id: int, lead_id: int, until: datetime) -> list[int]:
    """Hold the lead's open enrollments until `until` (an out-of-office return date); the ids moved.

    Why shift rather than cancel: the plan is unchanged, only absent for a while. Each
    enrollment's pending work (its due sends, its timers, its written but unsent messages) moves
    by one offset, so the earliest of it falls due at `until` and the spacing the plan chose
    between the rest is kept; the stored state's timer moves with it. An enrollment whose next
    step is already at or after `until` is left alone. Queued lead events are not moved: they
    describe what happened, and the planner steps them as they come.
    """
    params = {"tenant_id": tenant_id, "lead_id": lead_id, "until": until}
    return [int(row.id) for row in session.execute(_WAIT_UNTIL, params)]


def hold_absent(
    session: Session, *, tenant_id: int, campaign_id: int, lead_ids: Sequence[int], now: datetime
) -> list[int]:
    """Hold the campaign's new enrollments of leads who are away or asked for "not now" until they
    are back (the later of `resume_at` and `snoozed_until`); the enrollment ids moved.

    A launch enrolls its whole audience at once, and the scan's rule that an absent lead is left
    alone would otherwise not hold for it: the plan starts, its first send waits for the return.
    """
    if not lead_ids:
        return []
    params = {"tenant_id": tenant_id, "campaign_id": campaign_id, "lead_ids": sorted(set(lead_ids)), "now": now}
    return [int(row.id) for row in session.execute(_HOLD_ABSENT, params)]
