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
    WITH wanted AS (
        SELECT DISTINCT ON (w.tenant_id, w.lead_id) w.*
        FROM unnest(CAST(:tenant_ids AS bigint[]), CAST(:lead_ids AS bigint[]), CAST(:events AS text[]),
                    CAST(:reasons AS text[]), CAST(:ats AS timestamptz[])) AS w(tenant_id, lead_id, event, reason, at)
        ORDER BY w.tenant_id, w.lead_id, w.at, w.event
    ), locked AS (
        SELECT e.id, e.current_node, w.tenant_id, w.event, w.reason, w.at
        FROM wanted AS w JOIN enrollments AS e ON e.tenant_id = w.tenant_id AND e.lead_id = w.lead_id
        WHERE e.status IN ('active', 'waiting') AND e.id <> ALL(CAST(:kept AS bigint[]))
        ORDER BY e.id
        FOR NO KEY UPDATE OF e
    ), stopped AS (
        UPDATE enrollments AS e
        SET status = 'stopped', completed_at = l.at, next_action_at = NULL, updated_at = now()
        FROM locked AS l
        WHERE e.id = l.id
        RETURNING e.id, l.current_node, l.tenant_id, l.event, l.reason, l.at
    ), audit AS (
        INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
        SELECT s.tenant_id, s.id, s.current_node, NULL, s.event, s.reason, s.at FROM stopped AS s
    ), timers AS (
        UPDATE scheduled_actions AS a SET status = 'canceled', updated_at = now()
        FROM stopped AS s WHERE a.enrollment_id = s.id AND a.status = 'pending'
    ), outbox AS (
        UPDATE outbound_messages AS m
        SET status = 'canceled', last_error = 'recovery stopped: ' || s.event, updated_at = now()
        FROM stopped AS s WHERE m.enrollment_id = s.id AND m.status = 'pending'
    )
    SELECT count(*) FROM stopped
    """
)
"""One row per lead (its earliest stop when it is named twice); enrollments are locked in id order,
so two transactions stopping overlapping leads wait for each other instead of deadlocking."""

_END_STATE = text(
    """
    UPDATE leads AS l SET recovery_state = w.state, updated_at = now()
    FROM unnest(CAST(:tenant_ids AS bigint[]), CAST(:lead_ids AS bigint[]), CAST(:states AS text[]))
         AS w(tenant_id, lead_id, state)
    WHERE l.tenant_id = w.tenant_id AND l.id = w.lead_id
      AND l.recovery_state IN ('active', 'silent', 'in_recovery', 'control', 'replied')
      AND l.recovery_state <> w.state
    """
)

_SUPPRESS = text(
    """
    WITH wanted AS (
        SELECT DISTINCT ON (w.tenant_id, w.channel, w.address) w.*
        FROM unnest(CAST(:tenant_ids AS bigint[]), CAST(:channels AS text[]), CAST(:addresses AS text[]),
                    CAST(:reasons AS text[]), CAST(:notes AS text[])) WITH ORDINALITY
             AS w(tenant_id, channel, address, reason, note, position)
        ORDER BY w.tenant_id, w.channel, w.address, w.position
    ), added AS (
        INSERT INTO suppressions (tenant_id, channel, address, reason, note)
        SELECT tenant_id, channel, address, reason, note FROM wanted ORDER BY tenant_id, channel, address
        ON CONFLICT (tenant_id, channel, address) DO NOTHING
        RETURNING address
    ), outbox AS (
        UPDATE outbound_messages AS m
        SET status = 'suppressed', last_error = w.channel || ' address is suppressed (' || w.reason || ')',
            updated_at = now()
        FROM wanted AS w
        WHERE m.tenant_id = w.tenant_id AND m.channel = w.channel AND m.status = 'pending'
          AND (m.to_address = w.address OR lower(m.to_address) = w.address)
    )
    SELECT count(*) FROM added
    """
)
"""One row per address (the first given when it is named twice)."""


@dataclass(frozen=True)
class Stopped:
    enrollments: int


@dataclass(frozen=True)
class Stop:
    """One lead whose open enrollments stop, why, and when."""

    tenant_id: int
    lead_id: int
    event: StopEvent
    reason: str
    at: datetime


@dataclass(frozen=True)
class Suppression:
    """One address that must not be written to again on a channel, and why."""

    tenant_id: int
    channel: str
    address: str
    reason: str
    note: str | None = None


def stop_enrollments(
    session: Session,
    *,
    tenant_id: int,
    lead_ids: Sequence[int],
    event: StopEvent,
    reason: str,
    at: datetime,
) -> Stopped:
    """Stop the leads' open enrollments and cancel what they had queued; move replied/converted leads on."""
    return stop_leads(session, [Stop(tenant_id, lead_id, event, reason, at) for lead_id in lead_ids])


def stop_leads(session: Session, stops: Sequence[Stop]) -> Stopped:
    """`stop_enrollments` for many tenants, leads, events and times in one statement (a lead named
    twice stops at its earliest)."""
    if not stops:
        return Stopped(0)
    kept = _routed_by_plans(session, stops)
    params = {
        "kept": kept,
        "tenant_ids": [s.tenant_id for s in stops],
        "lead_ids": [s.lead_id for s in stops],
        "events": [str(s.event) for s in stops],
        "reasons": [s.reason for s in stops],
        "ats": [s.at for s in stops],
    }
    count = int(session.execute(_STOP, params).scalar_one())
    ended = sorted({(s.tenant_id, s.lead_id, ENDED_STATES[s.event]) for s in stops if s.event in ENDED_STATES})
    if ended:
        params = {
            "tenant_ids": [t for t, _, _ in ended],
            "lead_ids": [lead for _, lead, _ in ended],
            "states": [state for _, _, state in ended],
        }
        session.execute(_END_STATE, params)
    return Stopped(count)


def _routed_by_plans(session: Session, stops: Sequence[Stop]) -> list[int]:
    """The enrollments whose plan routes a reply to a node that is not a stop: queued for the plan
    instead of stopped (`campaign_routes.py`); the lead still moves to `replied`."""
    kept: list[int] = []
    for stop in stops:
        if stop.event not in ROUTABLE:
            continue
        routed = campaign_routes.routed_elsewhere(
            session, tenant_id=stop.tenant_id, lead_ids=[stop.lead_id], event=str(stop.event)
        )
        ref = f"{stop.at.isoformat()}:{stop.reason}"
        campaign_routes.queue_for_plans(session, enrollment_ids=routed, event=str(stop.event), at=stop.at, ref=ref)
        kept += routed
    return kept


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
    return suppress_addresses(session, [Suppression(tenant_id, channel, a, reason, note) for a in addresses])


def suppress_addresses(session: Session, suppressions: Sequence[Suppression]) -> int:
    """`suppress` for many tenants, channels and reasons in one statement; returns how many were new.

    Addresses are normalised (`normalise_address`); one named twice keeps the first reason given.
    """
    wanted = [
        Suppression(s.tenant_id, s.channel, normalise_address(s.channel, s.address), s.reason, s.note)
        for s in suppressions
        if s.address and s.address.strip()
    ]
    if not wanted:
        return 0
    params = {
        "tenant_ids": [s.tenant_id for s in wanted],
        "channels": [s.channel for s in wanted],
        "addresses": [s.address for s in wanted],
        "reasons": [s.reason for s in wanted],
        "notes": [s.note for s in wanted],
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
