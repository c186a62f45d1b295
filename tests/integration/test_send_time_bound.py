"""A send run is bounded by time so it ends inside its RQ timeout: once its time is up no provider
call starts, and the rows no call carried go back to `pending` with their attempt refunded,
never `held` (they never left). The next run sends them, each once.

The run's stopwatch is injected: it reads 0 s when the run starts and at the first call, then
100 s, past every bound, so exactly one call of eight texts goes out (Twilio: one request per
text, eight per call, by hand from the sender's contract).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa
from rq import Queue
from rq.cron import CronScheduler
from sqlalchemy import Engine

from app.services import send
from tests.fakes import twilio_server
from tests.fakes.twilio_server import FakeTwilio
from tests.integration import outbox
from tests.integration.rq_processes import start_worker, worker_env
from tests.support import midday_zone

TEXTS = 20
FIRST_CALL = 8


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        return list(conn.execute(sa.text(statement), params).all())


def test_a_run_whose_time_is_up_puts_the_untouched_rows_back_and_the_next_run_sends_them_once(
    clean_db: Engine, redis_conn: redis.Redis, twilio: FakeTwilio
) -> None:
    tenant = outbox.make_tenant(clean_db, sender_phone="+15550001234")
    leads = outbox.make_leads(clean_db, tenant, TEXTS, timezone=midday_zone())  # inside the SMS hours now
    ids = outbox.make_messages(clean_db, tenant, leads, channel="sms")
    ticks = itertools.chain([0.0, 0.0], itertools.repeat(100.0))
    settings = outbox.twilio_settings(twilio)

    counts = send.send_due(settings=settings, clock=lambda: next(ticks))

    assert (counts["claimed"], counts["sent"], counts["postponed"]) == (TEXTS, FIRST_CALL, TEXTS - FIRST_CALL)
    assert len(twilio.requests) == FIRST_CALL
    rows = sql(clean_db, "SELECT status, attempts, count(*) AS n FROM outbound_messages GROUP BY 1, 2 ORDER BY 1")
    assert [tuple(r) for r in rows] == [("pending", 0, TEXTS - FIRST_CALL), ("sent", 1, FIRST_CALL)]

    send.send_due(settings=settings)

    statuses = sql(clean_db, "SELECT status, attempts, count(*) AS n FROM outbound_messages GROUP BY 1, 2")
    assert [tuple(r) for r in statuses] == [("sent", 1, TEXTS)]
    phones = sql(clean_db, "SELECT to_address FROM outbound_messages WHERE id = ANY(:ids)", ids=ids)
    assert {twilio.calls[p.to_address] for p in phones} == {1}
    assert len(twilio.requests) == TEXTS


def test_the_cron_send_job_may_outlive_its_interval_to_finish_its_run(redis_conn: redis.Redis) -> None:
    scheduler = CronScheduler(connection=redis_conn)
    scheduler.load_config_from_file("agents/cron.py")
    jobs = {job.name: job for job in scheduler.get_jobs()}
    # 35 s of provider calls, a 30 s HTTP timeout on the last one, 15 s to store: 80 s < 120 s.
    assert jobs["send_due"].job_options["job_timeout"] == 120
    assert jobs["send_due"].interval == 60


def test_a_job_killed_by_its_timeout_mid_call_holds_only_that_calls_rows(
    clean_db: Engine, redis_conn: redis.Redis, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    """The fake Twilio answers after 3 s and the job may run 1 s (a first job of the same worker
    has done the imports): RQ's timeout strikes inside the first call (or, on a very slow
    machine, before it). The rows of that call may have gone and are
    held; every other row never left and is back to `pending`, its attempt refunded."""
    tenant = outbox.make_tenant(clean_db, sender_phone="+15550001234")
    outbox.make_messages(
        clean_db, tenant, outbox.make_leads(clean_db, tenant, TEXTS, timezone=midday_zone()), channel="sms"
    )
    idle = outbox.make_tenant(clean_db, slug="idle")
    with FakeTwilio(delay=3.0) as slow:
        env = worker_env(database_url, redis_url, slow)
        env.update(
            SMS_PROVIDER="twilio",
            TWILIO_ACCOUNT_SID=twilio_server.ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=twilio_server.AUTH_TOKEN,
            TWILIO_API_BASE_URL=slow.url,
            TWILIO_FROM_NUMBER="+15550009999",
        )
        high = Queue("high", connection=redis_conn)
        high.enqueue("agents.sender.send_due", kwargs={"tenant_id": idle}, job_timeout=60)  # imports, warm
        high.enqueue("agents.sender.send_due", kwargs={"tenant_id": tenant}, job_timeout=1)
        log = tmp_path / "worker.log"
        worker = start_worker(env, "short-lived", log, forking=False)
        assert worker.wait(timeout=60) == 0, log.read_text()[-3000:]
        reached = {phone for phone, n in slow.calls.items() if n}

    rows = sql(clean_db, "SELECT to_address, status, attempts FROM outbound_messages ORDER BY id")
    held = {r.to_address for r in rows if r.status == "held"}
    assert held == reached
    assert len(held) in (0, FIRST_CALL), len(held)
    assert {(r.status, r.attempts) for r in rows if r.to_address not in held} == {("pending", 0)}
