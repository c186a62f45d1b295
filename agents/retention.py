"""The retention agent: one thin RQ job over `app/services/retention.py`.

Safe to run twice, or two at once: anonymised leads carry `erased_at` and are never picked
again, and a batch locks its leads (`SKIP LOCKED`), so two runs split the work.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents.job_log import one_line
from app.services import agent_runs, retention


@one_line
def anonymise_expired() -> dict[str, Any]:
    """Anonymise every tenant's leads closed for longer than the tenant keeps them."""
    with agent_runs.tracked_run(agent="retention") as counts:
        done = retention.anonymise_expired(now=datetime.now(UTC))
        counts["anonymised"] = sum(done.values())
        counts["tenants"] = len(done)
    return counts
