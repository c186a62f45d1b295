"""A worker killed mid-batch: after a restart every accepted delivery is applied exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.integration.sendgrid.scene import PRICING, T0, Scene, deliveries, post, sql, work
from tests.sendgrid_signing import SigningKey

ROOT = Path(__file__).resolve().parents[3]
DEADLINE_SECONDS = 60


def wait_for(
    condition: Callable[[], Any], *, what: str, log: Path, child: subprocess.Popen[bytes] | None = None
) -> Any:
    """Poll a database condition until it holds, within a deadline: the child's progress is only
    visible there. A child that exits first fails the test at once, with its log."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        assert child is None or child.poll() is None, f"the worker exited early:\n{log.read_text()}"
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")


def lock_waiter(engine: Engine) -> sa.Row[Any] | None:
    """The backend (of another process) waiting for a row lock in this database, and its statement."""
    rows = sql(
        engine,
        """SELECT pid, query FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()""",
    )
    return rows[0] if rows else None


def test_a_worker_killed_mid_batch_leaves_every_delivery_applied_exactly_once_after_a_restart(
    db: Engine,
    redis_conn: redis.Redis,
    key: SigningKey,
    client: TestClient,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    s = Scene(db, 3)
    m, L = s.messages, s.leads
    first = [s.ev(0, "delivered", T0), s.ev(1, "click", T0 + 60, url=PRICING)]
    second = [s.ev(2, "unsubscribe", T0 + 30), s.ev(0, "open", T0 + 40)]
    assert post(client, key, first).status_code == 200
    assert post(client, key, second).status_code == 200  # both wait for the one applier job queued
    log = tmp_path / "worker.log"
    environment = os.environ | {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "LRE_PROCESS": "worker"}

    with db.connect() as blocker:
        # Hold message 0's row as an UPDATE would: the applier claims both deliveries, writes their
        # events (which only share the row's key), then waits here to move its status.
        held = blocker.begin()
        blocker.execute(sa.text("SELECT id FROM outbound_messages WHERE id = :id FOR NO KEY UPDATE"), {"id": m[0]})
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [str(Path(sys.executable).with_name("rq")), "worker", "--url", redis_url, "--path", str(ROOT),
                 "--config", "agents.rq_settings", "--name", "doomed-worker", "--burst", "high"],
                cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        waiting = wait_for(lambda: lock_waiter(db), what="the applier to block", log=log, child=worker)
        assert "UPDATE outbound_messages" in waiting.query, "blocked moving statuses, its events already written"
        claimed = sql(db, "SELECT id FROM webhook_deliveries WHERE result = 'received' FOR UPDATE SKIP LOCKED")
        assert claimed == [], "the doomed applier holds both deliveries"

        # SIGKILL the work horse running the job (RQ puts it in a process group of its own), then its worker.
        for horse in psutil.Process(worker.pid).children(recursive=True):
            horse.kill()
        worker.kill()
        worker.wait()
        held.rollback()
    # Its server backend notices the dead client once the lock is free, and rolls back.
    wait_for(
        lambda: not sql(db, "SELECT 1 FROM pg_stat_activity WHERE pid = :pid", pid=waiting.pid),
        what="the killed applier's backend to end",
        log=log,
    )
    assert [r.result for r in deliveries(db)] == ["received", "received"]
    assert sql(db, "SELECT count(*) AS n FROM message_events")[0].n == 0, "nothing of the killed batch stayed"

    # The restart: the next delivery queues an applier run (the killed one had dropped the flag).
    assert post(client, key, [s.ev(1, "open", T0 + 90)]).status_code == 200
    work(redis_conn)

    rows = deliveries(db)
    assert [(r.result, r.event_count, r.applied_count, r.duplicate_count) for r in rows] == [
        ("applied", 2, 2, 0),
        ("applied", 2, 2, 0),
        ("applied", 1, 1, 0),
    ]
    events = sql(db, "SELECT message_id, event_type FROM message_events ORDER BY occurred_at")
    assert [tuple(e) for e in events] == [
        (m[0], "delivered"),
        (m[2], "unsubscribe"),
        (m[0], "open"),
        (m[1], "click"),
        (m[1], "open"),
    ]
    activities = sql(db, "SELECT lead_id, kind FROM activities ORDER BY occurred_at")
    assert [tuple(a) for a in activities] == [(L[0], "open"), (L[1], "click"), (L[1], "open")]
    assert [r.status for r in sql(db, "SELECT status FROM outbound_messages ORDER BY id")] == [
        "delivered",
        "sent",
        "sent",
    ]
    assert [r.event for r in sql(db, "SELECT event FROM campaign_transitions")] == ["unsubscribed"]
