"""Step 3a of the loop: claim due outbox rows and decide, row by row, which may go out now.

The claim is one `UPDATE … SET status = 'sending' … RETURNING` over rows picked `FOR UPDATE
SKIP LOCKED`, returning with each row what the rules need (consent, suppression, whether its
enrollment is still open, the lead's zone, the tenant's window, quiet hours and sender). The
pure gate (`app/domain/send_rules.py`) and the Redis token buckets then split the batch into
rows to send and rows set aside (suppressed, canceled, deferred), written back in one
`UPDATE … FROM unnest(…)`. See `app/services/send.py` for the whole cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.orm import Session

from app.channels import registry
from app.domain import send_rules
from app.domain.rate_limits import Bucket, Limit, buckets_for, limits_for
from app.domain.send_rules import Recipient, Verdict
from app.domain.sending_window import QuietHours, Window
from app.services.ratelimit import TokenBuckets
from app.settings import Settings

_CLAIM = """
WITH due AS (
    SELECT id FROM outbound_messages
    WHERE status = 'pending' AND scheduled_for <= coalesce(CAST(:as_of AS timestamptz), now()) {tenant_filter}
      AND NOT EXISTS (  -- a paused campaign's messages wait for it; a killed one's were canceled
          SELECT 1 FROM campaigns AS c
          WHERE c.id = outbound_messages.campaign_id AND c.status IN ('paused', 'killed'))
    ORDER BY scheduled_for
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
)
UPDATE outbound_messages AS m
SET status = 'sending', claimed_at = now(), attempts = m.attempts + 1, updated_at = now(),
    provider = CASE m.channel WHEN 'email' THEN CAST(:email_provider AS text) ELSE CAST(:sms_provider AS text) END
FROM due, leads AS l, tenants AS t
WHERE m.id = due.id AND l.id = m.lead_id AND t.id = m.tenant_id
RETURNING m.id, m.tenant_id, m.lead_id, m.campaign_id, m.node, m.channel, m.to_address, m.subject, m.body,
    m.attempts,
    CASE m.channel WHEN 'email' THEN l.consent_email ELSE l.consent_sms END AS consented,
    EXISTS (SELECT 1 FROM suppressions AS s
            WHERE s.tenant_id = m.tenant_id AND s.channel = m.channel
              AND s.address IN (m.to_address, lower(m.to_address))) AS suppressed,
    (SELECT e.status FROM enrollments AS e
     WHERE e.id = m.enrollment_id AND e.status IN ('stopped', 'failed')) AS stopped,
    CASE m.channel WHEN 'sms' THEN l.phone_unreachable END AS unreachable,
    l.timezone, t.send_window_start_hour, t.send_window_end_hour, t.quiet_start_hour, t.quiet_end_hour,
    t.sender_name, t.sender_email,
    t.sender_phone, t.physical_address, t.settings AS tenant_settings,
    coalesce(CAST(:as_of AS timestamptz), now()) AS as_of
"""

_SET_ASIDE = sa.text("""
UPDATE outbound_messages AS m
SET status = f.status, last_error = f.reason, attempts = m.attempts - f.refund, updated_at = now(),
    scheduled_for = coalesce(f.until, now() + make_interval(secs => f.delay), m.scheduled_for)
FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:reasons AS text[]),
            CAST(:untils AS timestamptz[]), CAST(:delays AS float8[]), CAST(:refunds AS int[]))
     AS f(id, status, reason, until, delay, refund)
WHERE m.id = f.id
""")


@dataclass(frozen=True)
class Claimed:
    """One claimed row and the facts about its lead and tenant that the rules need."""

    id: int
    tenant_id: int
    lead_id: int
    campaign_id: int | None
    node: str | None
    channel: str
    to_address: str
    subject: str | None
    body: str
    attempts: int
    recipient: Recipient
    sender_name: str
    sender_email: str
    sender_phone: str | None
    physical_address: str
    tenant_settings: Mapping[str, Any]
    as_of: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Claimed:
        window = Window(row["send_window_start_hour"], row["send_window_end_hour"])
        quiet = QuietHours(row["quiet_start_hour"], row["quiet_end_hour"])
        recipient = Recipient(
            row["channel"],
            row["suppressed"],
            row["consented"],
            row["timezone"],
            window,
            quiet,
            stopped=_stop_reason(row["stopped"]),
            unreachable=row["unreachable"],
        )
        plain = {name: row[name] for name in cls.__dataclass_fields__ if name not in _DERIVED}
        return cls(**plain, recipient=recipient, tenant_settings=row["tenant_settings"] or {})


_DERIVED = frozenset({"recipient", "tenant_settings"})


def _stop_reason(status: str | None) -> str | None:
    return None if status is None else f"its enrollment is {status}"


@dataclass(frozen=True)
class SetAside:
    """A claimed row that will not go to the provider in this batch."""

    id: int
    status: str
    reason: str | None
    counter: str
    until: datetime | None = None
    delay: float | None = None
    refund: int = 0


def claim(
    session: Session, *, tenant_id: int | None, batch: int, settings: Settings, now: datetime | None
) -> list[Claimed]:
    sql = _CLAIM.format(tenant_filter="AND tenant_id = :tenant_id" if tenant_id is not None else "")
    params = {
        "batch": batch,
        "as_of": now,
        "tenant_id": tenant_id,
        "email_provider": registry.provider_name("email", settings),
        "sms_provider": registry.provider_name("sms", settings),
    }
    rows = session.execute(sa.text(sql), params).mappings().all()
    return [Claimed.from_row(row) for row in rows]


def decide(
    claimed: Sequence[Claimed], buckets: TokenBuckets, settings: Settings
) -> tuple[list[Claimed], list[SetAside]]:
    """Split claimed rows into those to send now and those set aside (and why)."""
    aside: list[SetAside] = []
    allowed: list[Claimed] = []
    for row in claimed:
        verdict = send_rules.gate(row.recipient, row.as_of)
        if verdict.verdict is Verdict.SEND:
            allowed.append(row)
        else:
            aside.append(_set_aside_for(row, verdict))
    limits = {row.tenant_id: limits_for(row.tenant_settings) for row in allowed}
    waits = buckets.take([_buckets(row, settings, limits[row.tenant_id]) for row in allowed])
    ready = [row for row, wait in zip(allowed, waits, strict=True) if wait == 0]
    aside += [
        SetAside(row.id, "pending", "rate limited", "rate_limited", delay=wait, refund=1)
        for row, wait in zip(allowed, waits, strict=True)
        if wait > 0
    ]
    return ready, aside


def _set_aside_for(row: Claimed, gate: send_rules.Gate) -> SetAside:
    if gate.verdict is Verdict.SUPPRESS:
        return SetAside(row.id, "suppressed", gate.reason, "suppressed")
    if gate.verdict is Verdict.CANCEL:
        return SetAside(row.id, "canceled", gate.reason, "canceled")
    return SetAside(row.id, "pending", gate.reason, "deferred", until=gate.until, refund=1)


def _buckets(row: Claimed, settings: Settings, limits: Mapping[str, Limit]) -> list[Bucket]:
    return buckets_for(
        tenant_id=row.tenant_id,
        channel=row.channel,
        sender=sender_identity(row, settings) or f"tenant-{row.tenant_id}",
        to_address=row.to_address,
        limits=limits,
    )


def sender_identity(row: Claimed, settings: Settings) -> str:
    """The address or number a message goes out from."""
    if row.channel == "email":
        return row.sender_email
    return row.sender_phone or settings.twilio_from_number or ""


def set_aside(session: Session, aside: Sequence[SetAside]) -> None:
    if not aside:
        return
    session.execute(
        _SET_ASIDE,
        {
            "ids": [a.id for a in aside],
            "statuses": [a.status for a in aside],
            "reasons": [a.reason for a in aside],
            "untils": [a.until for a in aside],
            "delays": [a.delay for a in aside],
            "refunds": [a.refund for a in aside],
        },
    )
