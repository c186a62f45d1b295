"""The demo's history shows only what the product does: runs of agents the cron schedule or
the queue map really run, and model spend only for the purposes our code calls a model for."""

from __future__ import annotations

from datetime import UTC, datetime

import redis
import sqlalchemy as sa
from rq.cron import CronScheduler
from sqlalchemy import Engine

from app import queue
from app.ai import cache
from app.services import demo
from db import lead_detail

ANCHOR = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def scheduled_functions(connection: redis.Redis) -> set[str]:
    """The dotted functions `rq cron agents/cron.py` registers, loaded the way the cron process loads them."""
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("agents/cron.py")
    return {job.func_name for job in scheduler.get_jobs()}


def known_agents(connection: redis.Redis) -> set[str]:
    """The product's agents: each `agents/<name>.py` whose function the schedule or the queue map runs."""
    functions = scheduled_functions(connection) | {target for target, _queue in queue.JOBS.values()}
    return {function.split(".")[1] for function in functions if function.startswith("agents.")}


def distinct(engine: Engine, sql: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(sql)).scalars())


def test_the_demo_history_names_only_agents_the_product_runs(clean_db: Engine, redis_conn: redis.Redis) -> None:
    demo.seed(tenants=2, leads=200, seed=3, anchor=ANCHOR)

    seeded = distinct(clean_db, "SELECT DISTINCT agent FROM agent_runs")
    known = known_agents(redis_conn)

    assert {"scanner", "writer", "sender", "scorer", "rollup", "heartbeat"} <= known
    assert "scanner" in seeded
    assert seeded <= known, f"the demo shows runs of agents the product does not have: {seeded - known}"
    # The heartbeat's age is the console's proof that cron and the workers run: the demo never fakes it.
    assert "heartbeat" not in seeded


def test_the_demo_spends_on_models_only_for_what_our_code_asks_them(clean_db: Engine) -> None:
    demo.seed(tenants=1, leads=200, seed=3, anchor=ANCHOR)

    purposes = distinct(clean_db, "SELECT DISTINCT purpose FROM ai_generations")

    assert purposes, "the demo writer drafts with the model"
    assert purposes <= {cache.PURPOSE, lead_detail.INSIGHT_PURPOSE}
