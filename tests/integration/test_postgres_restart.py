"""PostgreSQL restarted under load, on a throwaway server of the test's own (never the shared one).

Webhook ingest: SendGrid event batches and Twilio status callbacks, signed as the providers sign
them, are posted to a running uvicorn (`app.api:app`, the Procfile's api) one after another
while the database restarts (`pg_ctl restart -m fast`), three times. The api answers 2xx only once the body
is committed to `webhook_deliveries` (a 503 otherwise, and the provider retries), so: every
request answered 2xx is in the database afterwards, and the ones refused during the restart,
posted again as the providers would, are stored too.

The scan: `python -m app scan` (the CLI, tenant after tenant, one transaction each) is caught
mid-run, after the first tenant committed and while the second waits on its advisory lock (the
test holds it), and the database restarts under it. The run dies; the next run completes, and
every lead has exactly one enrollment.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
import requests
import sqlalchemy as sa
from sqlalchemy import Engine
from twilio.request_validator import RequestValidator

from db.engine import make_engine
from tests.integration import scan_world
from tests.integration.throwaway_postgres import ThrowawayPostgres, throwaway_postgres
from tests.sendgrid_signing import SigningKey, body_of, new_key
from tests.support import PRODUCTION_BASE_URL, PRODUCTION_ENV, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TWILIO_TOKEN = "Rr8tW3kLq9ZxV2mNp7YdC4hJs6FgB0uT"
"""A random-looking 32 characters: the production guard refuses a guessable Twilio token."""
UP_DEADLINE_S = 60.0
POLL_S = 0.05
BEFORE = 20
"""Requests answered 2xx before each restart, and again after the last."""
RESTARTS = 3
RETRIES = 20
"""How many times a refused request is posted again, as a provider retries (they retry for hours)."""


@pytest.fixture(scope="module")
def pg() -> Iterator[ThrowawayPostgres]:
    """Outside pytest's own temporary root: every pytest run sets that back to 0700, and the server
    runs as another user when the suite runs as root."""
    folder = Path(tempfile.mkdtemp(prefix="lre-pg-restart-"))
    try:
        with throwaway_postgres(folder) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def pg_engine(pg: ThrowawayPostgres) -> Iterator[Engine]:
    engine = make_engine(pg.url, null_pool=True)
    yield engine
    engine.dispose()


def product_env(pg: ThrowawayPostgres, redis_url: str, data_dir: Path, **more: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": pg.url, "REDIS_URL": redis_url, "DATA_DIR": str(data_dir), **more}


@contextlib.contextmanager
def api_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """`uvicorn app.api:app` as the Procfile starts it, as production (behind an https public URL);
    its URL once `/healthz` answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "app.api:app", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**env, **PRODUCTION_ENV}, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + UP_DEADLINE_S
        while status_of(Post(f"{url}/healthz", None, {})) != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"uvicorn not up:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(POLL_S)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass(frozen=True)
class Post:
    """One request: a POST with its body, or a GET without one."""

    url: str
    body: bytes | None
    headers: dict[str, str]


def status_of(request: Post) -> int:
    """The answer's status; 0 when none came."""
    try:
        if request.body is None:
            return requests.get(request.url, timeout=30).status_code
        return requests.post(request.url, data=request.body, headers=request.headers, timeout=30).status_code
    except requests.RequestException:
        return 0


def marker(n: int) -> str:
    return f"pgrestart{n:05d}x"


@dataclass
class Poster:
    """Posts signed webhooks one after another (even n: a SendGrid batch, odd: a Twilio callback),
    each carrying its marker, and remembers every answer."""

    url: str
    key: SigningKey
    answers: list[tuple[str, int]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    stopping: bool = False

    def request(self, n: int) -> Post:
        if n % 2 == 0:
            events = [{"email": "lead@example.com", "event": "open", "sg_event_id": marker(n), "timestamp": 1}]
            body = body_of(events)
            headers = self.key.headers(body, datetime.now(UTC))
            return Post(f"{self.url}/webhooks/sendgrid/events", body, headers)
        fields = {"AccountSid": "AC" + "0" * 32, "MessageSid": marker(n), "MessageStatus": "delivered"}
        path = f"/webhooks/twilio/status?m={n}"
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(PRODUCTION_BASE_URL + path, fields)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        return Post(self.url + path, urlencode(fields).encode(), headers)

    def run(self) -> None:
        n = 0
        while not self.stopping:
            status = status_of(self.request(n))
            with self.cond:
                self.answers.append((marker(n), status))
                self.cond.notify_all()
            n += 1

    def wait_for(self, count: int, *, after: int = 0) -> bool:
        """Block until `count` requests numbered from `after` on were answered 2xx."""
        with self.cond:
            return self.cond.wait_for(
                lambda: sum(1 for _, s in self.answers[after:] if 200 <= s < 300) >= count, timeout=UP_DEADLINE_S
            )


def stored(engine: Engine, markers: list[str]) -> dict[str, int]:
    """How many stored deliveries carry each marker (SQL, not the product's readers)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT m, count(d.id) FROM unnest(CAST(:markers AS text[])) AS m"
                " LEFT JOIN webhook_deliveries AS d ON strpos(d.body, m) > 0 AND d.signature_valid"
                " GROUP BY m"
            ),
            {"markers": markers},
        ).all()
    return {m: int(c) for m, c in rows}


def test_no_webhook_answered_2xx_is_lost_across_a_postgres_restart(
    pg: ThrowawayPostgres, pg_engine: Engine, redis_url: str, redis_conn: redis.Redis, tmp_path: Path
) -> None:
    key = new_key()
    env = product_env(
        pg, redis_url, tmp_path, SENDGRID_WEBHOOK_PUBLIC_KEY=key.public_b64, TWILIO_AUTH_TOKEN=TWILIO_TOKEN
    )
    with api_server(env, tmp_path / "api.log") as url:
        poster = Poster(url, key)
        thread = threading.Thread(target=poster.run, daemon=True)
        thread.start()
        try:
            restarted_at = 0
            for _ in range(RESTARTS):
                assert poster.wait_for(BEFORE, after=restarted_at)
                pg.restart()
                restarted_at = len(poster.answers)
            assert poster.wait_for(BEFORE, after=restarted_at)
        finally:
            poster.stopping = True
            thread.join(timeout=UP_DEADLINE_S)
        refused = [m for m, s in poster.answers if not 200 <= s < 300]
        retried = {m: retry_until_stored(poster, m) for m in refused}

    answered = [m for m, s in poster.answers if 200 <= s < 300]
    counts = stored(pg_engine, [m for m, _ in poster.answers])
    refusals = Counter(s for _, s in poster.answers if not 200 <= s < 300)
    print(f"{RESTARTS} restarts: {len(poster.answers)} posted, {len(answered)} 2xx, refused {dict(refusals)} (retried)")
    print(f"stored per refused request: {Counter(counts[m] for m in refused)}")
    assert [m for m in answered if counts[m] != 1] == []  # every 2xx stored, once
    assert all(200 <= status < 300 for status in retried.values())  # the provider's retry lands
    assert [m for m in refused if counts[m] < 1] == []


def retry_until_stored(poster: Poster, name: str) -> int:
    """Post a refused request again, as the provider would, until it is answered 2xx (or RETRIES)."""
    n = int(name.removeprefix("pgrestart").removesuffix("x"))
    status = 0
    for _ in range(RETRIES):
        status = status_of(poster.request(n))
        if 200 <= status < 300:
            break
    return status


def test_a_scan_cut_by_a_postgres_restart_completes_on_the_next_run_once_per_lead(
    pg: ThrowawayPostgres, pg_engine: Engine, redis_url: str, redis_conn: redis.Redis, tmp_path: Path
) -> None:
    silent_since = datetime.now(UTC) - timedelta(days=30)
    tenants = [scan_world.make_tenant(pg_engine, slug=f"restart{i}") for i in range(3)]
    leads = {t: scan_world.make_leads(pg_engine, t, 10, last_activity_at=silent_since) for t in tenants}
    env = product_env(pg, redis_url, tmp_path)
    holder = pg_engine.connect()
    holder.execute(
        sa.text("SELECT pg_advisory_lock(hashtext('lre.scan'), hashtext(CAST(:t AS text)))"), {"t": tenants[1]}
    )
    holder.commit()
    cut = subprocess.Popen(
        [sys.executable, "-m", "app", "scan"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert wait_until_blocked(pg_engine), "the scan never reached the second tenant"
        before = enrollments(pg_engine)
        pg.restart()
        cut_status = cut.wait(timeout=UP_DEADLINE_S)
    finally:
        with contextlib.suppress(Exception):
            holder.close()
        if cut.poll() is None:
            cut.kill()
    after_cut = enrollments(pg_engine)
    rerun = subprocess.run(
        [sys.executable, "-m", "app", "scan"], cwd=ROOT, env=env, capture_output=True, timeout=UP_DEADLINE_S
    )
    final = enrollments(pg_engine)

    assert cut_status != 0
    assert before == after_cut == {tenants[0]: 10}  # the first tenant committed; the cut one left nothing
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert final == dict.fromkeys(tenants, 10)
    assert per_lead(pg_engine, [lead for ids in leads.values() for lead in ids]) == {1}


def wait_until_blocked(engine: Engine) -> bool:
    """Poll, against a deadline, for a session waiting on an advisory lock (the scan's second tenant)."""
    deadline = time.monotonic() + UP_DEADLINE_S
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            waiting = conn.execute(
                sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one()
        if waiting:
            return True
        time.sleep(POLL_S)
    return False


def enrollments(engine: Engine) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT tenant_id, count(*) FROM enrollments GROUP BY tenant_id")).all()
    return {int(t): int(c) for t, c in rows}


def per_lead(engine: Engine, lead_ids: list[int]) -> set[int]:
    """The distinct numbers of enrollments the given leads have."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT count(e.id) FROM unnest(CAST(:ids AS bigint[])) AS l(id)"
                " LEFT JOIN enrollments AS e ON e.lead_id = l.id GROUP BY l.id"
            ),
            {"ids": lead_ids},
        ).all()
    return {int(c) for (c,) in rows}
