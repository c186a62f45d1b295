"""The Agents page's reads: the latest runs, each agent's status, the heartbeat."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import text

from .queries import (
    Bind,
    _connection,
    _frame,
)

# --- agents --------------------------------------------------------------------------------

HEARTBEAT_AGENT = "heartbeat"

# A loose index scan over ix_agent_runs_agent_time (agent, started_at DESC): walk the distinct
# agent names, then take each agent's newest runs for this tenant (and, for `platform` readers,
# the tenant-less runs such as the heartbeat). The ledger grows by thousands of rows a day; this
# never reads them all.
_RUNS_PER_AGENT = """
    WITH RECURSIVE agents AS (
        SELECT min(agent) AS agent FROM agent_runs
        UNION ALL
        SELECT (SELECT min(r.agent) FROM agent_runs r WHERE r.agent > a.agent) FROM agents a WHERE a.agent IS NOT NULL
    )
    SELECT r.id, r.agent, r.status, r.tenant_id, r.job_id, r.counts, r.error, r.started_at, r.finished_at,
           extract(epoch FROM (r.finished_at - r.started_at))::float8 AS seconds, r.host
    FROM agents a
    CROSS JOIN LATERAL (
        SELECT * FROM agent_runs r
        WHERE r.agent = a.agent AND (r.tenant_id = :tenant_id OR (:platform AND r.tenant_id IS NULL))
        ORDER BY r.started_at DESC LIMIT :per_agent
    ) r
    WHERE a.agent IS NOT NULL
"""


def agent_runs_latest(bind: Bind, tenant_id: int, *, platform: bool, limit: int = 50) -> pd.DataFrame:
    """The newest `limit` agent runs of this tenant, newest first; with `platform` (an operator
    who runs the installation), the tenant-less runs too (the cron heartbeat, sweeps over every
    tenant), whose errors may name any tenant's rows.

    Columns: id, agent, status, tenant_id (None: not tenant-bound), job_id, counts (dict),
    error, started_at, finished_at, seconds (run time; NaN while running), host.
    """
    sql = text(_RUNS_PER_AGENT + " ORDER BY r.started_at DESC, r.id DESC LIMIT :limit")
    with _connection(bind) as conn:
        return _frame(
            conn.execute(sql, {"tenant_id": tenant_id, "platform": platform, "per_agent": limit, "limit": limit})
        )


def agent_status(bind: Bind, tenant_id: int, *, platform: bool) -> pd.DataFrame:
    """Each agent's most recent run for this tenant (and, with `platform`, tenant-less), by agent
    name; columns as `agent_runs_latest`."""
    sql = text(_RUNS_PER_AGENT + " ORDER BY r.agent")
    with _connection(bind) as conn:
        return _frame(conn.execute(sql, {"tenant_id": tenant_id, "platform": platform, "per_agent": 1}))


def last_heartbeat(bind: Bind) -> dt.datetime | None:
    """When the newest cron heartbeat run started (`agent = 'heartbeat'`, any tenant), or None.

    Proves cron enqueues and a worker runs jobs; one probe of ix_agent_runs_agent_time.
    """
    sql = text("SELECT max(started_at) FROM agent_runs WHERE agent = :agent")
    with _connection(bind) as conn:
        value: dt.datetime | None = conn.execute(sql, {"agent": HEARTBEAT_AGENT}).scalar()
    return value
