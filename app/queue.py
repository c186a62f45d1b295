"""Enqueue agent work by job name, so `app/` never imports `agents/`.

Each name maps to a module-level function in `agents/`; a test imports every target to
prove the map is right.
"""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq import Queue

QUEUES = ("high", "default", "low")

JOBS: dict[str, tuple[str, str]] = {
    # name: (dotted function path, queue)
    "heartbeat": ("agents.heartbeat.beat", "low"),
    "scan_all": ("agents.scanner.scan_all", "default"),
    "scan_tenant": ("agents.scanner.scan_tenant", "default"),
    "fire_all": ("agents.planner.fire_all", "default"),
    "fire_due": ("agents.planner.fire_due", "default"),
    "write_due": ("agents.writer.write_due", "default"),
    "write_batches": ("agents.batch_writer.write_batches", "default"),
    "write_all": ("agents.writer.write_all", "default"),
    "send_due": ("agents.sender.send_due", "high"),
    "reconcile_sending": ("agents.sender.reconcile_sending", "low"),
    "recompute_scores": ("agents.scorer.recompute_scores", "low"),
    "rescore_all": ("agents.scorer.rescore_all", "low"),
    "rescore_pending": ("agents.scorer.rescore_pending", "low"),
    "refresh_rollups": ("agents.rollup.refresh_tenant", "low"),
    "refresh_all_rollups": ("agents.rollup.refresh_all", "low"),
    "apply_webhooks": ("agents.listener.apply_webhooks", "high"),
    "simulate_engagement": ("agents.simulator.simulate_engagement", "low"),
    "anonymise_expired": ("agents.retention.anonymise_expired", "low"),
}


# RQ kills a job after 180 s by default. The writer may wait on many uncached model calls, so
# it gets longer; it stores per chunk, and a killed batch is reclaimed, never double-sent.
# The sender stops claiming after 25 s and calling providers after 35 s (one call is bounded by
# the provider's 30 s HTTP timeout), then may wait up to 15 s to store the results: 120 s leaves
# room, so the timeout never kills a run mid-batch (its rows would be held as if it crashed).
JOB_TIMEOUTS: dict[str, int] = {"write_due": 900, "send_due": 120, "anonymise_expired": 1800}
DEFAULT_JOB_TIMEOUT = 180
RESULT_TTL_S = 3600
FAILURE_TTL_S = 7 * 86400
"""A failed job (and its traceback) stays this long: the longest anything of a job stays in Redis."""


def job_target(name: str) -> tuple[str, str]:
    try:
        return JOBS[name]
    except KeyError:
        raise ValueError(f"unknown job {name!r}; known jobs: {', '.join(sorted(JOBS))}") from None


def enqueue(connection: Redis, name: str, *args: Any, job_id: str | None = None, **kwargs: Any) -> str:
    """Put job `name` on its queue and return the RQ job id."""
    func, queue_name = job_target(name)
    queue = Queue(queue_name, connection=connection)
    job = queue.enqueue(
        func,
        *args,
        job_id=job_id,
        kwargs=kwargs,
        job_timeout=JOB_TIMEOUTS.get(name, DEFAULT_JOB_TIMEOUT),
        result_ttl=RESULT_TTL_S,
        failure_ttl=FAILURE_TTL_S,
    )
    return str(job.id)
