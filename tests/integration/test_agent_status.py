"""`app/services/agent_status.py` on the real test Redis: queue depths, workers, failed jobs
from a real SimpleWorker and their retry, and the cron schedulers."""

from __future__ import annotations

import datetime as dt

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.registry import FailedJobRegistry

from app import queue
from app.services import agent_status
from tests.integration import jobs


def test_queue_overview_counts_what_was_enqueued(redis_conn: redis.Redis) -> None:
    queue.enqueue(redis_conn, "send_due", tenant_id=1)
    for tenant in (1, 2, 3):
        queue.enqueue(redis_conn, "scan_tenant", tenant_id=tenant)
    for _ in range(2):
        queue.enqueue(redis_conn, "heartbeat")

    depths = agent_status.queue_overview(redis_conn)

    assert [(d.name, d.queued, d.failed) for d in depths] == [("high", 1, 0), ("default", 3, 0), ("low", 2, 0)]


def test_a_failed_job_is_listed_with_its_error_and_retried(redis_conn: redis.Redis) -> None:
    before = dt.datetime.now(dt.UTC)
    jobs.fail_on_queue(redis_conn, "default", tenant_id=7, job_id="failing-1")

    [failed] = agent_status.failed_jobs(10, connection=redis_conn)
    assert (failed.id, failed.queue, failed.function, failed.tenant_id) == (
        "failing-1",
        "default",
        "tests.integration.jobs.explode",
        7,
    )
    assert failed.exc_summary == jobs.FAILURE
    assert failed.ended_at is not None
    assert failed.ended_at >= before.replace(microsecond=0)
    assert agent_status.queue_overview(redis_conn)[1].failed == 1

    assert agent_status.retry_failed_job("failing-1", connection=redis_conn) == "default"

    assert Queue("default", connection=redis_conn).job_ids == ["failing-1"]
    assert "failing-1" not in FailedJobRegistry("default", connection=redis_conn)
    assert agent_status.failed_jobs(10, connection=redis_conn) == []
    with pytest.raises(agent_status.RetryError):
        agent_status.retry_failed_job("failing-1", connection=redis_conn)


def test_failed_jobs_of_another_tenant_are_neither_listed_nor_retried(redis_conn: redis.Redis) -> None:
    jobs.fail_on_queue(redis_conn, "default", tenant_id=7, job_id="mine")
    jobs.fail_on_queue(redis_conn, "low", tenant_id=8, job_id="theirs")
    jobs.fail_on_queue(redis_conn, "high", tenant_id=None, job_id="no-tenants")

    shown = {job.id for job in agent_status.failed_jobs(10, tenant_id=7, connection=redis_conn)}
    to_admin = {job.id for job in agent_status.failed_jobs(10, tenant_id=7, platform=True, connection=redis_conn)}

    assert shown == {"mine"}, "a tenant-less job may concern any tenant: platform operators only"
    assert to_admin == {"mine", "no-tenants"}
    assert {job.id for job in agent_status.failed_jobs(10, connection=redis_conn)} == {"mine", "theirs", "no-tenants"}
    for job_id in ("theirs", "no-tenants"):
        with pytest.raises(agent_status.RetryError):
            agent_status.retry_failed_job(job_id, tenant_id=7, connection=redis_conn)
    assert "theirs" in FailedJobRegistry("low", connection=redis_conn)
    assert "no-tenants" in FailedJobRegistry("high", connection=redis_conn)
    assert agent_status.retry_failed_job("no-tenants", tenant_id=7, platform=True, connection=redis_conn) == "high"


def test_failed_jobs_come_newest_first_up_to_the_limit(redis_conn: redis.Redis) -> None:
    for n in range(3):
        jobs.fail_on_queue(redis_conn, "default", job_id=f"f{n}")

    assert [job.id for job in agent_status.failed_jobs(2, connection=redis_conn)] == ["f2", "f1"]
    with pytest.raises(ValueError, match="at least 1"):
        agent_status.failed_jobs(0, connection=redis_conn)


def test_a_registered_worker_is_listed_alive(redis_conn: redis.Redis) -> None:
    worker = SimpleWorker(["high", "default"], connection=redis_conn, name="worker-under-test")
    worker.register_birth()
    try:
        [listed] = agent_status.workers(redis_conn)
    finally:
        worker.register_death()

    assert (listed.name, listed.queues, listed.current_job_id, listed.stale) == (
        "worker-under-test",
        ("high", "default"),
        None,
        False,
    )
    assert listed.last_heartbeat is not None
    assert agent_status.workers(redis_conn) == []


def test_cron_schedulers_are_read_with_their_jobs(redis_conn: redis.Redis) -> None:
    scheduler = CronScheduler(connection=redis_conn, name="cron-under-test")
    scheduler.register(jobs.explode, queue_name="low", interval=60, name="explode")
    scheduler.register_birth()

    [status] = agent_status.cron_schedulers(redis_conn)

    assert (status.name, status.stale) == ("cron-under-test", False)
    [entry] = status.jobs
    assert (entry.name, entry.function, entry.queue, entry.every) == (
        "explode",
        "tests.integration.jobs.explode",
        "low",
        "every 60 s",
    )


@pytest.mark.parametrize(
    ("traceback", "summary"),
    [
        ("Traceback (most recent call last):\n  File x\nValueError: bad\n\n", "ValueError: bad"),
        ("", "no error recorded"),
        ("E: " + "x" * 400, "E: " + "x" * 296 + "…"),
    ],
)
def test_exception_summary_is_the_last_line(traceback: str, summary: str) -> None:
    assert agent_status.exception_summary(traceback) == summary
