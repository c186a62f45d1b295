"""Two cron processes started by mistake: each enqueues the whole schedule as it starts, and two
real workers run both passes at once. Still one enrollment, one outbox row and one provider
call per lead: the schedule's jobs are idempotent because PostgreSQL's locks and unique keys
say so, not because only one process runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration import outbox, scan_world
from tests.integration.rq_processes import enqueue_cron_start, start_worker, worker_env

LEADS = 120


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        return list(conn.execute(sa.text(statement), params).all())


@pytest.fixture
def fake() -> Iterator[FakeSendGrid]:
    with FakeSendGrid(delay=0.01) as server:
        yield server


@pytest.mark.slow
def test_two_cron_processes_still_enroll_write_and_send_once_per_lead(
    clean_db: Engine, redis_conn: redis.Redis, database_url: str, redis_url: str, fake: FakeSendGrid, tmp_path: Path
) -> None:
    # Every hour allowed and generous rate limits: what is due does not depend on the time of day.
    rules = {
        "send_window_start_hour": 0,
        "send_window_end_hour": 24,
        "quiet_start_hour": 0,
        "quiet_end_hour": 0,
        "sender_name": "Acme Sales",
        "sender_email": "sales@acme.example",
        "physical_address": outbox.PHYSICAL_ADDRESS,
    }
    tenants = [
        scan_world.make_tenant(clean_db, slug, settings={"rate_limits": outbox.generous_limits()}, **rules)
        for slug in ("acme", "globex")
    ]
    leads = [lead for t in tenants for lead in scan_world.make_leads(clean_db, t, LEADS // 2, silent_hours=10 * 24)]

    first, second = enqueue_cron_start(redis_conn), enqueue_cron_start(redis_conn)
    assert first == second
    assert {"scan_all", "fire_all", "write_all", "send_due"} <= set(first)
    env = worker_env(database_url, redis_url, fake)
    log = tmp_path / "workers.log"
    workers = [start_worker(env, f"crowded-{n}", log, forking=False) for n in range(2)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0], log.read_text()[-3000:]

    enrollments = sql(clean_db, "SELECT lead_id, count(*) AS n FROM enrollments GROUP BY lead_id")
    assert sorted(r.lead_id for r in enrollments) == sorted(leads)
    assert {r.n for r in enrollments} == {1}
    messages = sql(clean_db, "SELECT id, lead_id, status FROM outbound_messages ORDER BY lead_id")
    assert sorted(m.lead_id for m in messages) == sorted(leads)
    assert {m.status for m in messages} == {"sent"}
    assert {fake.calls[str(m.id)] for m in messages} == {1}
    assert sum(fake.calls.values()) == len(leads)
    scans = sql(clean_db, "SELECT count(*) AS n FROM agent_runs WHERE agent = 'scanner' AND tenant_id IS NOT NULL")
    assert scans[0].n == 2 * len(tenants)  # both passes did scan every tenant
