"""The way out of `held`: a row the provider may or may not have (a worker lost mid-send, an
answer that never came) is resolved by what the provider later said, or by a person.

1. *Events first* (`resolve_from_events`, run by the reconcile cron job and before any
   operator decision): a held row for which a provider event exists is not unknown any more.
   A bounce, drop or failure makes it `failed`, a delivery `delivered`, any other event
   (processed, open, click, deferred, a Twilio `sent`) `sent`. The appliers already do this for
   events that arrive after the hold; this catches those that arrived before it.
2. *An operator's decision* (`release`, `python -m app release-held`), for rows still held with
   no event at all, after looking in the provider's own activity log:
   - `sent`: the provider has it; the row counts as sent from the moment it was claimed;
   - `failed`: it did not go and must not; the row is closed, never retried;
   - `resend`: it did not go and should; the row goes back to `pending` and the sender
     applies every rule again (suppression, consent, hours). Only for rows held at least
     RESEND_AFTER, so an event still on its way cannot turn the resend into a duplicate.
Nothing here ever resends on its own: a duplicate in a customer's inbox is worse than a delay.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

import sqlalchemy as sa

from app import runtime
from app.domain import roles
from app.services import acting, audit

Decision = Literal["sent", "failed", "resend"]
DECISIONS: tuple[Decision, ...] = ("sent", "failed", "resend")
RESEND_AFTER = timedelta(hours=1)
"""How long a row must have been held before an operator may send it again: providers report a
message they accepted within minutes, so an hour without a word is a sound sign it never left."""

_FROM_EVENTS = sa.text("""
WITH evidence AS (
    SELECT m.id,
           CASE WHEN bool_or(e.event_type IN ('bounce', 'dropped', 'failed', 'undelivered')) THEN 'failed'
                WHEN bool_or(e.event_type = 'delivered') THEN 'delivered'
                ELSE 'sent' END AS status,
           min(e.occurred_at) FILTER (WHERE e.event_type = 'delivered') AS delivered_at,
           min(e.occurred_at) AS first_heard
    FROM outbound_messages AS m JOIN message_events AS e ON e.message_id = m.id
    WHERE m.status = 'held' AND (CAST(:tenant_id AS bigint) IS NULL OR m.tenant_id = :tenant_id)
    GROUP BY m.id
)
UPDATE outbound_messages AS m
SET status = v.status, delivered_at = coalesce(m.delivered_at, v.delivered_at),
    sent_at = coalesce(m.sent_at, m.claimed_at, v.first_heard),
    last_error = CASE v.status WHEN 'failed' THEN m.last_error ELSE NULL END, updated_at = now()
FROM evidence AS v
WHERE m.id = v.id AND m.status = 'held'
RETURNING m.status
""")

_DECIDE = sa.text("""
UPDATE outbound_messages AS m
SET status = CASE :decision WHEN 'resend' THEN 'pending' ELSE :decision END,
    sent_at = CASE :decision WHEN 'sent' THEN coalesce(m.sent_at, m.claimed_at, now()) ELSE m.sent_at END,
    scheduled_for = CASE :decision WHEN 'resend' THEN now() ELSE m.scheduled_for END,
    last_error = CASE :decision
        WHEN 'sent' THEN 'held, then marked sent by an operator'
        WHEN 'failed' THEN 'held, then marked not sent by an operator; never retried'
        ELSE 'held, then released by an operator to be sent again' END,
    updated_at = now()
WHERE m.tenant_id = :tenant_id AND m.status = 'held'
  AND (CAST(:ids AS bigint[]) IS NULL OR m.id = ANY(CAST(:ids AS bigint[])))
  AND NOT EXISTS (SELECT 1 FROM message_events AS e WHERE e.message_id = m.id)
  AND (:decision <> 'resend' OR m.updated_at <= now() - make_interval(secs => :resend_after))
RETURNING m.id
""")

_STILL_HELD = sa.text("""
SELECT count(*) FROM outbound_messages
WHERE tenant_id = :tenant_id AND status = 'held'
  AND (CAST(:ids AS bigint[]) IS NULL OR id = ANY(CAST(:ids AS bigint[])))
""")


def resolve_from_events(*, tenant_id: int | None = None) -> dict[str, int]:
    """Settle the held rows a provider event already speaks for; counts by the status reached."""
    with runtime.session_scope() as session, session.begin():
        return _resolve(session, tenant_id)


def release(
    *, tenant_id: int, decision: str, operator_id: int | None, message_ids: Sequence[int] | None = None
) -> dict[str, int]:
    """Resolve the tenant's held rows (all, or those of `message_ids`): events first, then the
    operator's `decision` for the rows no event speaks for. The counts: rows settled by events
    (by status), rows `decided`, and rows `still_held` (a resend asked too soon).

    `operator_id` is the console operator deciding (a rep or above of the tenant, checked); None
    is the command line."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    ids = list(message_ids) if message_ids else None
    with runtime.session_scope() as session, session.begin():
        acting.require_if(session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.RELEASE_HELD)
        counts = {f"by_events_{status}": n for status, n in _resolve(session, tenant_id).items()}
        params = {
            "tenant_id": tenant_id,
            "ids": ids,
            "decision": decision,
            "resend_after": RESEND_AFTER.total_seconds(),
        }
        counts["decided"] = len(session.execute(_DECIDE, params).all())
        counts["still_held"] = int(session.execute(_STILL_HELD, {"tenant_id": tenant_id, "ids": ids}).scalar_one())
        details = {"decision": decision, **counts}
        audit.record(session, tenant_id=tenant_id, operator_id=operator_id, action="release_held", details=details)
    return counts


def _resolve(session: sa.orm.Session, tenant_id: int | None) -> dict[str, int]:
    statuses = session.execute(_FROM_EVENTS, {"tenant_id": tenant_id}).scalars().all()
    return {status: statuses.count(status) for status in sorted(set(statuses))}
