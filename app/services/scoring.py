"""Recompute intent scores (`app/domain/scoring.py`) for a batch of leads, set-based.

One statement reads every signal of a batch (`_SIGNALS`: counts from `activities` and the
tracking events of `message_events`, the latest triaged reply, the lead's own columns), the
domain scores each lead, and one `UPDATE … FROM unnest(…)` writes back only the scores that
changed. A click may arrive both as a tracking event and as an activity, so for opens and
clicks the larger of the two counts is taken, never their sum. The tenant's 80th percentile
of deal values (what `value` is measured against) is read once per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger, SmallInteger

from app import runtime
from app.domain.scoring import ENGAGEMENT_WINDOW_DAYS, Score, Signals, score

BATCH_SIZE = 2_000

_P80 = text(
    """
    SELECT coalesce(percentile_cont(0.8) WITHIN GROUP (ORDER BY deal_value) FILTER (WHERE deal_value > 0), 0)
    FROM leads WHERE tenant_id = :tenant_id
    """
)

# `:lead_ids` names the batch; without it, the next `:limit` leads after id `:after`.
_SIGNALS = text(
    f"""
    WITH clock AS (SELECT coalesce(CAST(:now AS timestamptz), now()) AS at),
    batch AS MATERIALIZED (
        SELECT l.id, l.intent_score, l.last_activity_at, l.deal_value, l.source, l.stage
        FROM leads AS l
        WHERE l.tenant_id = :tenant_id
          AND (CAST(:lead_ids AS bigint[]) IS NULL OR l.id = ANY(CAST(:lead_ids AS bigint[])))
          AND l.id > :after
        ORDER BY l.id
        LIMIT :limit
    ),
    acts AS (
        SELECT a.lead_id,
               count(*) FILTER (WHERE a.kind = 'open') AS opens,
               count(*) FILTER (WHERE a.kind = 'click') AS clicks,
               count(*) FILTER (WHERE a.kind = 'page_view') AS page_views,
               count(*) FILTER (WHERE a.kind = 'form') AS forms,
               count(*) FILTER (WHERE a.kind IN ('call', 'meeting')) AS calls,
               count(*) FILTER (WHERE a.kind IN ('email_in', 'sms_in')) AS replies
        FROM batch AS b JOIN activities AS a ON a.lead_id = b.id
        WHERE a.tenant_id = :tenant_id
          AND a.occurred_at > (SELECT at FROM clock) - make_interval(days => {ENGAGEMENT_WINDOW_DAYS})
        GROUP BY a.lead_id
    ),
    events AS (
        SELECT m.lead_id,
               count(*) FILTER (WHERE e.event_type = 'open') AS opens,
               count(*) FILTER (WHERE e.event_type = 'click') AS clicks
        FROM batch AS b
        JOIN outbound_messages AS m ON m.lead_id = b.id
        JOIN message_events AS e ON e.message_id = m.id
        WHERE m.tenant_id = :tenant_id
          AND e.occurred_at > (SELECT at FROM clock) - make_interval(days => {ENGAGEMENT_WINDOW_DAYS})
        GROUP BY m.lead_id
    ),
    moods AS (
        SELECT DISTINCT ON (i.lead_id) i.lead_id, i.sentiment
        FROM batch AS b JOIN inbound_messages AS i ON i.lead_id = b.id
        WHERE i.tenant_id = :tenant_id AND i.sentiment IS NOT NULL
        ORDER BY i.lead_id, i.received_at DESC, i.id DESC
    )
    SELECT b.id, b.intent_score,
           extract(epoch FROM (SELECT at FROM clock) - b.last_activity_at) / 86400 AS days_silent,
           greatest(coalesce(a.opens, 0), coalesce(e.opens, 0)) AS opens,
           greatest(coalesce(a.clicks, 0), coalesce(e.clicks, 0)) AS clicks,
           coalesce(a.page_views, 0) AS page_views, coalesce(a.forms, 0) AS forms,
           coalesce(a.calls, 0) AS calls, coalesce(a.replies, 0) AS replies,
           s.sentiment, b.deal_value, b.source, b.stage
    FROM batch AS b
    LEFT JOIN acts AS a ON a.lead_id = b.id
    LEFT JOIN events AS e ON e.lead_id = b.id
    LEFT JOIN moods AS s ON s.lead_id = b.id
    ORDER BY b.id
    """
).bindparams(bindparam("lead_ids", type_=ARRAY(BigInteger)))

_WRITE = text(
    """
    UPDATE leads AS l SET intent_score = v.score, updated_at = now()
    FROM unnest(:ids, :scores) AS v(id, score)
    WHERE l.id = v.id AND l.tenant_id = :tenant_id AND l.intent_score IS DISTINCT FROM v.score
    """
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)), bindparam("scores", type_=ARRAY(SmallInteger)))


def recompute_scores(*, tenant_id: int, lead_ids: Sequence[int] | None = None, now: datetime | None = None) -> int:
    """Rescore these leads of the tenant (all of them, in batches, when None); return how many changed.

    Each batch is its own transaction, so a sweep of a large tenant never holds long locks.
    """
    wanted = None if lead_ids is None else sorted(set(lead_ids))
    if wanted == []:
        return 0
    with runtime.session_scope() as session:
        p80 = float(session.execute(_P80, {"tenant_id": tenant_id}).scalar_one())
    changed, after = 0, 0
    while True:
        with runtime.session_scope() as session, session.begin():
            rows = _read(session, tenant_id=tenant_id, lead_ids=wanted, after=after, p80=p80, now=now)
            if not rows:
                return changed
            updates = [(lead_id, new) for lead_id, old, new in rows if new.total != old]
            if updates:
                params = {
                    "tenant_id": tenant_id,
                    "ids": [lead_id for lead_id, _ in updates],
                    "scores": [new.total for _, new in updates],
                }
                changed += int(session.execute(_WRITE, params).rowcount)  # type: ignore[attr-defined]
        if len(rows) < BATCH_SIZE:
            return changed
        after = rows[-1][0]


def deal_value_p80(*, tenant_id: int) -> float:
    """The tenant's 80th percentile of deal values, which `value` is measured against.

    One pass over the tenant's leads (tenths of a second at a million): the console reads it
    once per tenant and passes it to `score_breakdown` rather than paying it per lead.
    """
    with runtime.session_scope() as session:
        return float(session.execute(_P80, {"tenant_id": tenant_id}).scalar_one())


def score_breakdown(*, tenant_id: int, lead_id: int, now: datetime | None = None, p80: float | None = None) -> Score:
    """The lead's score as it would be computed now, part by part (LookupError for an unknown lead);
    `p80` is `deal_value_p80` when the caller already has it."""
    with runtime.session_scope() as session:
        if p80 is None:
            p80 = float(session.execute(_P80, {"tenant_id": tenant_id}).scalar_one())
        rows = _read(session, tenant_id=tenant_id, lead_ids=[lead_id], after=0, p80=p80, now=now)
    if not rows:
        raise LookupError(f"no lead {lead_id} in tenant {tenant_id}")
    return rows[0][2]


def _read(
    session: Session, *, tenant_id: int, lead_ids: list[int] | None, after: int, p80: float, now: datetime | None
) -> list[tuple[int, int, Score]]:
    """(lead id, stored score, fresh score) for the next batch."""
    params = {"tenant_id": tenant_id, "lead_ids": lead_ids, "after": after, "limit": BATCH_SIZE, "now": now}
    return [
        (
            int(row.id),
            int(row.intent_score),
            score(
                Signals(
                    days_silent=float(row.days_silent),
                    opens=row.opens,
                    clicks=row.clicks,
                    page_views=row.page_views,
                    forms=row.forms,
                    calls=row.calls,
                    replies=row.replies,
                    sentiment=row.sentiment,
                    deal_value=float(row.deal_value),
                    deal_value_p80=p80,
                    source=row.source,
                    stage=row.stage,
                )
            ),
        )
        for row in session.execute(_SIGNALS, params)
    ]
