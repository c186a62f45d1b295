"""The writer agent: a thin RQ job over `app/services/write.py`.

Safe to run twice and on several workers at once: actions are claimed with `FOR UPDATE SKIP
LOCKED`, and the outbox dedupe key refuses a second message for the same lead, node and
channel, so a re-run (cron has no lock; RQ re-runs abandoned jobs) writes nothing twice.
"""

from __future__ import annotations

from typing import Any

from agents.job_log import one_line
from app.services import agent_runs, write


@one_line
def write_due(tenant_id: int) -> dict[str, Any]:
    """Turn the tenant's due sends into checked outbox rows, then wake the sender."""
    with agent_runs.tracked_run(agent="writer", tenant_id=tenant_id) as counts:
        counts.update(write.write_due(tenant_id=tenant_id))
    return counts
