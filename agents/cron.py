"""The schedules, read by the `cron` process: `rq cron agents/cron.py`.

RQ's cron takes no lock (two cron processes enqueue everything twice) and fires interval
jobs once at start, so every job registered here is idempotent; exactly one cron process
runs in a deployment. Jobs go to the queue named in `app.queue.JOBS`, so the schedule and
`app.queue.enqueue` agree on where each agent runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq import cron

from agents import (
    batch_writer,
    heartbeat,
    listener,
    planner,
    retention,
    rollup,
    scanner,
    scorer,
    sender,
    simulator,
    writer,
)
from app.queue import JOB_TIMEOUTS, job_target

HEARTBEAT_INTERVAL_S = 60
SCAN_INTERVAL_S = 300
PLAN_INTERVAL_S = 60  # a plan's timers fire within a minute of being due
WRITE_SWEEP_INTERVAL_S = 60  # a backlog, or a wake-up lost with Redis, never waits for a scan
SEND_SWEEP_INTERVAL_S = 60  # picks up rows deferred by quiet hours, rate limits and retries
RECONCILE_INTERVAL_S = 60
RESCORE_INTERVAL_S = 900  # recency decays with time alone: every lead is rescored every 15 min
ROLLUP_INTERVAL_S = 300  # the ROI page and the funnel trail live activity by at most this
WEBHOOK_SWEEP_INTERVAL_S = 60  # the api enqueues the applier per burst; this catches a lost job
BATCH_WRITE_INTERVAL_S = 60  # batch-drafted sends: submitted, polled, written well before their slot
SIMULATE_INTERVAL_S = 20  # the demo's leads answer (does nothing outside the demo)
RETENTION_INTERVAL_S = 3600  # closed leads past their tenant's retention period are anonymised hourly


def schedule(name: str, func: Callable[..., Any], *, interval: int) -> None:
    """Register `func` (the target of job `name`) every `interval` seconds on that job's queue, killed
    after `interval` seconds unless `app.queue.JOB_TIMEOUTS` gives it longer (the sender)."""
    target, queue_name = job_target(name)
    if target != f"{func.__module__}.{func.__name__}":
        raise ValueError(f"job {name!r} maps to {target} in app.queue.JOBS, not to {func.__module__}.{func.__name__}")
    timeout = JOB_TIMEOUTS.get(name, interval)
    cron.register(func, queue_name=queue_name, interval=interval, job_timeout=timeout, result_ttl=600, name=name)


schedule("heartbeat", heartbeat.beat, interval=HEARTBEAT_INTERVAL_S)
schedule("scan_all", scanner.scan_all, interval=SCAN_INTERVAL_S)
schedule("fire_all", planner.fire_all, interval=PLAN_INTERVAL_S)
schedule("write_all", writer.write_all, interval=WRITE_SWEEP_INTERVAL_S)
schedule("send_due", sender.send_due, interval=SEND_SWEEP_INTERVAL_S)
schedule("reconcile_sending", sender.reconcile_sending, interval=RECONCILE_INTERVAL_S)
schedule("rescore_all", scorer.rescore_all, interval=RESCORE_INTERVAL_S)
schedule("refresh_all_rollups", rollup.refresh_all, interval=ROLLUP_INTERVAL_S)
schedule("apply_webhooks", listener.apply_webhooks, interval=WEBHOOK_SWEEP_INTERVAL_S)
schedule("write_batches", batch_writer.write_batches, interval=BATCH_WRITE_INTERVAL_S)
schedule("simulate_engagement", simulator.simulate_engagement, interval=SIMULATE_INTERVAL_S)
schedule("anonymise_expired", retention.anonymise_expired, interval=RETENTION_INTERVAL_S)
