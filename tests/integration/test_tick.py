"""`python -m app tick`: one pass of every scheduled agent, queued as cron would and run by a real
RQ worker. It is how operators catch up after downtime, so it must reach every agent of the loop
for the tenant asked, and only that tenant. What the jobs decide at the real time of day (which
send is due now) is not asserted here; that they ran, and what they did regardless of the hour
(who was enrolled, what the plan scheduled), is.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis
import sqlalchemy as sa
from rq import Queue, SimpleWorker
from sqlalchemy import Engine

from app import cli, queue
from tests.integration.scan_world import make_leads, make_tenant


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        return list(conn.execute(sa.text(statement), params).all())


PASS = ["scan_tenant", "fire_due", "write_due", "send_due", "refresh_rollups"]


def test_tick_queues_one_pass_of_every_agent_for_the_tenant_and_the_workers_run_it(
    clean_db: Engine, redis_conn: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    acme, globex = make_tenant(clean_db, "acme"), make_tenant(clean_db, "globex")
    make_leads(clean_db, acme, 2, silent_hours=10 * 24)
    make_leads(clean_db, globex, 3, silent_hours=10 * 24)

    assert cli.main(["tick", "--tenant", "globex"]) == 0

    assert "queued 5 jobs for 1 tenant(s)" in capsys.readouterr().out
    queued = [
        (job.func_name, job.kwargs) for name in queue.QUEUES for job in Queue(name, connection=redis_conn).get_jobs()
    ]
    assert sorted(queued) == sorted((queue.JOBS[name][0], {"tenant_id": globex}) for name in PASS)

    SimpleWorker(list(queue.QUEUES), connection=redis_conn).work(burst=True)

    agents = {r.agent for r in sql(clean_db, "SELECT DISTINCT agent FROM agent_runs WHERE tenant_id = :t", t=globex)}
    assert {"scanner", "planner", "writer", "sender", "rollup"} <= agents
    enrolled = sql(clean_db, "SELECT tenant_id, count(*) AS n FROM enrollments GROUP BY tenant_id")
    assert [tuple(r) for r in enrolled] == [(globex, 3)]
    sends = sql(
        clean_db, "SELECT count(*) AS n FROM scheduled_actions WHERE kind = 'send' AND tenant_id = :t", t=globex
    )
    assert sends[0].n == 3
    assert cli.main(["tick", "--tenant", "nope"]) == 2
