"""`make run`: bring the whole product up from nothing, and down again on Ctrl-C.

Order matters: services first (embedded when the URLs are unset), then migrations, then,
for the demo only, the seed (only into an empty database, so a second `make run` keeps its
data; a configured DATABASE_URL is never seeded unless `--demo` asks for it), then
the four Procfile processes under honcho with the resolved URLs in their environment, so
every process talks to the same servers. Once the console and the api both answer their
health checks, it says so once: where each is, and who to sign in as. That is the last
thing it prints; after it come the agents' lines, one per job (`agents/job_log.py`).
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from app import runtime, webhook_keys
from app.services import demo, operators
from app.settings import PROJECT_ROOT, Settings, get_settings
from db import migrate

DEMO_TENANTS = 3
DEMO_SEED = 7
# The Procfile's addresses; set here for every process, so the banner names the real ones.
PORT_DEFAULTS = {"WEB_HOST": "127.0.0.1", "WEB_PORT": "8501", "API_HOST": "127.0.0.1", "API_PORT": "8000"}
UP_DEADLINE_S = 300.0  # a first start on a slow machine: streamlit and uvicorn importing everything
POLL_S = 0.5
PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Addresses:
    """Where the console and the api answer, as the person at the terminal opens them."""

    console: str
    api: str

    @classmethod
    def of(cls, env: dict[str, str]) -> Addresses:
        host = env["WEB_HOST"]
        console_host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "localhost") else host  # noqa: S104
        return cls(
            console=f"http://{console_host}:{env['WEB_PORT']}", api=f"http://{env['API_HOST']}:{env['API_PORT']}"
        )

    @property
    def health_checks(self) -> tuple[str, str]:
        return (f"{self.console}/_stcore/health", f"{self.api}/healthz")


def process_environment(urls: runtime.ServiceUrls, *, demo_mode: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = urls.database_url
    env["REDIS_URL"] = urls.redis_url
    env.setdefault("PYTHONUNBUFFERED", "1")
    # `make run` calls .venv/bin/python without activating the venv: the Procfile's
    # `streamlit`, `uvicorn` and `rq` live beside this interpreter.
    env["PATH"] = os.pathsep.join(filter(None, [str(Path(sys.executable).parent), env.get("PATH")]))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    for name, default in PORT_DEFAULTS.items():
        env[name] = env.get(name) or default
    env["DEMO"] = "1" if demo_mode else "0"  # the children see DATABASE_URL set: tell them what this is
    return env


def run(*, demo_leads: int, procfile: str = "Procfile") -> int:
    settings = get_settings()
    urls = runtime.service_urls()
    where = "embedded under " + str(settings.data_dir) if urls.embedded else "the configured servers"
    print(f"services: PostgreSQL and Redis on {where}", flush=True)
    try:
        migrate.upgrade(urls.database_url)
        print("database: migrated", flush=True)
        seed_demo_if_empty(settings, demo_leads)
        if "sandbox" in (settings.email_provider, settings.sms_provider):
            webhook_keys.ensure_demo_keys(settings)  # the simulator signs the demo's webhooks with these
        sign_in = operators.demo_sign_in() if settings.is_demo else None
        runtime.engine().dispose()
        env = process_environment(urls, demo_mode=settings.is_demo)
        return _supervise(procfile, env, Addresses.of(env), sign_in)
    finally:
        urls.stop_embedded()


def seed_demo_if_empty(settings: Settings, demo_leads: int) -> None:
    """Seed the demo into an empty database, in demo mode only: a configured database is
    someone's production, where demo admins with the password `demo` must never appear."""
    if not settings.is_demo:
        print("database: not the demo, nothing seeded (`python -m app run --demo` seeds an empty one)", flush=True)
    elif demo.is_empty():
        print(f"database: empty, seeding the demo ({DEMO_TENANTS} tenants, {demo_leads:,} leads)", flush=True)
        print(demo.seed(tenants=DEMO_TENANTS, leads=demo_leads, seed=DEMO_SEED).summary(), flush=True)
    else:
        print("database: has data, keeping it", flush=True)


def banner(where: Addresses, sign_in: str | None) -> str:
    """What `make run` says once everything answers: the two addresses and who to sign in as."""
    who = (
        f"{sign_in} / {operators.DEMO_PASSWORD}"
        if sign_in
        else "an operator of yours (python -m app create-admin --tenant SLUG --email EMAIL)"
    )
    return "\n".join(
        [
            "",
            "Lead Recovery Engine is up.",
            f"  console  {where.console}",
            f"  api      {where.api}  (health: {where.api}/healthz)",
            f"  sign in  {who}",
            "Ctrl-C stops everything. The agents' work follows, one line per job.",
            "",
        ]
    )


def answers(url: str) -> bool:
    """Whether `url` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as response:  # noqa: S310 - our own local servers
            return int(response.status) == 200
    except (OSError, http.client.HTTPException):  # refused, reset, timed out, or a half-started server
        return False


def announce_when_up(process: subprocess.Popen[bytes], where: Addresses, sign_in: str | None) -> None:
    """Print the banner once the console and the api pass their health checks; say so if they
    never do. Returns early when honcho ends first (a process failed; its lines say why)."""
    deadline = time.monotonic() + UP_DEADLINE_S
    while process.poll() is None:
        if all(answers(url) for url in where.health_checks):
            print(banner(where, sign_in), flush=True)
            return
        if time.monotonic() > deadline:
            silent = " and ".join(where.health_checks)
            print(f"not up after {UP_DEADLINE_S:.0f} s: {silent} do not both answer", flush=True)
            return
        time.sleep(POLL_S)


def _supervise(procfile: str, env: dict[str, str], where: Addresses, sign_in: str | None) -> int:
    """Run honcho in the foreground; Ctrl-C reaches it (same process group) and it stops the rest.
    Meanwhile a thread waits for the health checks and prints the banner."""
    honcho = Path(sys.executable).with_name("honcho")
    command = [str(honcho), "start", "-f", procfile, "-d", str(PROJECT_ROOT)]
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)
    threading.Thread(target=announce_when_up, args=(process, where, sign_in), daemon=True).start()
    # Ignore Ctrl-C here only after the child exists (an ignored signal would be inherited).
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
