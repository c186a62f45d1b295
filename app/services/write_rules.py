"""Which claimed send the writer writes, on which channel, and under which outbox key.

Pure decisions over one claimed row (its action's payload, the lead's reach, the enrollment's
and the lead's state), kept apart from the reads and the storing in `write.py`.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Row

from app.domain.outreach import Reach, pick_channel

MAX_CLAIMS = 3
STOPPED_ENROLLMENTS = frozenset({"stopped", "failed", "control"})
"""Enrollments whose queued sends are dropped. Not `completed`: a plan that ends right after a
send (a one-message campaign) completes in the step that asked for the message, which must go."""
FINISHED_LEADS = frozenset({"replied", "recovered", "lost", "control"})
RUNG_NODE = re.compile(r"rung-(\d+)$")


def channel(payload: dict[str, Any], rung: int, reach: Reach) -> str | None:
    """The plan's channel when it still reaches the lead, else the node's next one that does.

    A send the plan interpreter scheduled names its channel and the node's order; one from
    before the interpreter falls back to the ladder's rule for its rung.
    """
    channels = payload.get("channels")
    if not isinstance(channels, list):
        return pick_channel(rung, reach)
    usable = {"email": reach.email_ok, "sms": reach.sms_ok}
    ordered = [payload.get("channel"), *channels]
    return next((c for c in ordered if isinstance(c, str) and usable.get(c, False)), None)


def outbox_key(tenant_id: int, row: Row[Any], node: str, channel: str) -> str:
    """`<tenant>:<campaign>:<lead>:e<episode>:<node>:<channel>`: one message per node, channel and
    silence episode (a send from before episodes keeps its old key, without `e<n>`)."""
    episode = (row.payload or {}).get("episode")
    stem = f"{tenant_id}:{row.campaign_id or 'none'}:{row.lead_id}"
    return f"{stem}:e{episode}:{node}:{channel}" if episode is not None else f"{stem}:{node}:{channel}"


def rung(row: Row[Any]) -> int:
    planned = (row.payload or {}).get("rung")
    if isinstance(planned, int) and planned > 0:
        return planned
    if row.rung:
        return int(row.rung)
    match = RUNG_NODE.search(row.node or "")
    return int(match.group(1)) if match else 1


def why_not(row: Row[Any]) -> str | None:
    if (row.claims or 0) > MAX_CLAIMS:
        return f"claimed {row.claims} times without finishing"
    if row.enrollment_status in STOPPED_ENROLLMENTS:
        return f"enrollment is {row.enrollment_status}"
    if row.recovery_state in FINISHED_LEADS:
        return f"lead is {row.recovery_state}"
    return None
