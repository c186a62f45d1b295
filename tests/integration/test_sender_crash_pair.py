"""Two workers sending at once, both SIGKILLed mid-send, 50 times in all: no message reaches the
provider twice, none is lost, and the `held` rows the kills leave are settled the way an
operator would, by what the provider's own log says.

Each of 25 rounds queues two send jobs (batches of 10), starts two forking `rq worker`s (the
Procfile's), waits on the fake SendGrid until their requests arrive and SIGKILLs both, with
their work horses, at a random moment around them: 50 kills, one setup. Then a clean worker
drains what is left and reconciliation holds what was in flight. The operator reads the
provider's log (the fake's per-message counts): accepted ones are marked `sent`; the others,
once held an hour (the clock moved by SQL), are released to be sent again. A last clean drain,
and every row was accepted exactly once.
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

from app import cli, queue
from app.services import send
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.outbox import make_leads, make_messages, make_tenant, rows, status_counts
from tests.integration.rq_processes import kill_worker, start_worker, worker_env

ROUNDS = 25  # two kills a round: the 50
BATCH = 10
ROWS = 2000  # a job claims batch after batch until killed (~40 rows a round): every round finds work


@pytest.fixture
def fake() -> Iterator[FakeSendGrid]:
    with FakeSendGrid(delay=0.02) as server:
        yield server


def drain(redis_conn: redis.Redis, env: dict[str, str], log: Path, name: str) -> None:
    queue.enqueue(redis_conn, "send_due", batch=500)
    survivor = start_worker(env, name, log)
    assert survivor.wait(timeout=60) == 0, log.read_text()[-3000:]


@pytest.mark.slow
def test_two_workers_sigkilled_mid_send_send_nothing_twice_and_lose_nothing(
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
    rng = random.Random(20261206)
    kills = 0

    for round_ in range(ROUNDS):
        for _ in range(2):
            queue.enqueue(redis_conn, "send_due", batch=BATCH)
        pair = [start_worker(env, f"doomed-{round_}-{n}", log, burst=False) for n in range(2)]
        try:
            arrived = fake.wait_for_requests(len(fake.requests) + rng.randint(2, 4), timeout=30)
            time.sleep(rng.uniform(0.0, 0.06))  # fault injection: during a request, or the database work after it
        finally:  # a failed round leaves no worker behind
            for worker in pair:
                kill_worker(worker)
                kills += 1
        assert arrived, f"round {round_}: {status_counts(clean_db)}\n{log.read_text()[-3000:]}"
        redis_conn.flushdb()  # the killed jobs' leftovers; PostgreSQL holds the truth

    assert kills == 2 * ROUNDS
    drain(redis_conn, env, log, "survivor")
    held_now = send.reconcile_stale(older_than=timedelta(0))["held"]
    held = [r["id"] for r in rows(clean_db, ids) if r["status"] == "held"]
    assert held_now == len(held) > 0, "no kill landed while a request was in flight"

    # The operator reads the provider's log: what it accepted went; the rest never left.
    accepted = [i for i in held if fake.accepted[str(i)] == 1]
    missing = [i for i in held if fake.accepted[str(i)] == 0]
    for decision, chosen in (("sent", accepted), ("resend", missing)):
        if chosen:
            args = [arg for i in chosen for arg in ("--id", str(i))]
            assert cli.main(["release-held", "--tenant", "acme", "--as", decision, *args]) == 0
        if decision == "sent":  # an hour goes by before anything is resent
            with clean_db.begin() as conn:
                conn.execute(sa.text("UPDATE outbound_messages SET updated_at = now() - interval '2 hours'"))
    drain(redis_conn, env, log, "after-release")

    final = rows(clean_db, ids)
    assert {r["status"] for r in final} == {"sent"}
    assert {fake.accepted[str(i)] for i in ids} == {1}, "a message was lost or accepted twice"
    assert max(fake.calls[str(i)] for i in ids) == 1, "a message reached the provider twice"
