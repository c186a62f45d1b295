"""The sender agent: thin RQ jobs over `app/services/send.py`.

Both are safe to run twice and on any number of workers at once: a row is claimed from
`pending` with `FOR UPDATE SKIP LOCKED` before any provider call, so a re-run (cron has no
lock; RQ re-runs abandoned jobs) finds nothing left to send twice.
"""

from __future__ import annotations

from typing import Any

from agents.job_log import one_line
from app.services import agent_runs, held, send


@one_line
def send_due(tenant_id: int | None = None, batch: int = 500) -> dict[str, Any]:
    """Send the outbox rows that are due, for one tenant or all."""
    with agent_runs.tracked_run(agent="sender", tenant_id=tenant_id) as counts:
        counts.update(send.send_due(tenant_id=tenant_id, batch=batch))
    return counts


@one_line
def reconcile_sending() -> dict[str, Any]:
    """Hold for review the rows a lost worker left `sending` (sandbox rows go back to pending),
    settle the held rows a provider event speaks for, and close the ledger rows of runs whose
    worker died."""
    with agent_runs.tracked_run(agent="sender-reconcile") as counts:
        counts.update(send.reconcile_stale())
        counts.update({f"settled_{status}": n for status, n in held.resolve_from_events().items()})
        counts["abandoned_runs"] = agent_runs.fail_abandoned()
    return counts
