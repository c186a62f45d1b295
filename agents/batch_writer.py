"""The batch writer agent: a thin RQ cron job over `app/services/batch_writes.py`.

Every minute it submits the drafts the writer deferred to a Message Batch, polls the open
batches, and writes the outbox rows whose drafts arrived or whose slot is near. Safe to run
twice and on several workers: rows are claimed `FOR UPDATE SKIP LOCKED` and the outbox dedupe
key refuses a second message.
"""

from __future__ import annotations

from typing import Any

from agents.job_log import one_line
from app.services import agent_runs, batch_writes


@one_line
def write_batches() -> dict[str, Any]:
    """Submit, poll and write the batch-drafted sends of every tenant."""
    with agent_runs.tracked_run(agent="batch_writer") as counts:
        counts.update(batch_writes.run())
    return counts
