"""SIGKILL real RQ workers in the middle of sending, many times: no row may ever reach the provider twice.

The fake SendGrid runs in this test process, so its per-message call counts survive every
kill; it answers after a short delay so that kills land while requests are in flight. Each
round starts a worker (the Procfile's forking `rq worker`), waits on the fake until the
worker's requests arrive, and SIGKILLs the worker and its work horse at a random moment
around them: mid-request, or in the database work before or after one. Then one clean
worker drains what is left, reconciliation runs, and every row must be `sent` (exactly one
provider call), `held` (at most one) or `failed`; none `sending`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from app import queue
from app.services import send
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.outbox import make_leads, make_messages, make_tenant, rows
from tests.integration.rq_processes import kill_worker, start_worker, worker_env

ROWS = 1500
KILLS = 30
BATCH = 10


@pytest.fixture
def fake() -> Iterator[FakeSendGrid]:
    with FakeSendGrid(delay=0.02) as server:
        yield server


def pending(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text("SELECT count(*) FROM outbound_messages WHERE status = 'pending'")).scalar_one()
        )


@pytest.mark.slow
def test_sigkilled_workers_never_send_a_row_twice(
    clean_db: Engine,
    redis_conn: redis.Redis,
    database_url: str,
    redis_url: str,
    fake: FakeSendGrid,
    tmp_path: Path,
) -> None:
    tenant_id = make_tenant(clean_db)
    ids = make_messages(clean_db, tenant_id, make_leads(clean_db, tenant_id, ROWS))
    env = worker_env(database_url, redis_url, fake)
    log = tmp_path / "workers.log"
    rng = random.Random(20261123)
    kills = 0

    for round_ in range(KILLS):
        if pending(clean_db) == 0:
            break
        queue.enqueue(redis_conn, "send_due", batch=BATCH)
        worker = start_worker(env, f"doomed-{round_}", log, burst=False)
        target = len(fake.requests) + rng.randint(1, 3)
        assert fake.wait_for_requests(target, timeout=30), log.read_text()[-3000:]
        time.sleep(rng.uniform(0.0, 0.06))  # during the in-flight request, or in the database work after it
        kill_worker(worker)
        kills += 1

    queue.enqueue(redis_conn, "send_due", batch=500)
    survivor = start_worker(env, "survivor", log, burst=True)
    assert survivor.wait(timeout=60) == 0, log.read_text()[-3000:]
    reconciled = send.reconcile_stale(older_than=timedelta(0))

    final = {row["id"]: row for row in rows(clean_db, ids)}
    calls = {i: fake.calls[str(i)] for i in ids}
    held = [i for i in ids if final[i]["status"] == "held"]
    assert kills == KILLS
    assert max(calls.values()) <= 1, "a row reached the provider twice"
    assert {row["status"] for row in final.values()} <= {"sent", "held", "failed"}
    assert all(calls[i] == 1 and final[i]["provider_message_id"] for i in ids if final[i]["status"] == "sent")
    assert reconciled["held"] == len(held) > 0
    assert any(calls[i] == 1 for i in held), "no kill landed while a request was in flight"
