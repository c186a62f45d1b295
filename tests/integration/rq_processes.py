"""Real RQ processes for fault tests: the Procfile's forking `rq worker` in a process group of its
own (so a test can SIGKILL it with its work horse), and the jobs `rq cron agents/cron.py` enqueues,
taken from the schedule itself."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import redis
from rq.cron import CronScheduler

from app import queue
from tests.fakes import sendgrid_server
from tests.fakes.http_fake import FakeServer
from tests.support import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]


def worker_env(database_url: str, redis_url: str, fake: FakeServer) -> dict[str, str]:
    """A worker's environment: the test's servers, and email through the fake SendGrid at `fake.url`."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        EMAIL_PROVIDER="sendgrid",
        SENDGRID_API_KEY=sendgrid_server.API_KEY,
        SENDGRID_API_HOST=fake.url,
        **PRODUCTION_ENV,  # a real provider needs a random secret and https links; only links use it
        LRE_PROCESS="worker",
        PYTHONPATH=str(ROOT),
    )
    return env


def start_worker(
    env: dict[str, str], name: str, log: Path, *, burst: bool = True, forking: bool = True
) -> subprocess.Popen[bytes]:
    """`rq worker` on every queue, as the Procfile starts it (burst: it exits once the queues are
    empty). `forking=False` runs each job in the worker process itself (RQ's SimpleWorker): the
    same code and queues without a fork per job, for tests that kill nothing."""
    rq = Path(sys.executable).with_name("rq")
    command = [str(rq), "worker", "--url", env["REDIS_URL"], "--path", str(ROOT), "--name", name, *queue.QUEUES]
    if not forking:
        command += ["--worker-class", "rq.SimpleWorker"]
    with log.open("ab") as err:
        return subprocess.Popen(
            [*command, *(["--burst"] if burst else [])],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )


def kill_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and its work horse (RQ moves the horse to a process group of its own)."""
    horses = descendants(process.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in horses:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found += [int(child), *descendants(int(child))]
    return found


def enqueue_cron_job(connection: redis.Redis, name: str) -> str:
    """Enqueue the job `name` exactly as the cron process does on its schedule; the RQ job id."""
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("agents/cron.py")
    [job] = [job for job in scheduler.get_jobs() if job.name == name]
    return str(job.enqueue(connection).id)


def enqueue_cron_start(connection: redis.Redis) -> list[str]:
    """What one `rq cron agents/cron.py` enqueues as it starts (RQ's cron fires every interval job
    once at start): the names of the jobs, in the schedule's order."""
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("agents/cron.py")
    jobs = scheduler.get_jobs()
    for job in jobs:
        job.enqueue(connection)
    return [job.name for job in jobs]
