"""What the queues, the workers and the cron scheduler look like right now, read from Redis.

The job ledger (`agent_runs`, `app/services/agent_runs.py`) says what each agent *did*; this
module says what the machinery is doing: how deep each RQ queue is, which workers are alive
and on what job, which jobs failed and why, and which cron schedulers keep their heartbeat.
It is the only place the console touches RQ, so pages (which may not import rq or redis)
get plain frozen dataclasses that `st.cache_data` can pickle.

Reads never clean up: RQ's registry reads can move abandoned jobs or drop expired entries
(`cleanup=True`), which is the workers' maintenance, not something a page refresh should do.
The one write is `retry_failed_job`, RQ's own requeue of a failed job onto its origin queue.

Failed jobs are filtered by tenant when asked: a job's `tenant_id` keyword (every per-tenant
job takes one, `app/queue.py`) decides whose it is; jobs without one (the cron's fan-out, the
heartbeat) belong to no tenant, and only operators who run the installation (`platform`) see or
retry them: their errors may name any tenant's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from redis import Redis
from rq import Queue, Worker
from rq.cron import CronJob, CronScheduler
from rq.defaults import DEFAULT_CRON_SCHEDULER_TTL, DEFAULT_WORKER_TTL
from rq.exceptions import DeserializationError, InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.results import Result
from rq.worker import BaseWorker

from app import runtime
from app.domain import roles
from app.queue import QUEUES
from app.services import acting

FAILED_SCAN_PER_QUEUE = 500
"""How many of a queue's newest failed jobs are read to find `limit` of one tenant's."""
EXCEPTION_SUMMARY_CHARS = 300


@dataclass(frozen=True)
class QueueDepth:
    """One RQ queue: jobs waiting, running, failed, scheduled for later, waiting on another job."""

    name: str
    queued: int
    started: int
    failed: int
    scheduled: int
    deferred: int


@dataclass(frozen=True)
class WorkerStatus:
    """One registered worker. `stale` when its heartbeat is older than RQ's worker TTL (it
    probably died without unregistering; its key expires soon)."""

    name: str
    state: str
    queues: tuple[str, ...]
    current_job_id: str | None
    current_function: str | None
    last_heartbeat: dt.datetime | None
    host: str | None
    pid: int | None
    successful: int
    failed: int
    stale: bool


@dataclass(frozen=True)
class FailedJob:
    """One job in a queue's FailedJobRegistry."""

    id: str
    queue: str
    function: str
    tenant_id: int | None
    exc_summary: str
    ended_at: dt.datetime | None


@dataclass(frozen=True)
class CronEntry:
    """One periodic job a cron scheduler registered."""

    name: str
    function: str
    queue: str
    every: str
    latest_enqueue: dt.datetime | None
    next_enqueue: dt.datetime | None


@dataclass(frozen=True)
class CronSchedulerStatus:
    """One `rq cron` process as it registered itself in Redis."""

    name: str
    host: str
    pid: int
    config_file: str
    last_heartbeat: dt.datetime | None
    stale: bool
    jobs: tuple[CronEntry, ...]


class RetryError(LookupError):
    """The job cannot be retried: it is not (or no longer) a failed job this caller may see."""


def _connection(connection: Redis | None) -> Redis:
    return connection if connection is not None else runtime.redis_client()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """RQ stores UTC; some of its fields come back naive."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


# --- queues ----------------------------------------------------------------------------------


def queue_overview(connection: Redis | None = None) -> list[QueueDepth]:
    """The depth of every queue of `app.queue.QUEUES`, in priority order (high, default, low)."""
    redis = _connection(connection)
    return [_depth(Queue(name, connection=redis)) for name in QUEUES]


def _depth(queue: Queue) -> QueueDepth:
    return QueueDepth(
        name=queue.name,
        queued=queue.count,
        started=StartedJobRegistry(queue=queue).get_job_count(cleanup=False),
        failed=FailedJobRegistry(queue=queue).get_job_count(cleanup=False),
        scheduled=ScheduledJobRegistry(queue=queue).get_job_count(cleanup=False),
        deferred=DeferredJobRegistry(queue=queue).get_job_count(cleanup=False),
    )


# --- workers ---------------------------------------------------------------------------------


def workers(connection: Redis | None = None) -> list[WorkerStatus]:
    """Every worker registered in Redis, by name."""
    redis = _connection(connection)
    now = _now()
    found = [_worker_status(worker, now) for worker in Worker.all(connection=redis)]
    return sorted(found, key=lambda w: w.name)


def _worker_status(worker: BaseWorker, now: dt.datetime) -> WorkerStatus:
    job_id = worker.get_current_job_id()
    heartbeat = _aware(worker.last_heartbeat)
    return WorkerStatus(
        name=worker.name,
        state=str(worker.get_state()),
        queues=tuple(worker.queue_names()),
        current_job_id=job_id,
        current_function=_function_of(job_id, worker.connection) if job_id else None,
        last_heartbeat=heartbeat,
        host=worker.hostname,
        pid=worker.pid,
        successful=worker.successful_job_count,
        failed=worker.failed_job_count,
        stale=heartbeat is None or (now - heartbeat).total_seconds() > DEFAULT_WORKER_TTL,
    )


def _function_of(job_id: str, connection: Redis) -> str | None:
    try:
        return _payload(Job.fetch(job_id, connection=connection))[0]
    except NoSuchJobError:  # it finished between the two reads
        return None


# --- failed jobs -----------------------------------------------------------------------------


def failed_jobs(
    limit: int = 50, *, tenant_id: int | None = None, platform: bool = False, connection: Redis | None = None
) -> list[FailedJob]:
    """The newest `limit` failed jobs of every queue, newest first; with `tenant_id`, only that
    tenant's jobs, and the tenant-less ones only for a `platform` reader (they may concern any
    tenant)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    redis = _connection(connection)
    found: list[FailedJob] = []
    for name in QUEUES:
        found.extend(_failed_in(Queue(name, connection=redis), tenant_id, platform))
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    found.sort(key=lambda job: (job.ended_at or oldest, job.id), reverse=True)
    return found[:limit]


def _failed_in(queue: Queue, tenant_id: int | None, platform: bool) -> Iterable[FailedJob]:
    registry = FailedJobRegistry(queue=queue)
    ids = registry.get_job_ids(0, FAILED_SCAN_PER_QUEUE - 1, desc=True, cleanup=False)
    for job in Job.fetch_many(ids, connection=queue.connection):
        if job is not None and _visible(job, tenant_id, platform):
            yield _failed_job(job, queue.name)


def _payload(job: Job) -> tuple[str, int | None]:
    """The job's function and `tenant_id` keyword; a payload this process cannot unpickle (a
    job enqueued by other code) reads as its description and no tenant."""
    try:
        function, kwargs = job.func_name, job.kwargs or {}
    except DeserializationError:
        return job.description or "(unreadable job)", None
    tenant = kwargs.get("tenant_id")
    return function or "?", tenant if isinstance(tenant, int) else None


def _visible(job: Job, tenant_id: int | None, platform: bool) -> bool:
    """No `tenant_id`: every job (the CLI). Otherwise that tenant's, plus tenant-less for `platform`."""
    owner = _payload(job)[1]
    if tenant_id is None:
        return True
    return platform if owner is None else owner == tenant_id


def _failed_job(job: Job, queue_name: str) -> FailedJob:
    function, owner = _payload(job)
    return FailedJob(
        id=job.id,
        queue=queue_name,
        function=function,
        tenant_id=owner,
        exc_summary=exception_summary(_exc_string(job)),
        ended_at=_aware(job.ended_at),
    )


def _exc_string(job: Job) -> str:
    result = job.latest_result()
    if result is not None and result.type == Result.Type.FAILED:
        return result.exc_string or ""
    return ""


def exception_summary(traceback: str) -> str:
    """The line of a traceback that names the exception (its last non-blank line), clipped."""
    lines = [line.strip() for line in traceback.strip().splitlines() if line.strip()]
    if not lines:
        return "no error recorded"
    last = lines[-1]
    return last if len(last) <= EXCEPTION_SUMMARY_CHARS else last[: EXCEPTION_SUMMARY_CHARS - 1] + "…"


def retry_failed_job(
    job_id: str,
    *,
    tenant_id: int | None = None,
    platform: bool = False,
    operator_id: int | None = None,
    connection: Redis | None = None,
) -> str:
    """Put a failed job back on its queue (RQ's requeue) and return the queue's name.

    Raises `RetryError` when no queue holds it as failed (already retried, expired, never
    failed) or, with `tenant_id`, when it is another tenant's job, or a tenant-less one and the
    caller is not `platform`. With `operator_id` (the console), `PermissionError` unless that
    operator may retry jobs in `tenant_id`, and `platform` is what the database says of them
    (the superuser), not what the caller claims.
    """
    if operator_id is not None:
        if tenant_id is None:
            raise roles.RoleRefused("An operator retries jobs of one tenant: give its id.")
        with runtime.session_scope() as session, session.begin():
            operator = acting.require(
                session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.RETRY_JOBS
            )
            platform = operator.role == roles.SUPERUSER
    redis = _connection(connection)
    for name in QUEUES:
        registry = FailedJobRegistry(name, connection=redis)
        if job_id not in registry:
            continue
        job = Job.fetch(job_id, connection=redis)
        if not _visible(job, tenant_id, platform):
            break
        try:
            registry.requeue(job)
        except InvalidJobOperation:  # another click or console retried it first
            break
        return name
    raise RetryError(f"job {job_id} is not a failed job here (already retried, or expired)")


# --- cron ------------------------------------------------------------------------------------


def cron_schedulers(connection: Redis | None = None) -> list[CronSchedulerStatus]:
    """The `rq cron` processes registered in Redis, with their schedules; a stale one (no
    heartbeat within RQ's scheduler TTL) is listed as such rather than pruned."""
    redis = _connection(connection)
    now = _now()
    return [_scheduler_status(s, now) for s in CronScheduler.all(redis, cleanup=False)]


def _scheduler_status(scheduler: CronScheduler, now: dt.datetime) -> CronSchedulerStatus:
    heartbeat = scheduler.last_heartbeat
    return CronSchedulerStatus(
        name=scheduler.name,
        host=scheduler.hostname,
        pid=scheduler.pid,
        config_file=scheduler.config_file,
        last_heartbeat=heartbeat,
        stale=heartbeat is None or (now - heartbeat).total_seconds() > DEFAULT_CRON_SCHEDULER_TTL,
        jobs=tuple(_cron_entry(job) for job in scheduler.get_jobs()),
    )


def _cron_entry(job: CronJob) -> CronEntry:
    every = f"every {job.interval} s" if job.interval is not None else (job.cron or "?")
    return CronEntry(
        name=job.name,
        function=job.func_name,
        queue=job.queue_name,
        every=every,
        latest_enqueue=_aware(job.latest_enqueue_time),
        next_enqueue=_aware(job.next_enqueue_time),
    )
