"""The heartbeat: a job that proves the whole pipe works (cron enqueues, a worker picks it up,
PostgreSQL takes the write) by leaving one `agent_runs` row per run for the console to show.
"""

from __future__ import annotations

from agents.job_log import one_line
from app.services import agent_runs


@one_line
def beat() -> dict[str, int]:
    """Record this job's heartbeat; safe to run twice (one row per RQ job id)."""
    return agent_runs.record_heartbeat(job_id=agent_runs.current_job_id())
