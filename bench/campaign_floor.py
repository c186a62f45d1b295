"""What the rows alone cost: the floor `python -m bench.campaigns` measures each service against.

Each floor writes the same rows as the service it stands for (the same tables, counts and
shapes, so the same indexes, foreign-key checks and WAL) in one INSERT/UPDATE … SELECT
statement of constants: no lead read, no facts, no step, no templates. Whatever a service takes
beyond its floor is its own; the floor itself is what this schema on this machine asks of any
way of writing those rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

_STATE = (
    '{"status":"active","node":"wait-1","episode":1,"entered_at":"2026-11-20T17:00:00+00:00",'
    '"clock_from":"2026-11-20T17:00:00+00:00","seen":[],"sent":[["rung-1",1]],'
    '"last_send_at":"2026-11-20T17:00:00+00:00",'
    '"timer":{"kind":"wait","node":"wait-1","due_at":"2026-11-21T17:00:00+00:00"},"variant":null}'
)
_PAYLOAD = (
    '{"rung":1,"channel":"email","channels":["email","sms"],"variant":null,"episode":1,"template":null,'
    '"brief":"a gentle check-in","source":"launch"}'
)
_MOVES = "(VALUES (1, NULL, 'rung-1', 'enrolled'), (2, 'rung-1', 'wait-1', 'next'), (3, 'wait-1', 'wait-1', 'next'))"

# The enrollments of the leads the service enrolled, a send and a timer for as many of them as
# it reached, as many audit rows per enrollment as it wrote, the climb of the reached leads.
ENROLL = sa.text(
    f"""
    WITH x AS (SELECT unnest(CAST(string_to_array(:lead_ids, ',') AS bigint[])) AS lead_id),
    stored AS (
        INSERT INTO enrollments AS e
            (tenant_id, campaign_id, lead_id, current_node, rung, is_control, status, episode, state, variant,
             next_action_at, enrolled_at)
        SELECT :tenant_id, :campaign_id, x.lead_id, 'wait-1', 1, false, 'active', 1,
               CAST(:state AS jsonb) || jsonb_build_object('draw', 0.123456789), NULL, :due, :now
        FROM x
        ON CONFLICT (campaign_id, lead_id) DO UPDATE
        SET status = excluded.status, state = excluded.state, episode = e.episode + 1, updated_at = now()
        WHERE e.status NOT IN ('active', 'waiting')
        RETURNING e.id, e.lead_id
    ),
    reached AS (SELECT * FROM stored ORDER BY lead_id LIMIT :reached),
    actions AS (
        INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key, payload)
        SELECT :tenant_id, r.id, r.lead_id, k.kind, k.node, :now,
               :tenant_id || ':' || :campaign_id || ':' || r.lead_id || ':e1:' || k.node || ':' || k.kind,
               CAST(:payload AS jsonb)
        FROM reached AS r CROSS JOIN (VALUES ('send', 'rung-1'), ('wait', 'wait-1')) AS k(kind, node)
    ),
    audit AS (
        INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
        SELECT :tenant_id, s.id, m.f, m.t, m.e, 'launch', :now
        FROM stored AS s CROSS JOIN {_MOVES} AS m(n, f, t, e) WHERE m.n <= :moves
    ),
    climbed AS (
        UPDATE leads AS l SET silence_level = greatest(l.silence_level, 1), recovery_state = 'in_recovery',
                              updated_at = now()
        FROM reached AS r WHERE l.id = r.lead_id
    )
    SELECT count(*) FROM stored
    """
)

# Only the enrollment rows of ENROLL, each with its three foreign-key checks and six indexes: what
# any enrollment of the audience that keeps one row per lead costs here, before any action.
ENROLLMENTS_ONLY = sa.text(
    """
    WITH x AS (SELECT unnest(CAST(string_to_array(:lead_ids, ',') AS bigint[])) AS lead_id),
    stored AS (
        INSERT INTO enrollments
            (tenant_id, campaign_id, lead_id, current_node, rung, is_control, status, episode, state, variant,
             next_action_at, enrolled_at)
        SELECT :tenant_id, :campaign_id, x.lead_id, 'wait-1', 1, false, 'active', 1,
               CAST(:state AS jsonb) || jsonb_build_object('draw', 0.123456789), NULL, :due, :now
        FROM x
        ON CONFLICT (campaign_id, lead_id) DO NOTHING
        RETURNING 1
    )
    SELECT count(*) FROM stored
    """
)

# The due timers claimed, their enrollments moved, a send and a timer each, the audit, the climb.
FIRE = sa.text(
    """
    WITH due AS (
        SELECT a.id, a.enrollment_id FROM scheduled_actions AS a
        WHERE a.tenant_id = :tenant_id AND a.status = 'pending' AND a.kind <> 'send' AND a.due_at <= :now
        ORDER BY a.due_at, a.id
        LIMIT :limit
    ),
    claimed AS (UPDATE scheduled_actions AS a SET status = 'done', updated_at = now() FROM due WHERE a.id = due.id),
    moved AS (
        UPDATE enrollments AS e
        SET state = CAST(:state AS jsonb) || jsonb_build_object('draw', 0.123456789), current_node = 'wait-2',
            next_action_at = :due, rung = 2, updated_at = now()
        FROM due WHERE e.id = due.enrollment_id
        RETURNING e.id, e.lead_id
    ),
    actions AS (
        INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key, payload)
        SELECT :tenant_id, m.id, m.lead_id, k.kind, k.node, :now,
               'floor:' || m.lead_id || ':e1:' || k.node || ':' || k.kind, CAST(:payload AS jsonb)
        FROM moved AS m CROSS JOIN (VALUES ('send', 'rung-2'), ('wait', 'wait-2')) AS k(kind, node)
    ),
    audit AS (
        INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
        SELECT :tenant_id, m.id, k.f, k.t, k.e, 'plan', :now
        FROM moved AS m CROSS JOIN (VALUES ('wait-1', 'rung-2', 'wait'), ('rung-2', 'wait-2', 'next')) AS k(f, t, e)
    ),
    climbed AS (
        UPDATE leads AS l SET silence_level = greatest(l.silence_level, 2), updated_at = now()
        FROM moved AS m WHERE l.id = m.lead_id
    )
    SELECT count(*) FROM moved
    """
)


def enroll_floor(
    session: Session,
    *,
    tenant_id: int,
    campaign_id: int,
    lead_ids: list[int],
    reached: int,
    moves: int,
    now: datetime,
) -> int:
    """The rows of an enrollment of `lead_ids`, `reached` of them sent to, `moves` audit rows each."""
    params = {**_enrolling(tenant_id, campaign_id, lead_ids, now), "reached": reached, "moves": moves}
    return int(session.execute(ENROLL, params).scalar_one())


def enrollments_only_floor(
    session: Session, *, tenant_id: int, campaign_id: int, lead_ids: list[int], now: datetime
) -> int:
    """The enrollment rows of `lead_ids` alone: no action, audit row or lead update."""
    return int(session.execute(ENROLLMENTS_ONLY, _enrolling(tenant_id, campaign_id, lead_ids, now)).scalar_one())


def _enrolling(tenant_id: int, campaign_id: int, lead_ids: list[int], now: datetime) -> dict[str, object]:
    return {
        "tenant_id": tenant_id,
        "campaign_id": campaign_id,
        "lead_ids": ",".join(map(str, lead_ids)),
        "state": _STATE,
        "payload": _PAYLOAD,
        "now": now,
        "due": now + timedelta(hours=24),
    }


def fire_floor(session: Session, *, tenant_id: int, now: datetime, limit: int) -> int:
    """The rows of `limit` due wait timers fired: each enrollment to its next rung."""
    params = {
        "tenant_id": tenant_id,
        "limit": limit,
        "state": _STATE,
        "payload": _PAYLOAD,
        "now": now,
        "due": now + timedelta(hours=24),
    }
    return int(session.execute(FIRE, params).scalar_one())
