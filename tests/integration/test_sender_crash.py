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

import contextlib
import os
import random
import signal
import subprocess
import sys
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
from tests.fakes import sendgrid_server
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.outbox import make_leads, make_messages, make_tenant, rows
from tests.support import PRODUCTION_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1500
KILLS = 30
BATCH = 10


@pytest.fixture
def fake() -> Iterator[FakeSendGrid]:
    with FakeSendGrid(delay=0.02) as server:
        yield server


def worker_env(database_url: str, redis_url: str, fake: FakeSendGrid) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        EMAIL_PROVIDER="sendgrid",
        SENDGRID_API_KEY=sendgrid_server.API_KEY,
        SENDGRID_API_HOST=fake.url,
        PUBLIC_BASE_URL="https://lre.example",  # a real provider needs https links; only links use it
        SECRET_KEY=PRODUCTION_SECRET_KEY,  # and a random secret, or the worker refuses to start
        LRE_PROCESS="worker",
        PYTHONPATH=str(ROOT),
    )
    return env


def start_worker(env: dict[str, str], name: str, log: Path, *, burst: bool = False) -> subprocess.Popen[bytes]:
    rq = Path(sys.executable).with_name("rq")
    command = [str(rq), "worker", "--url", env["REDIS_URL"], "--path", str(ROOT), "--name", name, "high"]
    with log.open("ab") as err:
        return subprocess.Popen(
            [*command, *(["--burst"] if burst else [])],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )


def kill_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and its work horse (RQ moves the horse to a process group of its own)."""
    horses = descendants(process.pid)
    os.killpg(process.pid, signal.SIGKILL)
    for pid in horses:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found += [int(child), *descendants(int(child))]
    return found


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
        worker = start_worker(env, f"doomed-{round_}", log)
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
