"""What the worker and cron processes print, run exactly as the Procfile runs them: one line
per job from our agents, and nothing from RQ below WARNING."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from rq import Queue, SimpleWorker
from sqlalchemy import Engine

from app import queue
from tests.integration import jobs

ROOT = Path(__file__).resolve().parents[2]
WORKER_DEADLINE_S = 120.0
CRON_DEADLINE_S = 60.0
POLL_S = 0.1


def procfile_command(process: str) -> str:
    """The shell command the Procfile gives `process` (honcho runs it with a shell too)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise AssertionError(f"the Procfile has no {process!r} process")


def process_env(database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def tenant(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(sa.text("INSERT INTO tenants (slug, name) VALUES ('acme', 'Acme') RETURNING id")).scalar_one()
        )


def lines_at(output: str, level: str) -> list[str]:
    return starting(output.splitlines(), f"{level} ")


def starting(lines: list[str], prefix: str) -> list[str]:
    return [line for line in lines if line.startswith(prefix)]


def test_the_worker_prints_one_line_per_job_and_no_rq_chatter(
    clean_db: Engine, redis_conn: redis.Redis, database_url: str, redis_url: str
) -> None:
    acme = tenant(clean_db)
    queue.enqueue(redis_conn, "heartbeat")
    queue.enqueue(redis_conn, "scan_tenant", tenant_id=acme)
    queue.enqueue(redis_conn, "recompute_scores", tenant_id=acme)

    done = subprocess.run(
        ["sh", "-c", procfile_command("worker") + " --burst"],
        cwd=ROOT,
        env=process_env(database_url, redis_url),
        capture_output=True,
        text=True,
        timeout=WORKER_DEADLINE_S,
        check=False,
    )
    output = done.stdout + done.stderr

    assert done.returncode == 0, output
    info = lines_at(output, "INFO")
    assert len(info) == 3, output  # three jobs, one line each, and none of RQ's
    assert all(line.startswith("INFO agents.") for line in info), output
    [beat] = starting(info, "INFO agents.heartbeat: beat in ")
    assert beat.endswith(": tenants 1"), beat  # the one tenant inserted above
    assert len(starting(info, f"INFO agents.scanner: scan_tenant for tenant {acme} in ")) == 1
    assert len(starting(info, f"INFO agents.scorer: recompute_scores for tenant {acme} in ")) == 1
    assert not lines_at(output, "WARNING"), output
    assert not lines_at(output, "ERROR"), output
    with clean_db.connect() as conn:
        ran = conn.execute(sa.text("SELECT agent FROM agent_runs WHERE status = 'succeeded' ORDER BY agent")).scalars()
        assert list(ran) == ["heartbeat", "scanner", "scorer"]


def test_the_cron_enqueues_without_a_word(redis_conn: redis.Redis, database_url: str, redis_url: str) -> None:
    process = subprocess.Popen(
        ["sh", "-c", procfile_command("cron")],
        cwd=ROOT,
        env=process_env(database_url, redis_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        # RQ's cron enqueues every interval job once at start: the six schedules of agents/cron.py.
        deadline = time.monotonic() + CRON_DEADLINE_S
        while sum(Queue(name, connection=redis_conn).count for name in queue.QUEUES) < 6:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the cron enqueued nothing in time"
            time.sleep(POLL_S)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output = process.communicate(timeout=CRON_DEADLINE_S)[0]

    assert not lines_at(output, "INFO"), output
    # RQ's own format (`10:16:28 Enqueued job beat to queue low`) would show its INFO lines too.
    assert "Enqueued job" not in output, output
    assert "Registered" not in output, output


def test_a_failing_job_says_so_in_one_line_and_still_fails(
    redis_conn: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    failing = Queue("default", connection=redis_conn)
    job = failing.enqueue(jobs.explode_in_one_line, kwargs={"tenant_id": 7}, failure_ttl=3600)

    with caplog.at_level(logging.INFO):
        SimpleWorker([failing], connection=redis_conn).work(burst=True)

    ours = [record for record in caplog.records if record.name == jobs.__name__]
    assert len(ours) == 1
    [line] = ours
    assert line.levelno == logging.WARNING
    message = line.getMessage()
    assert message.startswith("explode_in_one_line for tenant 7 failed after ")
    assert message.endswith(" s: RuntimeError: provider down"), message  # the first line of the message only
    assert job.get_status(refresh=True) == "failed"
