"""`make run`: bring the whole product up from nothing, and down again on Ctrl-C.

Order matters: services first (embedded when the URLs are unset), then migrations, then
the demo seed (only into an empty database, so a second `make run` keeps its data), then
the four Procfile processes under honcho with the resolved URLs in their environment, so
every process talks to the same servers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from app import runtime
from app.services import demo
from app.settings import PROJECT_ROOT, get_settings
from db import migrate

DEMO_TENANTS = 3
DEMO_SEED = 7


def process_environment(urls: runtime.ServiceUrls) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = urls.database_url
    env["REDIS_URL"] = urls.redis_url
    env.setdefault("PYTHONUNBUFFERED", "1")
    # `make run` calls .venv/bin/python without activating the venv: the Procfile's
    # `streamlit`, `uvicorn` and `rq` live beside this interpreter.
    env["PATH"] = os.pathsep.join(filter(None, [str(Path(sys.executable).parent), env.get("PATH")]))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def run(*, demo_leads: int, procfile: str = "Procfile") -> int:
    settings = get_settings()
    urls = runtime.service_urls()
    where = "embedded under " + str(settings.data_dir) if urls.embedded else "the configured servers"
    print(f"services: PostgreSQL and Redis on {where}", flush=True)
    try:
        migrate.upgrade(urls.database_url)
        print("database: migrated", flush=True)
        if demo.is_empty():
            print(f"database: empty, seeding the demo ({DEMO_TENANTS} tenants, {demo_leads:,} leads)", flush=True)
            print(demo.seed(tenants=DEMO_TENANTS, leads=demo_leads, seed=DEMO_SEED).summary(), flush=True)
        else:
            print("database: has data, keeping it", flush=True)
        runtime.engine().dispose()
        return _supervise(procfile, process_environment(urls))
    finally:
        urls.stop_embedded()


def _supervise(procfile: str, env: dict[str, str]) -> int:
    """Run honcho in the foreground; Ctrl-C reaches it (same process group) and it stops the rest."""
    honcho = Path(sys.executable).with_name("honcho")
    command = [str(honcho), "start", "-f", procfile, "-d", str(PROJECT_ROOT)]
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)
    # Ignore Ctrl-C here only after the child exists (an ignored signal would be inherited).
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
