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

import streamlit as st

from app.services import scan
from app.services.scan import RecoverOutcome
from pages import data, session

PENDING = "dashboard.recover.pending"
LAST = "dashboard.recover.last"
ROUND = "dashboard.recover.round"
OUTCOME_LABELS: Mapping[RecoverOutcome, str] = {
    RecoverOutcome.ENROLLED: "enrolled",
    RecoverOutcome.CONTROL: "held out as control",
    RecoverOutcome.ALREADY_IN_RECOVERY: "already in recovery",
    RecoverOutcome.SUPPRESSED: "suppressed or no consent",
    RecoverOutcome.LADDER_COMPLETE: "ladder complete",
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


def run_pending_request(tenant_id: int, *, pending_key: str, last_key: str, round_key: str) -> None:
    """Run the request a Recover button recorded under `pending_key` (its buttons are already
    drawn disabled), then start a new round with fresh data.

    The report is stored the moment the service returns, before anything else is drawn: a
    second click interrupts this run at its next element, and its callback must find the
    request done. The pending mark is cleared in `finally`, so a failure (which Streamlit
    shows) or an interrupted run never leaves the buttons disabled. Shared by every page that
    recovers leads, so the double-click rules live in one place.
    """
    request = st.session_state.get(pending_key)
    if not isinstance(request, RecoverRequest):
        return
    if request.tenant_id != tenant_id:  # cannot happen from the buttons; never run it elsewhere
        st.session_state[pending_key] = None
        return
    who = session.identity()
    try:
        with st.spinner(f"Recovering {len(request.lead_ids)} lead(s)…"):
            result = scan.recover_now(
                tenant_id=request.tenant_id,
                lead_ids=list(request.lead_ids),
                operator_id=who.operator_id if who is not None else None,
            )
            st.session_state[last_key] = RecoverReport(request, dict(result.outcomes))
            st.session_state[round_key] = request.round + 1
            data.forget_leads()
    finally:
        st.session_state[pending_key] = None
    st.rerun()
