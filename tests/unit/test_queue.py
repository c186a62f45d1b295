"""Every job name of `app.queue.JOBS` points at a module-level function of `agents/` on a real queue."""

from __future__ import annotations

import importlib
import inspect

import pytest
from redis import Redis
from rq.cron import CronScheduler

from app import queue


@pytest.mark.parametrize(("name", "target"), sorted(queue.JOBS.items()))
def test_job_target_is_a_module_level_callable_in_agents(name: str, target: tuple[str, str]) -> None:
    dotted, queue_name = target
    module_name, _, attribute = dotted.rpartition(".")
    assert module_name.startswith("agents."), f"{name}: {dotted} is not in agents/"
    func = getattr(importlib.import_module(module_name), attribute)
    assert inspect.isfunction(func), f"{name}: {dotted} is not a function"
    assert func.__qualname__ == attribute, f"{name}: {dotted} is not module-level"
    assert queue_name in queue.QUEUES


def test_unknown_job_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="heartbeat"):
        queue.enqueue(Redis(), "no-such-job")


def test_cron_schedules_only_known_jobs_on_their_queues() -> None:
    scheduler = CronScheduler(connection=Redis())  # no I/O until it starts
    scheduler.load_config_from_file("agents/cron.py")  # what `rq cron agents/cron.py` does
    jobs = {job.name: job for job in scheduler.get_jobs()}
    assert "heartbeat" in jobs
    for name, job in jobs.items():
        assert (job.func_name, job.queue_name) == queue.job_target(name)
    assert jobs["heartbeat"].interval == 60


def test_every_timeout_names_a_known_job() -> None:
    from app.queue import JOB_TIMEOUTS, JOBS

    assert set(JOB_TIMEOUTS) <= set(JOBS)
