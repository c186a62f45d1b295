"""A send run is bounded by time so it ends inside its RQ timeout: once its time is up no provider
call starts, and the rows no call carried go back to `pending` with their attempt refunded,
never `held` (they never left). The next run sends them, each once.

The run's stopwatch is injected: it reads 0 s when the run starts and at the first call, then
100 s, past every bound, so exactly one call of eight texts goes out (Twilio: one request per
text, eight per call, by hand from the sender's contract).
"""

from __future__ import annotations

import itertools
from typing import Any

import redis
import sqlalchemy as sa
from rq.cron import CronScheduler
from sqlalchemy import Engine

from app.services import send
from tests.fakes.twilio_server import FakeTwilio
from tests.integration import outbox

TEXTS = 20
FIRST_CALL = 8


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        return list(conn.execute(sa.text(statement), params).all())


def test_a_run_whose_time_is_up_puts_the_untouched_rows_back_and_the_next_run_sends_them_once(
    clean_db: Engine, redis_conn: redis.Redis, twilio: FakeTwilio
) -> None:
    tenant = outbox.make_tenant(clean_db, sender_phone="+15550001234")
    leads = outbox.make_leads(clean_db, tenant, TEXTS)
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
