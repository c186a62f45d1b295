"""`python -m bench.send`: outbox → provider throughput through real worker processes.

Target (DESIGN.md §8): at least 1,000 messages a second from `pending` outbox rows to a local
fake SendGrid, through the Procfile's `rq worker` processes, on this 2-core machine. The run
uses a scratch database on the configured PostgreSQL (dropped afterwards) and a scratch
Redis db number (flushed before and after), so it never touches demo data. The fake runs in
its own process (`python -m tests.fakes.sendgrid_server`) and is asked afterwards how many
requests it took and whether any message arrived twice.

What makes the number: a job claims a thousand rows in one statement, decides them in one
Redis round trip, sends them as one SendGrid request (the personalised bodies ride as
per-personalization substitutions), and records them in two statements. The clock starts
when the jobs are enqueued to idle, registered workers and stops when no row is `pending`
or `sending`; it includes each forked work horse importing the job's modules.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

from app import queue, runtime
from app.settings import load_settings
from bench.processes import rq_workers, wait_until
from bench.scratch import scratch_database, scratch_redis
from db.engine import make_engine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "send.json"
TARGET_PER_S = 1000
BENCH_REDIS_DB = 13
JOB_BATCHES = 20  # batches one send_due job runs at most (the service's default)
API_KEY = "SG.fake-key"  # what the fake accepts (tests/fakes/sendgrid_server.py)
BENCH_SECRET_KEY = "Wq7vN3kZ9xT2mB8cL5pR1hY6dF4sJ0gA"  # noqa: S105 - 32 random characters, as a provider needs
UNLIMITED = {"per_second": 1_000_000, "burst": 1_000_000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.send", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1000, help="rows per claim, and per SendGrid request")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    urls = runtime.resolve_urls(load_settings())
    try:
        result = run(urls.database_url, urls.redis_url, messages=args.messages, workers=args.workers, batch=args.batch)
    finally:
        urls.stop_embedded()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["met"] else 1


def run(database_url: str, redis_url: str, *, messages: int, workers: int, batch: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    with (
        scratch_database(database_url, "send") as db_url,
        scratch_redis(redis_url, BENCH_REDIS_DB) as rd_url,
        fake_sendgrid() as fake_url,
    ):
        engine = make_engine(db_url, null_pool=True)
        seed(engine, messages)
        env = worker_env(db_url, rd_url, fake_url)
        connection = redis.Redis.from_url(rd_url)
        with rq_workers(env, workers, connection, queues=["high"], label="bench"):
            jobs = max(workers, -(-messages // (batch * JOB_BATCHES)))
            seconds = timed_drain(engine, connection, jobs=jobs, batch=batch)
        statuses = status_counts(engine)
        engine.dispose()
        fake = fake_stats(fake_url)
    return {
        "messages": messages,
        "seconds": round(seconds, 3),
        "msgs_per_s": round(messages / seconds, 1),
        "workers": workers,
        "batch": batch,
        "provider_requests": fake["requests"],
        "sent": statuses.get("sent", 0),
        "max_calls_per_message": max(fake["calls"].values(), default=0),
        "load_avg_1m_before": round(load_before, 2),  # the machine may be shared: read the figure with it
        "target": TARGET_PER_S,
        "met": messages / seconds >= TARGET_PER_S and statuses.get("sent", 0) == messages,
    }


@contextlib.contextmanager
def fake_sendgrid() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.sendgrid_server"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def seed(engine: sa.Engine, messages: int) -> None:
    """One tenant without effective rate limits, `messages` leads, one due email each."""
    settings = json.dumps({"rate_limits": dict.fromkeys(("tenant", "email_sender", "email_domain"), UNLIMITED)})
    with engine.begin() as conn:
        tenant_id = conn.execute(
            sa.text("""
                INSERT INTO tenants (slug, name, sender_name, sender_email, physical_address,
                                     send_window_start_hour, send_window_end_hour, quiet_start_hour,
                                     quiet_end_hour, settings)
                VALUES ('bench', 'Bench', 'Bench Sales', 'sales@bench.example', '1 Bench Road, Springfield',
                        0, 24, 0, 0, CAST(:settings AS jsonb))
                RETURNING id
            """),
            {"settings": settings},
        ).scalar_one()
        conn.execute(
            sa.text("""
                INSERT INTO leads (tenant_id, external_id, first_name, email, last_activity_at)
                SELECT :t, 'bench-' || n, 'Lead' || n, 'lead' || n || '@example.com', now() - interval '3 days'
                FROM generate_series(1, :n) AS n
            """),
            {"t": tenant_id, "n": messages},
        )
        conn.execute(
            sa.text("""
                INSERT INTO outbound_messages (tenant_id, lead_id, node, channel, to_address, subject, body,
                                               dedupe_key, scheduled_for)
                SELECT tenant_id, id, 'rung-1', 'email', email, 'Still thinking it over, ' || first_name || '?',
                       'Hi ' || first_name || E',\n\nYou asked about a quote for the kitchen last week. '
                       || E'Shall we pick up where we left off?\n\nBest,\nBench Sales',
                       tenant_id || ':0:' || id || ':' || 'rung-1' || ':' || 'email', now() - interval '1 minute'
                FROM leads WHERE tenant_id = :t
            """),
            {"t": tenant_id},
        )
        conn.execute(sa.text("ANALYZE outbound_messages; ANALYZE leads"))


def worker_env(database_url: str, redis_url: str, fake_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        EMAIL_PROVIDER="sendgrid",
        SENDGRID_API_KEY=API_KEY,
        SENDGRID_API_HOST=fake_url,
        PUBLIC_BASE_URL="https://lre.example",  # a real provider needs https links; only links use it
        SECRET_KEY=BENCH_SECRET_KEY,  # and a random secret, or the worker refuses to start
        LRE_PROCESS="worker",
        PYTHONPATH=str(ROOT),
    )
    return env


def timed_drain(engine: sa.Engine, connection: redis.Redis, *, jobs: int, batch: int) -> float:
    """Seconds from enqueueing `jobs` send jobs to an outbox with nothing pending or sending."""
    started = time.perf_counter()
    for _ in range(jobs):
        queue.enqueue(connection, "send_due", batch=batch)
    wait_until(lambda: unsent(engine) == 0, timeout=600, what="the outbox to drain", poll=0.02)
    return time.perf_counter() - started


def unsent(engine: sa.Engine) -> int:
    sql = "SELECT count(*) FROM outbound_messages WHERE status IN ('pending', 'sending')"
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def status_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT status, count(*) FROM outbound_messages GROUP BY status")).all()
    return {str(status): int(count) for status, count in rows}


def fake_stats(fake_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{fake_url}/_fake/stats", timeout=10) as response:  # noqa: S310 - our local fake
        return dict(json.load(response))


if __name__ == "__main__":
    raise SystemExit(main())
