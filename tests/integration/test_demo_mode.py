"""`python -m app run` seeds the demo only in demo mode: a configured DATABASE_URL is someone's
database, where demo admins with the password `demo` must never appear unless `--demo` asks.

Run as an operator runs it, in a subprocess, with a Procfile whose one process exits at once,
so the launcher migrates, seeds (or not), starts honcho and returns; the database says the rest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from app import launcher, runtime

ROOT = Path(__file__).resolve().parents[2]
LEADS = 60


def launch(tmp_path: Path, database_url: str, redis_url: str, *flags: str) -> str:
    procfile = tmp_path / "Procfile"
    procfile.write_text("noop: true\n")
    env = {key: value for key, value in os.environ.items() if key != "DEMO"}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, DATA_DIR=str(tmp_path / "data"))
    command = [sys.executable, "-m", "app", "run", "--procfile", str(procfile), "--demo-leads", str(LEADS), *flags]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_configured_database_is_never_seeded_without_demo(
    tmp_path: Path, clean_db: Engine, database_url: str, redis_url: str
) -> None:
    output = launch(tmp_path, database_url, redis_url)
    assert "database: not the demo, nothing seeded" in output
    assert count(clean_db, "tenants") == 0
    assert count(clean_db, "operators") == 0
    assert "/ demo" not in output, "no demo sign-in is offered"


def test_demo_seeds_an_empty_configured_database_once(
    tmp_path: Path, clean_db: Engine, database_url: str, redis_url: str
) -> None:
    output = launch(tmp_path, database_url, redis_url, "--demo")
    assert "database: empty, seeding the demo (3 tenants, 60 leads)" in output
    assert count(clean_db, "tenants") == 3
    assert count(clean_db, "leads") == LEADS
    again = launch(tmp_path, database_url, redis_url, "--demo")
    assert "database: has data, keeping it" in again
    assert count(clean_db, "leads") == LEADS


def test_the_console_and_api_listen_on_this_machine_only_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Procfile binds the console to WEB_HOST and the api to API_HOST; the launcher gives both
    127.0.0.1 unless the environment says otherwise."""
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    assert "--server.address ${WEB_HOST:-127.0.0.1}" in lines["web"]
    assert "--host ${API_HOST:-127.0.0.1}" in lines["api"]
    urls = runtime.ServiceUrls(database_url="postgresql://db/lre", redis_url="redis://cache/0")
    monkeypatch.delenv("WEB_HOST", raising=False)
    assert launcher.process_environment(urls)["WEB_HOST"] == "127.0.0.1"
    monkeypatch.setenv("WEB_HOST", "0.0.0.0")  # noqa: S104 - the operator's explicit choice
    assert launcher.process_environment(urls)["WEB_HOST"] == "0.0.0.0"  # noqa: S104
