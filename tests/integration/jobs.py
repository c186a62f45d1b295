"""Job functions for tests that need a job to fail on a real worker (imported by dotted path)."""

from __future__ import annotations

from agents.job_log import one_line

FAILURE = "RuntimeError: provider down"


def explode(tenant_id: int | None = None) -> None:
    """Fail the way an agent does when its provider is down."""
    raise RuntimeError("provider down")


def fail_on_queue(connection: object, queue_name: str, *, tenant_id: int | None = None, job_id: str) -> str:
    """Enqueue `explode` on `queue_name` and run a real SimpleWorker over that queue until empty."""
    from rq import Queue, SimpleWorker

    queue = Queue(queue_name, connection=connection)  # type: ignore[arg-type]
    queue.enqueue(explode, job_id=job_id, kwargs={"tenant_id": tenant_id}, failure_ttl=3600)
    SimpleWorker([queue], connection=connection).work(burst=True)  # type: ignore[arg-type]
    return job_id


@one_line
def explode_in_one_line(tenant_id: int | None = None) -> None:
    """Fail like `explode`, with a message of two lines, through the agents' one-line log."""
    raise RuntimeError("provider down\nretry in 30 s")
