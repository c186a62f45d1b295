"""The listener agent: applies the webhook deliveries the api stored (`app/services/webhook_apply.py`).

Safe to run twice, or twice at once: each run claims waiting deliveries with SKIP LOCKED and
marks them applied in the same transaction, and every write it makes is deduplicated.
"""

from __future__ import annotations

from typing import Any

from agents.job_log import one_line
from app.services import agent_runs, webhook_apply


@one_line
def apply_webhooks() -> dict[str, Any]:
    """Apply every stored, trusted delivery that waits."""
    with agent_runs.tracked_run(agent="listener") as counts:
        counts.update(webhook_apply.apply_pending())
    return counts
