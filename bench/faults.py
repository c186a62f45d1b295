"""`python -m bench.faults`: Redis flushed with 10,000 sends queued, then recovery from PostgreSQL.

The scene: 10,000 due outbox rows, their `send_due` jobs queued, and Redis loses everything
(FLUSHDB: the jobs, the rate-limit buckets). Two `rq worker` processes start, and the cron
process's `send_due` sweep (enqueued as `rq cron agents/cron.py` enqueues it, twice, as two
ticks would) rebuilds the work from PostgreSQL, the source of truth. The clock runs from the
sweep's enqueue to an outbox with nothing `pending` or `sending`. The fake SendGrid (its own
process) is asked afterwards how often each message reached it: the figures that matter are
`duplicates` and `lost`, both 0. Scratch database and Redis db, dropped and flushed after.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import redis
from rq.cron import CronScheduler

from app import queue, runtime
from app.settings import load_settings
from bench.processes import rq_workers, wait_until
from bench.scratch import scratch_database, scratch_redis
from bench.send import fake_sendgrid, fake_stats, seed, status_counts, unsent, worker_env
from db.engine import make_engine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "faults.json"
FAULTS_REDIS_DB = 12


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-db", type=int, default=FAULTS_REDIS_DB, help="a Redis db number no one else uses")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    urls = runtime.resolve_urls(load_settings())
    try:
        result = run(urls.database_url, urls.redis_url, messages=args.messages, workers=args.workers, db=args.redis_db)
    finally:
        urls.stop_embedded()
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


if __name__ == "__main__":
    raise SystemExit(main())
