"""The dashboard's "Recover now" requests, as kept in the session between script runs.

Why a module of its own: Streamlit executes `pages/recovery.py` afresh on every run, so a
class defined there is a new class each run, and a request stored by one run's button callback
would not be an instance of the next run's class. Defined here, imported once, the stored
requests and reports keep their type (and their equality) across runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from app.services.scan import RecoverOutcome

PENDING = "dashboard.recover.pending"
LAST = "dashboard.recover.last"
ROUND = "dashboard.recover.round"
OUTCOME_LABELS: Mapping[RecoverOutcome, str] = {
    RecoverOutcome.ENROLLED: "enrolled",
    RecoverOutcome.CONTROL: "held out as control",
    RecoverOutcome.ALREADY_IN_RECOVERY: "already in recovery",
    RecoverOutcome.SUPPRESSED: "suppressed or no consent",
    RecoverOutcome.LADDER_COMPLETE: "ladder complete",
    RecoverOutcome.RUNG_ALREADY_SENT: "rung already sent",
    RecoverOutcome.RECOVERED: "already recovered",
    RecoverOutcome.NOT_FOUND: "not found",
}


@dataclass(frozen=True)
class RecoverRequest:
    """One press of a Recover button: these leads, as the table of this round showed them."""

    tenant_id: int
    lead_ids: tuple[int, ...]
    round: int


@dataclass(frozen=True)
class RecoverReport:
    """What the service said about each lead of a request."""

    request: RecoverRequest
    outcomes: Mapping[int, RecoverOutcome]


def should_submit(request: RecoverRequest, pending: object, last: object) -> bool:
    """Whether a press starts work: not when nothing is asked, when a request is under way,
    or when it repeats the one just done (a double click carries the same ids and round)."""
    if not request.lead_ids or pending is not None:
        return False
    return not (isinstance(last, RecoverReport) and last.request == request)


def outcome_sentence(outcomes: Mapping[int, RecoverOutcome]) -> str:
    """`Recover now: 2 enrolled · 1 already in recovery.` (our labels only, never a lead's name)."""
    counts = Counter(outcomes.values())
    parts = [f"{counts[o]} {label}" for o, label in OUTCOME_LABELS.items() if counts[o]]
    return "Recover now: " + " · ".join(parts) + "." if parts else "Recover now: nothing to do."
