"""The console in real Chromium against a real `streamlit run` on the test servers.

One session: the test database is emptied and a small demo seeded into it, the console runs
as a subprocess (its own process group, the test servers in its environment) until the
session ends, and every test gets a fresh browser context signed in as the demo admin. A test
of what a new server shows first gets a console process of its own (`fresh_console`).
Readiness is polled against a deadline; the server and the browser are stopped in
`finally`, so a failing test leaves nothing running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import Engine

from app.services import demo, operators
from db.models import Tenant
from tests.support import CHROMIUM, CHROMIUM_FLAGS, free_port, truncate_all

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEMO_TENANTS = 2
DEMO_LEADS = 400
UP_DEADLINE_S = 60.0
STOP_DEADLINE_S = 10.0
POLL_S = 0.2
UI_TIMEOUT_MS = 20_000  # the first render of a page warms its queries


@dataclass(frozen=True)
class DemoTenant:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class Console:
    """The running console and the demo it serves."""

    url: str
    email: str
    password: str
    tenants: tuple[DemoTenant, ...]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310 - our own server
            return int(response.status) == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_DEADLINE_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def streamlit_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """`streamlit run streamlit_app.py` as a process of its own (its own group), healthy; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"]
    command += ["--browser.gatherUsageStats", "false"]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + UP_DEADLINE_S
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(f"streamlit exited ({process.returncode}):\n{log.read_text(errors='replace')[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy in {UP_DEADLINE_S} s:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(POLL_S)
        yield url
    finally:
        _stop(process)


def _api_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 - our own server
            return int(response.status) == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextlib.contextmanager
def api_server(env: dict[str, str], log: Path, *, public_url: str | None = None) -> Iterator[str]:
    """`uvicorn app.api:app` as the Procfile starts it, its own process group, healthy; its URL, which
    is also its `PUBLIC_BASE_URL` (what signed webhooks and links are built on) unless `public_url`
    names the https address a TLS proxy would serve it at."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "app.api:app", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, "PUBLIC_BASE_URL": public_url or url, "PYTHONUNBUFFERED": "1"},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + UP_DEADLINE_S
        while not _api_healthy(url):
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited ({process.returncode}):\n{log.read_text(errors='replace')[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn not healthy in {UP_DEADLINE_S} s:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(POLL_S)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def console_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="session")
def console(engine: Engine, console_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A seeded demo and `streamlit run streamlit_app.py` serving it; the base URL and the demo."""
    truncate_all(engine)
    demo.seed(tenants=DEMO_TENANTS, leads=DEMO_LEADS, seed=11, replace=True)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Tenant.id, Tenant.slug, Tenant.name).order_by(Tenant.id)).all()
    tenants = tuple(DemoTenant(r.id, r.slug, r.name) for r in rows)
    assert len(tenants) == DEMO_TENANTS
    with streamlit_server(console_env, tmp_path_factory.mktemp("e2e") / "streamlit.log") as url:
        yield Console(url, f"demo@{tenants[0].slug}.example", operators.DEMO_PASSWORD, tenants)


@pytest.fixture
def fresh_console(console: Console, console_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The URL of a console process of its own, on the same demo, that has served nobody yet.

    Streamlit's legacy pages-folder mode affects only the first script run of a process, so a
    test of what a fresh server shows first needs a process whose first run is the test's.
    """
    with streamlit_server(console_env, tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh browser context, signed in as the demo admin, on the dashboard."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        tab = context.new_page()
        sign_in(tab, console)
        yield tab
    finally:
        context.close()


def sign_in(tab: Page, console: Console) -> None:
    tab.goto(console.url)
    expect(tab.get_by_role("button", name="Sign in")).to_be_visible(timeout=UI_TIMEOUT_MS)
    tab.get_by_role("textbox", name="Email").fill(console.email)
    tab.get_by_role("textbox", name="Password").fill(console.password)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("heading", name="Recovery dashboard")).to_be_visible(timeout=UI_TIMEOUT_MS)
