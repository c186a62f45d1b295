"""Faults of the queue: Redis loses its jobs, or the cron process runs twice. PostgreSQL is the
source of truth, so the cron sweeps rebuild the work from it, and every lead is still enrolled
once, written to once and sent to once.

Each test starts at a job as `rq cron agents/cron.py` enqueues it and lets real RQ workers run
it; the expected figures are the rows the test made, counted back with SQL and on the fake
provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from rq import Queue as RQQueue
from rq import SimpleWorker
from sqlalchemy import Engine

from app import queue
from app.services import scan
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration import outbox, scan_world
from tests.integration.rq_processes import enqueue_cron_job, start_worker, worker_env
from tests.support import midday_zone

BACKLOG = 450  # more than two of the writer's batches of 200
QUEUED_SENDS = 10_000  # the figure; a cron sweep's `send_due` runs up to 20 batches of 500


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        return list(conn.execute(sa.text(statement), params).all())


def run_workers_in_process(connection: redis.Redis) -> None:
    SimpleWorker([RQQueue(name, connection=connection) for name in queue.QUEUES], connection=connection).work(
        burst=True
    )


@pytest.fixture
def fake() -> Iterator[FakeSendGrid]:
    with FakeSendGrid() as server:
        yield server


def test_the_cron_write_sweep_drains_a_backlog_that_no_scan_woke(clean_db: Engine, redis_conn: redis.Redis) -> None:
    tenant = scan_world.make_tenant(clean_db, "acme")
    # where it is midday now: their sends fall due at once, whatever the hour the suite runs at
    leads = scan_world.make_leads(clean_db, tenant, BACKLOG, silent_hours=10 * 24, timezone=midday_zone())
    scan.scan_tenant(tenant_id=tenant)  # schedules the sends; nothing wakes the writer
    assert redis_conn.dbsize() == 0

    for _ in range(2):  # two sweeps before any worker is free: the second sees a run queued and adds none
        enqueue_cron_job(redis_conn, "write_all")
    run_workers_in_process(redis_conn)

    actions = sql(clean_db, "SELECT status, count(*) AS n FROM scheduled_actions WHERE kind = 'send' GROUP BY 1")
    assert [tuple(row) for row in actions] == [("done", BACKLOG)]
    per_lead = sql(clean_db, "SELECT lead_id, count(*) AS n FROM outbound_messages GROUP BY lead_id")
    assert sorted(row.lead_id for row in per_lead) == sorted(leads)
    assert {row.n for row in per_lead} == {1}
    runs = sql(clean_db, "SELECT count(*) AS n FROM agent_runs WHERE agent = 'writer' AND tenant_id = :t", t=tenant)
    assert runs[0].n == 3  # 200 + 200 + 50: one run from the sweeps; each full batch queued the next itself


@pytest.mark.slow
def test_redis_flushed_with_sends_queued_every_send_goes_once_after_the_sweep(
    clean_db: Engine, redis_conn: redis.Redis, database_url: str, redis_url: str, fake: FakeSendGrid, tmp_path: Path
) -> None:
    tenant = outbox.make_tenant(clean_db)
    ids = outbox.make_messages(clean_db, tenant, outbox.make_leads(clean_db, tenant, QUEUED_SENDS))
    for _ in range(QUEUED_SENDS // 1000):
        queue.enqueue(redis_conn, "send_due", tenant_id=tenant, batch=1000)
    redis_conn.flushdb()  # the queued jobs, the rate-limit buckets: all gone

    for _ in range(2):  # two sweeps on two workers race for the same rows
        enqueue_cron_job(redis_conn, "send_due")
    env = worker_env(database_url, redis_url, fake)
    log = tmp_path / "workers.log"
    workers = [start_worker(env, f"after-flush-{n}", log, forking=False) for n in range(2)]
    assert [w.wait(timeout=300) for w in workers] == [0, 0], log.read_text()[-3000:]

    assert {fake.calls[str(i)] for i in ids} == {1}
    assert sum(fake.calls.values()) == QUEUED_SENDS
    statuses = sql(clean_db, "SELECT status, count(*) AS n FROM outbound_messages GROUP BY 1")
    assert [tuple(row) for row in statuses] == [("sent", QUEUED_SENDS)]
    touched = sql(clean_db, "SELECT count(*) AS n FROM activities WHERE kind = 'email_out'")
    assert touched[0].n == QUEUED_SENDS
