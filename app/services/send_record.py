"""Step 3c of the loop: store what the provider said about each attempt, then stamp the leads.

One `UPDATE … FROM unnest(…)` records provider ids, costs, retries and failures, fenced by the
row's attempt number so a late answer never overwrites a later attempt; one more statement
stamps `leads.last_contacted_at` and writes the timeline activities. Both are retried on a
deadlock or a dropped connection: a lost write would leave sent rows `sending`, to be held for
review although they went out.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import RowMapping
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app import runtime
from app.channels.base import Outcome, SendResult
from app.domain import privacy, send_rules
from app.services.carrier_refusals import OPTED_OUT, UNREACHABLE, Refusal, apply_refusals

T = TypeVar("T")

_RECORD = sa.text("""
UPDATE outbound_messages AS m
SET status = CASE WHEN r.status = 'sent' THEN coalesce((
        -- A webhook may beat this write (the provider reported the message before the batch was
        -- recorded): keep the furthest status its events already prove.
        SELECT CASE WHEN bool_or(e.event_type IN ('bounce', 'dropped', 'failed', 'undelivered')) THEN 'failed'
                    WHEN bool_or(e.event_type = 'delivered') THEN 'delivered' END
        FROM message_events AS e WHERE e.message_id = m.id), 'sent') ELSE r.status END,
    delivered_at = coalesce(m.delivered_at, (SELECT min(e.occurred_at) FROM message_events AS e
                                             WHERE e.message_id = m.id AND e.event_type = 'delivered')),
    provider_message_id = coalesce(r.provider_id, m.provider_message_id),
    sent_at = CASE WHEN r.status = 'sent' THEN now() ELSE m.sent_at END,
    cost_usd = m.cost_usd + r.cost,
    last_error = r.error,
    error_code = coalesce(r.error_code, m.error_code),
    scheduled_for = CASE WHEN r.status = 'pending' THEN now() + make_interval(secs => r.delay)
                         ELSE m.scheduled_for END,
    updated_at = now()
FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS int[]), CAST(:statuses AS text[]),
            CAST(:provider_ids AS text[]), CAST(:costs AS numeric[]), CAST(:errors AS text[]),
            CAST(:delays AS float8[]), CAST(:error_codes AS text[]))
     AS r(id, attempts, status, provider_id, cost, error, delay, error_code)
WHERE m.id = r.id AND m.attempts = r.attempts AND m.status IN ('sending', 'held')
RETURNING m.id, m.tenant_id, m.lead_id, m.channel, m.subject, m.to_address, r.status AS outcome, r.error_code
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
        "errors": [privacy.scrub_contacts(error) for _, error in statuses],
        "delays": [_retry_delay(r, attempts[r.message_id]) for r in results],
        "error_codes": [r.error_code for r in results],
    }
    written = _with_db_retries(lambda session: session.execute(_RECORD, params).mappings().all())
    sent = [row for row in written if row["outcome"] == "sent"]
    if sent:
        _with_db_retries(lambda session: _touch_leads(session, sent))
    refusals = carrier_refusals_of(written)
    if refusals:
        _with_db_retries(lambda session: apply_refusals(session, refusals))
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


def carrier_refusals_of(written: Sequence[RowMapping]) -> list[Refusal]:
    """Texts the carrier refused at once with a code that says something about the lead (21610 opted
    out, 21211/21614 cannot take texts): acted on as a status callback would be."""
    codes = {OPTED_OUT, *UNREACHABLE}
    now = datetime.now(UTC)
    return [
        Refusal(row["tenant_id"], row["lead_id"], row["to_address"], row["error_code"], now)
        for row in written
        if row["outcome"] == "failed" and row["channel"] == "sms" and row["error_code"] in codes
    ]


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


def _with_db_retries(work: Callable[[Session], T]) -> T:
    """Run `work(session)` in a transaction, again after a deadlock or a dropped connection, with
    a doubling, jittered wait, for up to DB_RETRY_BUDGET_SECONDS of waiting in all.

    What the provider said must reach the database: a lost write leaves sent rows `sending`,
    to be held for review although they went out. The budget outlasts a PostgreSQL restart and
    still ends inside the send job's timeout.
    """
    waited = 0.0
    retry = 0
    while True:
        try:
            with runtime.session_scope() as session, session.begin():
                return work(session)
        except DBAPIError as error:
            retry += 1
            delay = send_rules.db_retry_delay(retry, random.random())
            if not _transient(error) or waited + delay > send_rules.DB_RETRY_BUDGET_SECONDS:
                raise
            time.sleep(delay)
            waited += delay


def _transient(error: DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None) or ""
    return error.connection_invalidated or code in {"40P01", "40001"} or code.startswith("08")
