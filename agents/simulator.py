"""The demo's engagement simulator: the leads of sandbox messages answer through the api's webhooks.

Safe to run twice: a run posts only the steps due since the cursor, and the api deduplicates
a replayed step (event ids, MessageSid). Outside the demo (a real provider, or no demo keys)
it does nothing.
"""

from __future__ import annotations

from typing import Any

from agents.job_log import one_line
from app.services import agent_runs, simulator


@one_line
def simulate_engagement() -> dict[str, Any]:
    """Post what the demo's leads did since the last run, as signed SendGrid and Twilio webhooks."""
    with agent_runs.tracked_run(agent="simulator") as counts:
        counts.update(simulator.simulate())
    return counts
