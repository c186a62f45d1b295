"""What the product does when a lead answers: stop writing to them, and never write to an opted-out address.

Every door through which the world answers (SendGrid events, Twilio callbacks and inbound
texts, unsubscribe links, the conversions API, a rep's "Mark recovered") ends in these two
set-based steps, so "nobody who answered is written to again" is decided in one place:

- `stop_enrollments`: the lead's active enrollments stop, each with a `campaign_transitions`
  row naming the event and why, and whatever they had queued (due sends, timers, outbox rows
  not yet claimed) is canceled. A row the sender already claimed is caught by the sender's own
  check of the enrollment (`app/domain/send_rules.py`), so nothing slips between the two.
- `suppress`: the address goes on the tenant's suppression list for the channel (one row per
  address; the first reason stays), and pending outbox rows to it are marked suppressed.

Helpers: they run inside the caller's transaction and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.unsubscribe import normalise_address
from app.services import campaign_routes


class StopEvent(StrEnum):
    """Why a lead's recovery stopped; written as the transition's `event`."""

    REPLIED = "replied"
    """The lead wrote back: a person takes over."""
    CONVERTED = "converted"
    """The lead bought: the recovery did its job."""
    UNSUBSCRIBED = "unsubscribed"
    """An unsubscribe link, List-Unsubscribe one-click or a provider's unsubscribe event."""
    STOPPED = "stop"
    """The lead texted STOP (or another opt-out word)."""
    BOUNCED = "bounced"
    """A hard bounce or an invalid address: the channel cannot reach them."""
    SPAM_REPORT = "spamreport"
    """The lead marked a message as spam."""


ENDED_STATES = {
    StopEvent.REPLIED: "replied",
    StopEvent.CONVERTED: "recovered",
}
"""The lead state an event moves an open lead to; opt-outs and bounces leave the state alone
(the scan skips suppressed addresses; a lead may still be reached on another channel later)."""

ROUTABLE = frozenset({StopEvent.REPLIED})
"""Answers a plan may route elsewhere; opt-outs, bounces and conversions always stop."""

_STOP = text(
    """
    WITH stopped AS (
        UPDATE enrollments AS e
        SET status = 'stopped', completed_at = CAST(:at AS timestamptz), next_action_at = NULL, updated_at = now()
        WHERE e.tenant_id = :tenant_id AND e.lead_id = ANY(CAST(:lead_ids AS bigint[]))
          AND e.status IN ('active', 'waiting') AND e.id <> ALL(CAST(:kept AS bigint[]))
        RETURNING e.id, e.current_node
    ), audit AS (
        INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
        SELECT :tenant_id, s.id, s.current_node, NULL, :event, :reason, CAST(:at AS timestamptz) FROM stopped AS s
    ), timers AS (
        UPDATE scheduled_actions AS a SET status = 'canceled', updated_at = now()
        FROM stopped AS s WHERE a.enrollment_id = s.id AND a.status = 'pending'
    ), outbox AS (
        UPDATE outbound_messages AS m
        SET status = 'canceled', last_error = 'recovery stopped: ' || :event, updated_at = now()
        FROM stopped AS s WHERE m.enrollment_id = s.id AND m.status = 'pending'
    )
    SELECT count(*) FROM stopped
    """
)

_END_STATE = text(
    """
    UPDATE leads SET recovery_state = :state, updated_at = now()
    WHERE tenant_id = :tenant_id AND id = ANY(CAST(:lead_ids AS bigint[]))
      AND recovery_state IN ('active', 'silent', 'in_recovery', 'control', 'replied')
      AND recovery_state <> :state
    """
)

_SUPPRESS = text(
    """
    WITH added AS (
        INSERT INTO suppressions (tenant_id, channel, address, reason, note)
        SELECT :tenant_id, :channel, a, :reason, :note FROM unnest(CAST(:addresses AS text[])) AS a
        ON CONFLICT (tenant_id, channel, address) DO NOTHING
        RETURNING address
    ), outbox AS (
        UPDATE outbound_messages AS m
        SET status = 'suppressed', last_error = :channel || ' address is suppressed (' || :reason || ')',
            updated_at = now()
        WHERE m.tenant_id = :tenant_id AND m.channel = :channel AND m.status = 'pending'
          AND (m.to_address = ANY(CAST(:addresses AS text[])) OR lower(m.to_address) = ANY(CAST(:addresses AS text[])))
    )
    SELECT count(*) FROM added
    """
)


@dataclass(frozen=True)
class Stopped:
    enrollments: int


def stop_enrollments(
    session: Session,
    *,
    tenant_id: int,
    lead_ids: Sequence[int],
    event: StopEvent,
    reason: str,
    at: datetime,
) -> Stopped:
    """Stop the leads' open enrollments and cancel what they had queued; move replied/converted leads on.

    A reply whose plan routes it to a node that is not a stop is queued for that plan instead
    (`campaign_routes.py`); the lead still moves to `replied`.
    """
    ids = sorted(set(lead_ids))
    if not ids:
        return Stopped(0)
    kept = []
    if event in ROUTABLE:
        kept = campaign_routes.routed_elsewhere(session, tenant_id=tenant_id, lead_ids=ids, event=str(event))
        ref = f"{at.isoformat()}:{reason}"
        campaign_routes.queue_for_plans(session, enrollment_ids=kept, event=str(event), at=at, ref=ref)
    params = {"tenant_id": tenant_id, "lead_ids": ids, "event": str(event), "reason": reason, "at": at, "kept": kept}
    count = int(session.execute(_STOP, params).scalar_one())
    state = ENDED_STATES.get(event)
    if state is not None:
        session.execute(_END_STATE, {"tenant_id": tenant_id, "lead_ids": ids, "state": state})
    return Stopped(count)


def suppress(
    session: Session,
    *,
    tenant_id: int,
    channel: str,
    addresses: Sequence[str],
    reason: str,
    note: str | None = None,
) -> int:
    """Put the addresses on the tenant's suppression list; returns how many were new."""
    normalised = sorted({normalise_address(channel, a) for a in addresses if a and a.strip()})
    if not normalised:
        return 0
    params = {
        "tenant_id": tenant_id,
        "channel": channel,
        "addresses": normalised,
        "reason": reason,
        "note": note,
    }
    return int(session.execute(_SUPPRESS, params).scalar_one())


_UNSUPPRESS = text(
    "DELETE FROM suppressions WHERE tenant_id = :tenant_id AND channel = :channel AND address = :address "
    "AND reason = ANY(CAST(:reasons AS text[])) RETURNING id"
)


def unsuppress(session: Session, *, tenant_id: int, channel: str, address: str, reasons: Sequence[str]) -> bool:
    """Lift a suppression the lead themselves asked for (START after STOP); others stay."""
    params = {
        "tenant_id": tenant_id,
        "channel": channel,
        "address": normalise_address(channel, address),
        "reasons": list(reasons),
    }
    return session.execute(_UNSUPPRESS, params).first() is not None
