"""What the benchmarks start and wait for: the Procfile's rq workers, and a condition with a deadline."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import redis
from rq import Worker

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def rq_workers(
    env: dict[str, str], count: int, connection: redis.Redis, *, queues: Sequence[str], label: str
) -> Iterator[None]:
    """`count` `rq worker` processes on `queues`, started and registered before the clock starts."""
    rq = Path(sys.executable).with_name("rq")
    processes = [
        subprocess.Popen(
            [str(rq), "worker", "--url", env["REDIS_URL"], "--path", str(ROOT), "--name", f"{label}-{i}", *queues],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for i in range(count)
    ]
    try:
        wait_until(lambda: len(Worker.all(connection=connection)) >= count, timeout=30, what="workers to register")
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, poll: float = 0.05) -> None:
    """Poll `condition` until it holds (a bench waits for other processes; nothing to subscribe to)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(poll)
