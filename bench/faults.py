"""`python -m bench.faults`: Redis flushed with 10,000 sends queued; workers SIGKILLed 50 times.

Redis flushed. The scene: 10,000 due outbox rows, their `send_due` jobs queued, and Redis loses everything
(FLUSHDB: the jobs, the rate-limit buckets). Two `rq worker` processes start, and the cron
process's `send_due` sweep (enqueued as `rq cron agents/cron.py` enqueues it, twice, as two
ticks would) rebuilds the work from PostgreSQL, the source of truth. The clock runs from the
sweep's enqueue to an outbox with nothing `pending` or `sending`. The fake SendGrid (its own
process) is asked afterwards how often each message reached it: the figures that matter are
`duplicates` and `lost`, both 0.

Workers killed. 25 rounds each queue two send jobs of 10 rows, start two forking `rq worker`s
(the Procfile's), wait until the fake SendGrid (delay 20 ms) sees their requests and SIGKILL
both with their work horses at a random moment around them: 50 kills. A clean worker drains
the rest, reconciliation holds what was in flight, and the operator settles the held rows with
`python -m app release-held` from the provider's log (the fake's counts): `sent` for what it
accepted, `resend` for the rest once held an hour (the hour passes by SQL). A last drain, and
every message must have been accepted exactly once.

Scratch databases and Redis db, dropped and flushed after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import redis
import sqlalchemy as sa
from rq.cron import CronScheduler

from app import queue, runtime
from app.settings import load_settings
from bench.processes import rq_workers, wait_until
from bench.scratch import scratch_database, scratch_redis
from bench.send import fake_sendgrid, fake_stats, seed, status_counts, unsent, worker_env
from db.engine import make_engine
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration import rq_processes

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "faults.json"
FAULTS_REDIS_DB = 12
LEASE_PASSED = timedelta(hours=1)  # longer than the sender's lease (app/services/send.py)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-db", type=int, default=FAULTS_REDIS_DB, help="a Redis db number no one else uses")
    parser.add_argument("--kill-rounds", type=int, default=25, help="two workers SIGKILLed per round")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    urls = runtime.resolve_urls(load_settings())
    try:
        flushed = run(urls.database_url, urls.redis_url, messages=args.messages, workers=args.workers, db=args.redis_db)
        killed = run_kills(urls.database_url, urls.redis_url, rounds=args.kill_rounds, db=args.redis_db)
    finally:
        urls.stop_embedded()
    result = {"redis_flushed": flushed, "workers_killed": killed, "met": flushed["met"] and killed["met"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["met"] else 1


def run(database_url: str, redis_url: str, *, messages: int, workers: int, db: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    with (
        scratch_database(database_url, "faults") as db_url,
        scratch_redis(redis_url, db) as rd_url,
        fake_sendgrid() as fake_url,
    ):
        engine = make_engine(db_url, null_pool=True)
        seed(engine, messages)
        connection = redis.Redis.from_url(rd_url)
        lost_jobs = [queue.enqueue(connection, "send_due", batch=1000) for _ in range(-(-messages // 1000))]
        connection.flushdb()
        with rq_workers(worker_env(db_url, rd_url, fake_url), workers, connection, queues=queue.QUEUES, label="flush"):
            started = time.perf_counter()
            sweeps = [cron_send_sweep(connection) for _ in range(2)]
            wait_until(lambda: unsent(engine) == 0, timeout=600, what="the outbox to drain", poll=0.05)
            seconds = time.perf_counter() - started
        statuses = status_counts(engine)
        engine.dispose()
        fake = fake_stats(fake_url)
    calls = fake["calls"]
    duplicates = sum(1 for n in calls.values() if n > 1)
    lost = messages - sum(1 for n in fake["accepted"].values() if n >= 1)
    return {
        "fault": "redis FLUSHDB with sends queued",
        "messages": messages,
        "jobs_lost_with_redis": len(lost_jobs),
        "cron_sweeps": len(sweeps),
        "workers": workers,
        "seconds_to_recover": round(seconds, 3),
        "sent": statuses.get("sent", 0),
        "provider_requests": fake["requests"],
        "duplicates": duplicates,
        "lost": lost,
        "load_avg_1m_before": round(load_before, 2),  # the machine may be shared: read the figure with it
        "met": duplicates == 0 and lost == 0 and statuses.get("sent", 0) == messages,
    }


def cron_send_sweep(connection: redis.Redis) -> str:
    """Enqueue `send_due` exactly as the cron process does on its schedule."""
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("agents/cron.py")
    [job] = [job for job in scheduler.get_jobs() if job.name == "send_due"]
    return str(job.enqueue(connection).id)


def run_kills(database_url: str, redis_url: str, *, rounds: int, db: int, rows: int = 2000) -> dict[str, Any]:
    rng = random.Random(20261206)
    with (
        scratch_database(database_url, "kills") as db_url,
        scratch_redis(redis_url, db) as rd_url,
        FakeSendGrid(delay=0.02) as server,
    ):
        fake = cast(FakeSendGrid, server)
        engine = make_engine(db_url, null_pool=True)
        seed(engine, rows)
        connection = redis.Redis.from_url(rd_url)
        env = rq_processes.worker_env(db_url, rd_url, fake)
        log = Path(os.devnull)
        kills = 0
        for round_ in range(rounds):
            for _ in range(2):
                queue.enqueue(connection, "send_due", batch=10)
            pair = [rq_processes.start_worker(env, f"doomed-{round_}-{n}", log, burst=False) for n in range(2)]
            fake.wait_for_requests(len(fake.requests) + rng.randint(2, 4), timeout=60)
            time.sleep(rng.uniform(0.0, 0.06))  # fault injection: during a request, or the database work after it
            for worker in pair:
                rq_processes.kill_worker(worker)
                kills += 1
            connection.flushdb()
        drain(connection, env, log)
        held_ids = reconcile_and_list_held(engine, connection, env, log)
        settle(engine, env, fake, held_ids)
        drain(connection, env, log)
        statuses = status_counts(engine)
        ids = [str(i) for i in message_ids(engine)]
        engine.dispose()
        accepted = [fake.accepted[i] for i in ids]
        calls = [fake.calls[i] for i in ids]
    return {
        "fault": "two rq workers SIGKILLed mid-send, at once",
        "messages": rows,
        "kills": kills,
        "held_after_kills": len(held_ids),
        "sent": statuses.get("sent", 0),
        "duplicates": sum(1 for n in calls if n > 1),
        "lost": sum(1 for n in accepted if n == 0),
        "met": kills == 2 * rounds and all(n == 1 for n in accepted) and max(calls) == 1,
    }


def drain(connection: redis.Redis, env: dict[str, str], log: Path, job: str = "send_due") -> None:
    """Queue `job` and run it on a burst worker until the queues are empty."""
    if job == "send_due":
        queue.enqueue(connection, job, batch=1000)
    else:
        queue.enqueue(connection, job)
    worker = rq_processes.start_worker(env, f"drain-{time.monotonic_ns()}", log)
    if worker.wait(timeout=300) != 0:
        raise RuntimeError(f"the worker running {job} failed")


def reconcile_and_list_held(engine: sa.Engine, connection: redis.Redis, env: dict[str, str], log: Path) -> list[int]:
    """The lease passes (by SQL), the reconcile job holds what was in flight; the held ids."""
    age(engine, "claimed_at", "status = 'sending'", LEASE_PASSED)
    drain(connection, env, log, job="reconcile_sending")
    with engine.connect() as conn:
        sql = "SELECT id FROM outbound_messages WHERE status = 'held' ORDER BY id"
        return list(conn.execute(sa.text(sql)).scalars())


def settle(engine: sa.Engine, env: dict[str, str], fake: FakeSendGrid, held: list[int]) -> None:
    """The operator reads the provider's log: what it accepted is marked sent; an hour later
    (by SQL) the rest, which never left, are released to be sent again."""
    accepted = [i for i in held if fake.accepted[str(i)] >= 1]
    missing = [i for i in held if fake.accepted[str(i)] == 0]
    release_held(env, "sent", accepted)
    age(engine, "updated_at", "status = 'held'", timedelta(hours=2))
    release_held(env, "resend", missing)


def release_held(env: dict[str, str], decision: str, ids: list[int]) -> None:
    if not ids:
        return
    ids_args = [arg for i in ids for arg in ("--id", str(i))]
    command = [sys.executable, "-m", "app", "release-held", "--tenant", "bench", "--as", decision, *ids_args]
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def age(engine: sa.Engine, column: str, where: str, by: timedelta) -> None:
    with engine.begin() as conn:
        sql = f"UPDATE outbound_messages SET {column} = {column} - make_interval(secs => :s) WHERE {where}"
        conn.execute(sa.text(sql), {"s": by.total_seconds()})


def message_ids(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT id FROM outbound_messages ORDER BY id")).scalars())


if __name__ == "__main__":
    raise SystemExit(main())
