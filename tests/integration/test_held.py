"""`held` has a way out. The reconcile cron job settles a held row by the provider events that
already speak for it (events that came before the row was held); an operator settles the rest
with `python -m app release-held`, and a resend waits until a row has been held an hour, so
no event still on its way can turn it into a duplicate. Nothing resends on its own.

The world is built with SQL: six held rows; three with events (delivered, bounce, open), three
without (two held for two hours, one held just now).
"""

from __future__ import annotations

from typing import Any

import pytest
import redis
import sqlalchemy as sa
from rq import Queue, SimpleWorker
from sqlalchemy import Engine

from app import cli, queue
from app.services import send
from tests.integration import outbox
from tests.integration.rq_processes import enqueue_cron_job

HELD_LONG_AGO = "now() - interval '2 hours'"


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def held_world(engine: Engine) -> list[int]:
    tenant = outbox.make_tenant(engine)
    ids = outbox.make_messages(engine, tenant, outbox.make_leads(engine, tenant, 6))
    sql(
        engine,
        f"""UPDATE outbound_messages SET status = 'held', attempts = 1, provider = 'sendgrid',
                   claimed_at = {HELD_LONG_AGO} - interval '10 minutes', last_error = 'worker lost mid-send',
                   updated_at = CASE WHEN id = :newest THEN now() ELSE {HELD_LONG_AGO} END""",
        newest=ids[5],
    )
    for message_id, event in zip(ids[:3], ("delivered", "bounce", "open"), strict=True):
        sql(
            engine,
            """INSERT INTO message_events (tenant_id, message_id, lead_id, channel, event_type, occurred_at,
                                           natural_key)
               SELECT tenant_id, id, lead_id, channel, :event, now() - interval '100 minutes', 'k-' || id
               FROM outbound_messages WHERE id = :id""",
            id=message_id,
            event=event,
        )
    return ids


def statuses(engine: Engine, ids: list[int]) -> list[str]:
    rows = sql(engine, "SELECT status FROM outbound_messages WHERE id = ANY(:ids) ORDER BY id", ids=ids)
    return [r.status for r in rows]


def test_the_reconcile_cron_job_settles_held_rows_by_the_events_that_already_came(
    clean_db: Engine, redis_conn: redis.Redis
) -> None:
    ids = held_world(clean_db)

    enqueue_cron_job(redis_conn, "reconcile_sending")
    SimpleWorker([Queue(name, connection=redis_conn) for name in queue.QUEUES], connection=redis_conn).work(burst=True)

    assert statuses(clean_db, ids) == ["delivered", "failed", "sent", "held", "held", "held"]
    [delivered] = sql(
        clean_db, "SELECT delivered_at, sent_at, last_error FROM outbound_messages WHERE id = :i", i=ids[0]
    )
    assert delivered.delivered_at is not None
    assert delivered.sent_at is not None
    assert delivered.last_error is None


def test_an_operator_resends_only_rows_held_an_hour_and_each_goes_once(
    clean_db: Engine, redis_conn: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = held_world(clean_db)

    assert cli.main(["release-held", "--tenant", "acme", "--as", "resend"]) == 0

    out = capsys.readouterr().out
    assert "settled by the provider's events: 1 delivered, 1 failed, 1 sent; marked resend: 2" in out
    assert "1 still held" in out
    assert statuses(clean_db, ids) == ["delivered", "failed", "sent", "pending", "pending", "held"]

    send.send_due()  # the sandbox: the two released rows go out again, through every rule
    assert statuses(clean_db, ids) == ["delivered", "failed", "sent", "sent", "sent", "held"]
    attempts = sql(clean_db, "SELECT attempts FROM outbound_messages WHERE id = ANY(:ids) ORDER BY id", ids=ids[3:5])
    assert [a.attempts for a in attempts] == [2, 2]

    assert cli.main(["release-held", "--tenant", "acme", "--as", "failed", "--id", str(ids[5])]) == 0
    assert statuses(clean_db, ids)[5] == "failed"
    [closed] = sql(clean_db, "SELECT last_error FROM outbound_messages WHERE id = :i", i=ids[5])
    assert "never retried" in closed.last_error


def test_an_operator_who_checked_the_provider_log_marks_held_rows_sent(
    clean_db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = held_world(clean_db)

    assert cli.main(["release-held", "--tenant", "acme", "--as", "sent", "--id", str(ids[3])]) == 0

    assert statuses(clean_db, ids)[3:] == ["sent", "held", "held"]
    [marked] = sql(clean_db, "SELECT sent_at, claimed_at FROM outbound_messages WHERE id = :i", i=ids[3])
    assert marked.sent_at == marked.claimed_at
    assert cli.main(["release-held", "--tenant", "nope", "--as", "sent"]) == 2
    assert cli.main(["release-held", "--tenant", "acme", "--as", "resend", "--id", str(ids[5])]) == 0
    assert "1 still held" in capsys.readouterr().out
