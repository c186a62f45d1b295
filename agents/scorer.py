"""The scorer agent: thin RQ jobs over `app/services/scoring.py`.

Safe to run twice: a recompute writes only scores that changed, and the same signals give the
same score.
"""

from __future__ import annotations

from typing import Any

from agents.job_log import one_line
from app import queue, runtime
from app.services import agent_runs, scan, score_requests, scoring


@one_line
def recompute_scores(tenant_id: int, lead_ids: list[int] | None = None) -> dict[str, Any]:
    """Rescore these leads of one tenant (all of them when None)."""
    with agent_runs.tracked_run(agent="scorer", tenant_id=tenant_id) as counts:
        counts["changed"] = scoring.recompute_scores(tenant_id=tenant_id, lead_ids=lead_ids)
    return counts


@one_line
def rescore_pending(tenant_id: int) -> dict[str, Any]:
    """Rescore the leads whose activity asked for it since the last run (see `score_requests`)."""
    lead_ids = score_requests.take_pending(runtime.redis_client(), tenant_id=tenant_id)
    if not lead_ids:
        return {"leads": 0}
    with agent_runs.tracked_run(agent="scorer", tenant_id=tenant_id) as counts:
        counts["leads"] = len(lead_ids)
        counts["changed"] = scoring.recompute_scores(tenant_id=tenant_id, lead_ids=lead_ids)
    return counts


@one_line
def rescore_all() -> dict[str, Any]:
    """The cron sweep: one `recompute_scores` job per tenant, so recency decays even without new activity."""
    with agent_runs.tracked_run(agent="scorer") as counts:
        ids = scan.tenant_ids()
        connection = runtime.redis_client()
        for tenant_id in ids:
            queue.enqueue(connection, "recompute_scores", tenant_id=tenant_id)
        counts["tenants"] = len(ids)
    return counts
