"""Step 3 of the loop: claim due outbox rows, apply every rule, hand them to the provider.

One batch is a handful of statements whatever its size:

1. *Claim and decide*, one transaction: `UPDATE … SET status='sending' … WHERE id IN (SELECT …
   FOR UPDATE SKIP LOCKED) RETURNING` the rows together with what the rules need (consent,
   suppression, the lead's zone, the tenant's window, quiet hours and sender); the pure gate
   (`app/domain/send_rules.py`) and the Redis token buckets decide each row; one `UPDATE …
   FROM unnest(…)` writes the rows that will not go now (suppressed, canceled, deferred back
   to `pending` with a later `scheduled_for`). Commit. From here on, `sending` means "handed
   to the provider", nothing else.
2. *Send*: one provider call per channel (SendGrid: a request per thousand emails).
3. *Record*, one transaction: one `UPDATE … FROM unnest(…)` stores provider ids, costs, retries
   and failures; then one statement stamps `leads.last_contacted_at` and writes the timeline
   activities.

Crash safety, at-most-once: a lead must never receive the same message twice, so a row is
sent only from `pending`, is `sending` before the provider is called, and nothing ever moves
a `sending` row back to `pending` on a guess. A worker killed between the commit of step 1 and
the commit of step 3 leaves its rows `sending`; `reconcile_stale` moves them, once older than
the lease, to `held` for a person to review in the console (the provider may or may not have
them), except for the sandbox, whose lost sends reached no one and go back to `pending`. The
price is that a crash can hold back a message that was in fact never sent; we prefer that to
a duplicate in a customer's inbox. A worker killed before step 1 commits changes nothing.
The result write is fenced by the row's attempt number, so a worker that outlived its lease
can still record what the provider said (even over `held`), but never over a later attempt.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app import runtime
from app.channels import registry
from app.channels.base import Outcome, OutgoingMessage, Provider, SendResult
from app.domain import send_rules
from app.domain.rate_limits import Bucket, Limit, buckets_for, limits_for
from app.domain.send_rules import Recipient, Verdict
from app.domain.sending_window import QuietHours, Window
from app.domain.unsubscribe import make_token
from app.services.ratelimit import TokenBuckets
from app.settings import Settings, get_settings

T = TypeVar("T")

LEASE = timedelta(minutes=10)
"""How long a row may stay `sending` before it is presumed lost; must exceed the RQ job timeout."""

_CLAIM = """
WITH due AS (
    SELECT id FROM outbound_messages
    WHERE status = 'pending' AND scheduled_for <= coalesce(CAST(:as_of AS timestamptz), now()) {tenant_filter}
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

_RECORD = sa.text("""
UPDATE outbound_messages AS m
SET status = r.status,
    provider_message_id = coalesce(r.provider_id, m.provider_message_id),
    sent_at = CASE WHEN r.status = 'sent' THEN now() ELSE m.sent_at END,
    cost_usd = m.cost_usd + r.cost,
    last_error = r.error,
    scheduled_for = CASE WHEN r.status = 'pending' THEN now() + make_interval(secs => r.delay)
                         ELSE m.scheduled_for END,
    updated_at = now()
FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS int[]), CAST(:statuses AS text[]),
            CAST(:provider_ids AS text[]), CAST(:costs AS numeric[]), CAST(:errors AS text[]),
            CAST(:delays AS float8[]))
     AS r(id, attempts, status, provider_id, cost, error, delay)
WHERE m.id = r.id AND m.attempts = r.attempts AND m.status IN ('sending', 'held')
RETURNING m.id, m.tenant_id, m.lead_id, m.channel, m.subject, m.status
""")

_TOUCH_LEADS = sa.text("""
WITH sent AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:tenant_ids AS bigint[]), CAST(:lead_ids AS bigint[]),
                         CAST(:channels AS text[]), CAST(:subjects AS text[]))
             AS s(id, tenant_id, lead_id, channel, subject)
), locked AS (
    SELECT id FROM leads WHERE id IN (SELECT lead_id FROM sent) ORDER BY id FOR UPDATE
), touched AS (
    UPDATE leads AS l SET last_contacted_at = now(), updated_at = now() FROM locked WHERE l.id = locked.id
)
INSERT INTO activities (tenant_id, lead_id, kind, channel, occurred_at, summary, details)
SELECT tenant_id, lead_id, channel || '_out', channel, now(),
       CASE channel WHEN 'email' THEN 'Email sent: ' || coalesce(subject, '') ELSE 'SMS sent' END,
       jsonb_build_object('message_id', id)
FROM sent
""")

_RECONCILE = sa.text("""
UPDATE outbound_messages
SET status = CASE WHEN provider = ANY(CAST(:harmless AS text[])) THEN 'pending' ELSE 'held' END,
    attempts = CASE WHEN provider = ANY(CAST(:harmless AS text[])) THEN greatest(attempts - 1, 0)
                    ELSE attempts END,
    last_error = CASE WHEN provider = ANY(CAST(:harmless AS text[]))
                      THEN 'worker lost mid-send; sandbox, so sent again'
                      ELSE 'worker lost mid-send: the provider may have it; held for review, never re-sent blindly'
                 END,
    updated_at = now()
WHERE status = 'sending' AND claimed_at < now() - make_interval(secs => :older_than)
RETURNING status
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
        recipient = Recipient(row["channel"], row["suppressed"], row["consented"], row["timezone"], window, quiet)
        plain = {name: row[name] for name in cls.__dataclass_fields__ if name not in _DERIVED}
        return cls(**plain, recipient=recipient, tenant_settings=row["tenant_settings"] or {})


_DERIVED = frozenset({"recipient", "tenant_settings"})


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


def send_due(
    *,
    tenant_id: int | None = None,
    batch: int = 500,
    max_batches: int = 20,
    max_seconds: float = 25.0,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Send what is due, batch after batch, until nothing is due or a limit is reached.

    A batch refused entirely by the rate limits ends the run: the next due rows would meet
    the same empty buckets (the cron sweep comes back for them). No batch starts after
    `max_seconds`, so a job ends well inside its RQ timeout: a job killed by its timeout
    mid-send would leave rows to be held, like a crash. `now` replaces the clock for what is
    due and for quiet hours (tests); retry and rate-limit delays always count from the
    database's clock.
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    settings = settings or get_settings()
    providers = registry.providers(settings)
    buckets = TokenBuckets(runtime.redis_client())
    deadline = time.monotonic() + max_seconds
    totals: Counter[str] = Counter()
    for _ in range(max_batches):
        counts = send_batch(
            tenant_id=tenant_id, batch=batch, settings=settings, providers=providers, buckets=buckets, now=now
        )
        totals.update(counts)
        totals["batches"] += 1
        buckets_empty = counts["claimed"] > 0 and counts["rate_limited"] == counts["claimed"]
        if counts["claimed"] < batch or buckets_empty or time.monotonic() > deadline:
            break
    return dict(totals)


def send_batch(
    *,
    tenant_id: int | None,
    batch: int,
    settings: Settings,
    providers: Mapping[str, Provider],
    buckets: TokenBuckets,
    now: datetime | None = None,
) -> Counter[str]:
    """One claim → decide → send → record cycle (see the module docstring)."""
    counts: Counter[str] = Counter()
    with runtime.session_scope() as session, session.begin():
        claimed = claim(session, tenant_id=tenant_id, batch=batch, settings=settings, now=now)
        counts["claimed"] = len(claimed)
        ready, aside = decide(claimed, buckets, settings)
        set_aside(session, aside)
    counts.update(a.counter for a in aside)
    if not ready:
        return counts
    results = deliver(ready, providers, settings)
    counts.update(record({row.id: row.attempts for row in ready}, results))
    return counts


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


def deliver(ready: Sequence[Claimed], providers: Mapping[str, Provider], settings: Settings) -> list[SendResult]:
    """Hand each channel's messages to its provider; a provider that raises is an unknown outcome."""
    results: list[SendResult] = []
    for channel, provider in providers.items():
        messages = [outgoing(row, settings) for row in ready if row.channel == channel]
        if not messages:
            continue
        try:
            results.extend(provider.send(messages))
        except Exception as error:  # a bug in a provider: we cannot know what went out
            results.extend(SendResult.unknown(m.message_id, f"provider error: {error!r}") for m in messages)
    return results


def outgoing(row: Claimed, settings: Settings) -> OutgoingMessage:
    secret = settings.secret_key.get_secret_value()
    token = make_token(
        secret, tenant_id=row.tenant_id, channel=row.channel, lead_id=row.lead_id, address=row.to_address
    )
    mailbox = str(row.tenant_settings.get("unsubscribe_email") or row.sender_email)
    return OutgoingMessage(
        message_id=row.id,
        tenant_id=row.tenant_id,
        lead_id=row.lead_id,
        campaign_id=row.campaign_id,
        channel=row.channel,
        to_address=row.to_address,
        subject=row.subject,
        body=row.body,
        from_address=row.sender_email if row.channel == "email" else (row.sender_phone or ""),
        from_name=row.sender_name,
        physical_address=row.physical_address,
        unsubscribe_url=registry.public_url(settings, f"/unsubscribe/{token}"),
        unsubscribe_mailto=f"mailto:{mailbox}?subject=unsubscribe%20{token}" if mailbox else "",
        category=row.node,
    )


def record(attempts: Mapping[int, int], results: Sequence[SendResult]) -> Counter[str]:
    """Store what the provider said about each claimed attempt; then stamp the leads and timelines.

    `attempts` maps each message id to the attempt number its claim set: the fence that keeps
    a late answer from overwriting a later attempt of the same row.
    """
    statuses = [_status_after(r, attempts[r.message_id]) for r in results]
    params = {
        "ids": [r.message_id for r in results],
        "attempts": [attempts[r.message_id] for r in results],
        "statuses": [s for s, _ in statuses],
        "provider_ids": [r.provider_message_id for r in results],
        "costs": [r.cost_usd for r in results],
        "errors": [error for _, error in statuses],
        "delays": [_retry_delay(r, attempts[r.message_id]) for r in results],
    }
    written = _with_db_retries(lambda session: session.execute(_RECORD, params).mappings().all())
    sent = [row for row in written if row["status"] == "sent"]
    if sent:
        _with_db_retries(lambda session: _touch_leads(session, sent))
    return Counter(_COUNTER[status] for status, _ in statuses)


_COUNTER = {"sent": "sent", "pending": "retrying", "failed": "failed", "held": "held"}


def _status_after(result: SendResult, attempt: int) -> tuple[str, str | None]:
    if result.outcome is Outcome.ACCEPTED:
        return "sent", None
    if result.outcome is Outcome.REJECTED:
        return "failed", result.error
    if result.outcome is Outcome.UNKNOWN:
        return "held", result.error
    if send_rules.gives_up(attempt):
        return "failed", f"gave up after {attempt} attempts: {result.error}"
    return "pending", result.error


def _retry_delay(result: SendResult, attempt: int) -> float | None:
    if result.outcome is not Outcome.RETRY:
        return None
    return send_rules.retry_delay(attempt, result.retry_after, random.random())


def _touch_leads(session: Session, sent: Sequence[RowMapping]) -> None:
    session.execute(
        _TOUCH_LEADS,
        {
            "ids": [row["id"] for row in sent],
            "tenant_ids": [row["tenant_id"] for row in sent],
            "lead_ids": [row["lead_id"] for row in sent],
            "channels": [row["channel"] for row in sent],
            "subjects": [row["subject"] for row in sent],
        },
    )


def _with_db_retries(work: Callable[[Session], T], tries: int = 3) -> T:
    """Run `work(session)` in a transaction, again after a deadlock or a dropped connection.

    What the provider said must reach the database: a lost write leaves sent rows `sending`,
    to be held for review although they went out.
    """
    for attempt in range(1, tries + 1):
        try:
            with runtime.session_scope() as session, session.begin():
                return work(session)
        except DBAPIError as error:
            if attempt == tries or not _transient(error):
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def _transient(error: DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None) or ""
    return error.connection_invalidated or code in {"40P01", "40001"} or code.startswith("08")


def reconcile_stale(*, older_than: timedelta = LEASE) -> dict[str, int]:
    """Resolve rows left `sending` by a lost worker: `held` for review, never re-sent blindly.

    Only sandbox rows go back to `pending`: no one can have received them. Real providers offer
    no lookup by our id that could prove a message was not sent, so their rows wait for a
    person; a late SendGrid event or Twilio callback naming the message still tells the truth.
    """
    with runtime.session_scope() as session, session.begin():
        rows = session.execute(
            _RECONCILE,
            {"older_than": older_than.total_seconds(), "harmless": sorted(registry.HARMLESS_PROVIDERS)},
        ).all()
    counts = Counter(row.status for row in rows)
    return {"held": counts["held"], "released": counts["pending"]}
