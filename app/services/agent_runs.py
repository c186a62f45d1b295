"""The job ledger: one `agent_runs` row per RQ job, so the console reads agent progress from
PostgreSQL rather than from Redis internals (microblog's job table, without its swallowed
exceptions).

Every write is keyed by the RQ job id and is an upsert, because a job may run twice: the
cron has no lock, and a job abandoned by a killed worker is re-run. Each function here
owns its transaction; `tracked_run` wraps an agent's work between a start and a finish
that are each committed on their own, so a crash in the middle still leaves a `running`
row that says where it stopped.
"""

from __future__ import annotations

import enum
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import rq
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app import runtime
from app.domain import privacy
from db.models import AgentRun, Tenant

ERROR_MAX_CHARS = 4000  # enough for a message and the start of a traceback, not a log file
HEARTBEAT_AGENT = "heartbeat"


class RunStatus(enum.StrEnum):
    """Where one agent job stands (the values of `agent_runs.status`)."""

    QUEUED = "queued"
    """Enqueued and not yet picked up by a worker."""
    RUNNING = "running"
    """Started; still running, or its worker died before it could say otherwise."""
    SUCCEEDED = "succeeded"
    """Finished; `counts` says what it did."""
    FAILED = "failed"
    """Raised; `error` holds the exception, `counts` what it did before."""


def current_job_id() -> str:
    """The RQ job id of the job running now, or a fresh id when called outside a worker (CLI, tests)."""
    job = rq.get_current_job()
    return job.id if job is not None else f"local-{uuid.uuid4().hex}"


def start_run(*, job_id: str, agent: str, tenant_id: int | None = None) -> int:
    """Record that job `job_id` started and return its ledger id; a re-run restarts the same row."""
    restart = {
        "status": RunStatus.RUNNING.value,
        "error": None,
        "finished_at": None,
        "started_at": sa.func.now(),
        "updated_at": sa.func.now(),
        "host": socket.gethostname(),
    }
    statement = (
        insert(AgentRun)
        .values(job_id=job_id, agent=agent, tenant_id=tenant_id, **restart)
        .on_conflict_do_update(index_elements=[AgentRun.job_id], set_=restart)
        .returning(AgentRun.id)
    )
    with runtime.session_scope() as session, session.begin():
        return int(session.execute(statement).scalar_one())


def finish_run(*, job_id: str, status: RunStatus | str, counts: dict[str, Any], error: str | None = None) -> None:
    """Record how job `job_id` ended; it must have been started with `start_run`."""
    final = RunStatus(status)
    if final not in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        raise ValueError(f"a run finishes as succeeded or failed, not {final.value!r}")
    statement = (
        sa.update(AgentRun)
        .where(AgentRun.job_id == job_id)
        .values(
            status=final.value,
            counts=counts,
            error=_clip(error),
            finished_at=sa.func.now(),
            updated_at=sa.func.now(),
        )
    )
    with runtime.session_scope() as session, session.begin():
        if session.execute(statement).rowcount == 0:  # type: ignore[attr-defined]
            raise LookupError(f"no agent run {job_id!r}: call start_run before finish_run")


ABANDONED_AFTER = timedelta(hours=1)  # far beyond any job's RQ timeout: nothing still runs then


def fail_abandoned(*, older_than: timedelta = ABANDONED_AFTER) -> int:
    """Mark `running` rows whose worker died (SIGKILL, lost host) as failed, so the console stops
    showing them as in progress. A run re-started by RQ under the same job id upserts its row back."""
    statement = (
        sa.update(AgentRun)
        .where(AgentRun.status == RunStatus.RUNNING.value, AgentRun.started_at < sa.func.now() - older_than)
        .values(
            status=RunStatus.FAILED.value,
            error="abandoned: the worker stopped before the run finished",
            finished_at=sa.func.now(),
            updated_at=sa.func.now(),
        )
    )
    with runtime.session_scope() as session, session.begin():
        return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def record_heartbeat(*, job_id: str) -> dict[str, int]:
    """Write one finished `heartbeat` row for `job_id` (once, however often it runs) and return its counts.

    The row proves that cron enqueues, a worker runs jobs and PostgreSQL takes writes: the
    console shows the time of the last one as the agents' pulse.
    """
    with runtime.session_scope() as session, session.begin():
        tenants = int(session.execute(sa.select(sa.func.count()).select_from(Tenant)).scalar_one())
        counts = {"tenants": tenants}
        done = {
            "status": RunStatus.SUCCEEDED.value,
            "counts": counts,
            "error": None,
            "finished_at": sa.func.now(),
            "updated_at": sa.func.now(),
            "host": socket.gethostname(),
        }
        session.execute(
            insert(AgentRun)
            .values(job_id=job_id, agent=HEARTBEAT_AGENT, **done)
            .on_conflict_do_update(index_elements=[AgentRun.job_id], set_=done)
        )
    return counts


@contextmanager
def tracked_run(*, agent: str, tenant_id: int | None = None, job_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Wrap an agent's work in the ledger: yields a counts dict for the agent to fill.

    On success the run finishes `succeeded` with those counts; on an exception it finishes
    `failed` with the error text and the exception propagates (RQ then marks the job
    failed and may retry it). `job_id` defaults to the current RQ job's id; pass one when a
    single job records several runs (one per tenant, say).
    """
    run_job_id = job_id or current_job_id()
    start_run(job_id=run_job_id, agent=agent, tenant_id=tenant_id)
    counts: dict[str, Any] = {}
    try:
        yield counts
    except Exception as error:
        finish_run(job_id=run_job_id, status=RunStatus.FAILED, counts=counts, error=_describe(error))
        raise
    finish_run(job_id=run_job_id, status=RunStatus.SUCCEEDED, counts=counts)


def _describe(error: BaseException) -> str:
    """The stored error. For a database error: the error's class, its SQLSTATE and the names of
    the table, column and constraint involved, never its message, because PostgreSQL quotes
    values there (`invalid input syntax for type integer: "…"`, `Key (email)=(…)`, `Failing row
    contains (…)`) and SQLAlchemy's text may carry bound parameters: leads' data either way."""
    if isinstance(error, sa.exc.DBAPIError):
        return f"{type(error).__name__} ({_database_detail(error.orig)})"
    if isinstance(error, sa.exc.StatementError):
        return f"{type(error).__name__}: a statement failed before it reached the database"
    return f"{type(error).__name__}: {error}"


def _database_detail(original: BaseException | None) -> str:
    """`UniqueViolation, SQLSTATE 23505, table leads, constraint leads_email_key`: names only."""
    diag = getattr(original, "diag", None)
    parts = [type(original).__name__]
    for label, attribute in (
        ("SQLSTATE", "sqlstate"),
        ("table", "table_name"),
        ("column", "column_name"),
        ("constraint", "constraint_name"),
    ):
        name = getattr(diag, attribute, None)
        if name:
            parts.append(f"{label} {name}")
    return ", ".join(parts)


def _clip(text: str | None) -> str | None:
    """The error as stored: no email address or phone number (operators of every tenant read
    it, and it outlives an erasure), and no longer than the column is shown."""
    text = privacy.scrub_contacts(text)
    if text is None or len(text) <= ERROR_MAX_CHARS:
        return text
    return text[: ERROR_MAX_CHARS - 1] + "…"
