"""The scanner agent: thin RQ jobs over `app/services/scan.py`.

Both are safe to run twice (RQ's cron takes no lock; an abandoned job is re-run): a scan
enrolls only leads that are eligible now, under a per-tenant advisory lock, and the unique
enrollment and dedupe keys refuse anything a second run would repeat.
"""

from __future__ import annotations

from typing import Any

from agents.job_log import one_line
from app.services import agent_runs, scan


@one_line
def scan_tenant(tenant_id: int) -> dict[str, Any]:
    """Scan one tenant for silent leads and, when it enrolled any, wake the writer."""
    with agent_runs.tracked_run(agent="scanner", tenant_id=tenant_id) as counts:
        result = scan.scan_tenant(tenant_id=tenant_id)
        counts.update(result.counts())
        if result.scheduled:
            scan.request_writes(tenant_id)
    return counts


@one_line
def scan_all() -> dict[str, Any]:
    """The cron entry: one `scan_tenant` job per tenant, so tenants scan in parallel."""
    with agent_runs.tracked_run(agent="scanner") as counts:
        counts["tenants"] = scan.scan_all()
    return counts
