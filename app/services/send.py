"""Step 3 of the loop: claim due outbox rows, apply every rule, hand them to the provider.

One batch is a handful of statements whatever its size:

1. *Claim and decide*, one transaction: `UPDATE … SET status='sending' … WHERE id IN (SELECT …
   FOR UPDATE SKIP LOCKED) RETURNING` the rows together with what the rules need (consent,
   suppression, the lead's zone, the tenant's window, quiet hours and sender); the pure gate
   (`app/domain/send_rules.py`) and the Redis token buckets decide each row; one `UPDATE …
   FROM unnest(…)` writes the rows that will not go now (suppressed, canceled, deferred back
   to `pending` with a later `scheduled_for`). Commit. From here on, `sending` means "handed
   to the provider", nothing else.
2. *Send*: the provider calls, PER_CALL messages each (SendGrid: a request per thousand emails;
   Twilio: eight texts at a time). None starts once the run's CALL_FOR_S are up: the rows it
   would have carried go back to `pending`, so a run ends inside its RQ timeout.
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

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app import runtime
from app.channels import registry
from app.channels.base import Outcome, OutgoingMessage, Provider, SendResult
from app.domain.reply_address import reply_address
from app.domain.unsubscribe import make_token
from app.services.provider_pause import ProviderPauses
from app.services.ratelimit import TokenBuckets
from app.services.send_claim import Claimed, SetAside, claim, decide, set_aside
from app.services.send_record import record
from app.settings import Settings, get_settings

LEASE = timedelta(minutes=10)
"""How long a row may stay `sending` before it is presumed lost; must exceed the RQ job timeout."""

CLAIM_FOR_S = 25.0
"""No batch is claimed after this many seconds of a run."""
CALL_FOR_S = 35.0
"""No provider call starts after this many seconds of a run: the rows not yet handed over go back
to `pending` untouched, so a run ends inside its RQ timeout (`app.queue.JOB_TIMEOUTS`) instead of
being killed mid-batch, which would hold every row of the batch although most never left."""
PER_CALL = {"email": 1000, "sms": 8}
"""Messages handed to a provider per call: SendGrid takes a thousand in one request; Twilio one
request per text, eight at a time. A call, once started, is bounded by the provider's HTTP timeout."""

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


def send_due(
    *,
    tenant_id: int | None = None,
    batch: int = 500,
    max_batches: int = 20,
    max_seconds: float = CLAIM_FOR_S,
    settings: Settings | None = None,
    now: datetime | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, int]:
    """Send what is due, batch after batch, until nothing is due or a limit is reached.

    A batch refused entirely by the rate limits ends the run: the next due rows would meet
    the same empty buckets (the cron sweep comes back for them). A provider's rate limit does
    not end it: later batches call nothing of that channel (`app/services/provider_pause.py`),
    they only put its rows off until the pause ends, once each, and the other channel goes on.
    No batch starts after `max_seconds`, so a job ends well inside its RQ timeout: a job killed
    by its timeout mid-send would leave rows to be held, like a crash; nor does a provider call
    start after CALL_FOR_S (the rows it would have carried wait for the next run). `now`
    replaces the clock for what is due, for quiet hours and for a provider's pause, and `clock`
    the run's stopwatch (tests); retry and rate-limit delays count from the database's clock.
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    settings = settings or get_settings()
    providers = registry.providers(settings)
    buckets = TokenBuckets(runtime.redis_client())
    pauses = ProviderPauses(runtime.redis_client())
    started = clock()
    calls_until = started + max(max_seconds, CALL_FOR_S)
    totals: Counter[str] = Counter()
    for _ in range(max_batches):
        counts = send_batch(
            tenant_id=tenant_id,
            batch=batch,
            settings=settings,
            providers=providers,
            buckets=buckets,
            pauses=pauses,
            now=now,
            calls_until=lambda: clock() < calls_until,
        )
        totals.update(counts)
        totals["batches"] += 1
        buckets_empty = counts["claimed"] > 0 and counts["rate_limited"] == counts["claimed"]
        if counts["claimed"] < batch or buckets_empty or counts["postponed"] or clock() > started + max_seconds:
            break
    return dict(totals)


def send_batch(
    *,
    tenant_id: int | None,
    batch: int,
    settings: Settings,
    providers: Mapping[str, Provider],
    buckets: TokenBuckets,
    pauses: ProviderPauses | None = None,
    now: datetime | None = None,
    calls_until: Callable[[], bool] = lambda: True,
) -> Counter[str]:
    """One claim → decide → send → record cycle (see the module docstring); `calls_until` says
    whether another provider call may start. A channel whose provider asked us to wait
    (`pauses`) is not called: its rows go back to `pending` until the pause ends."""
    pauses = pauses or ProviderPauses(runtime.redis_client())
    as_of = now or datetime.now(UTC)
    counts: Counter[str] = Counter()
    with runtime.session_scope() as session, session.begin():
        claimed = claim(session, tenant_id=tenant_id, batch=batch, settings=settings, now=now)
        counts["claimed"] = len(claimed)
        paused = pauses.left((row.channel for row in claimed), now=as_of)
        ready, aside = decide([row for row in claimed if row.channel not in paused], buckets, settings)
        aside += [wait_for_provider(row.id, paused[row.channel], as_of) for row in claimed if row.channel in paused]
        set_aside(session, aside)
    counts.update(a.counter for a in aside)
    if not ready:
        return counts
    delivered = deliver(ready, providers, settings, issued=as_of.date(), calls_until=calls_until)
    for channel, seconds in delivered.pauses.items():
        pauses.pause(channel, seconds, now=as_of)
    if delivered.untouched:
        postpone(delivered.untouched)
        counts["postponed"] = len(delivered.untouched)
    if delivered.waiting:
        waiting = [wait_for_provider(i, seconds, as_of) for i, seconds in delivered.waiting.items()]
        with runtime.session_scope() as session, session.begin():
            set_aside(session, waiting)
        counts["paused"] += len(waiting)
    if delivered.results:
        counts.update(record({row.id: row.attempts for row in ready}, delivered.results))
    return counts


def wait_for_provider(message_id: int, seconds: float, as_of: datetime) -> SetAside:
    """A claimed row not handed over because its provider asked us to wait: back to `pending`,
    due when the wait (counted from `as_of`) ends, the attempt refunded (it never left)."""
    reason = f"the provider asked us to wait {seconds:.0f} s (rate limit); sent after that"
    return SetAside(message_id, "pending", reason, "paused", until=as_of + timedelta(seconds=seconds), refund=1)


@dataclass
class Delivered:
    """What `deliver` did: the providers' results, the ids no call carried because the run's time
    was up (`untouched`) or because the provider asked us to wait (`waiting`: id → seconds), and
    the waits each channel's provider asked for (`pauses`)."""

    results: list[SendResult] = field(default_factory=list)
    untouched: list[int] = field(default_factory=list)
    waiting: dict[int, float] = field(default_factory=dict)
    pauses: dict[str, float] = field(default_factory=dict)


def deliver(
    ready: Sequence[Claimed],
    providers: Mapping[str, Provider],
    settings: Settings,
    *,
    issued: date,
    calls_until: Callable[[], bool] = lambda: True,
) -> Delivered:
    """Hand each channel's messages to its provider, PER_CALL at a time, while `calls_until()`
    allows. A provider that raises (a bug, or the job's timeout striking mid-call) is an unknown
    outcome for the messages of that call, and no further call starts in this batch. A call
    answered "retry after N s" (a 429, or a 503 with a wait) pauses that channel: its later calls
    are not made, their messages wait N s. `issued`: the day their unsubscribe links are dated."""
    done = Delivered()
    stopped = False
    for channel, provider in providers.items():
        messages = [outgoing(row, settings, issued=issued) for row in ready if row.channel == channel]
        size = PER_CALL.get(channel, len(messages) or 1)
        for call in (messages[i : i + size] for i in range(0, len(messages), size)):
            if channel in done.pauses:
                done.waiting.update((m.message_id, done.pauses[channel]) for m in call)
                continue
            if stopped or not calls_until():
                done.untouched += [m.message_id for m in call]
                continue
            try:
                answers = provider.send(call)
            except Exception as error:  # we cannot know what of this call went out
                answers = [SendResult.unknown(m.message_id, f"provider error: {error!r}") for m in call]
                stopped = True
            done.results.extend(answers)
            waits = [a.retry_after for a in answers if a.outcome is Outcome.RETRY and a.retry_after is not None]
            if waits:
                done.pauses[channel] = max(waits)
    return done


def postpone(ids: Sequence[int]) -> None:
    """Put back to `pending` the claimed rows no provider call carried (the run's time was up):
    they never left, so the attempt is refunded and the next run sends them."""
    aside = [
        SetAside(i, "pending", "the run's time was up before its turn; the next run sends it", "postponed", refund=1)
        for i in ids
    ]
    with runtime.session_scope() as session, session.begin():
        set_aside(session, aside)


def outgoing(row: Claimed, settings: Settings, *, issued: date) -> OutgoingMessage:
    secret = settings.secret_key.get_secret_value()
    token = make_token(
        secret, tenant_id=row.tenant_id, channel=row.channel, lead_id=row.lead_id, address=row.to_address, issued=issued
    )
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
        category=row.node,
        reply_to=_reply_to(row, settings, secret),
    )


def _reply_to(row: Claimed, settings: Settings, secret: str) -> str | None:
    """The email's own Reply-To, so the answer finds this message (none without a REPLY_DOMAIN)."""
    if row.channel != "email" or not settings.reply_domain:
        return None
    return reply_address(secret, tenant_id=row.tenant_id, message_id=row.id, domain=settings.reply_domain)


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
