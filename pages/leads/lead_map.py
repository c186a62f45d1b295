"""The leads map: every lead as a point (days silent × intent score), "Recover N selected", and
"Add N to a campaign" (the selection becomes a campaign's audience on the Campaigns page).

The same guards as the dashboard's Recover now (see pages/recovery.py): the button's callback
records a request carrying the ids selected when it was drawn and the map's round; the script
runs it below, with the button drawn disabled meanwhile; a request equal to the last one done
is the second click of a double click and is ignored; after a request the round goes up, which
gives the chart a fresh key and so clears the selection.
"""

from __future__ import annotations

import streamlit as st

from app.services import scan
from app.services.scan import RecoverOutcome
from components import charts
from components import format as fmt
from db.models import LEAD_STATES
from pages import data, session
from pages.campaigns.state import HANDOFF, LeadHandoff
from pages.leads.picks import open_drawer
from pages.leads.shared import may_act
from pages.recovery_actions import RecoverReport, RecoverRequest, outcome_sentence, run_pending_request, should_submit

SCATTER_PENDING = "leads.recover.pending"
SCATTER_LAST = "leads.recover.last"
SCATTER_ROUND = "leads.recover.round"
CAMPAIGNS_PAGE = "pages/campaign_list.py"


def scatter_key(round_: int) -> str:
    """The map's widget key; a new round clears its selection."""
    return f"leads.scatter.{round_}"


def scatter_round() -> int:
    value = st.session_state.get(SCATTER_ROUND, 0)
    return value if isinstance(value, int) else 0


def ask_scatter_recovery(request: RecoverRequest) -> None:
    """The button's callback: record the request; the script runs it (see `run_scatter_pending`)."""
    if may_act() and should_submit(request, st.session_state.get(SCATTER_PENDING), st.session_state.get(SCATTER_LAST)):
        st.session_state[SCATTER_PENDING] = request


def run_scatter_pending(tenant_id: int) -> None:
    """Run the map's recorded request (see `recovery_actions.run_pending_request`)."""
    run_pending_request(tenant_id, pending_key=SCATTER_PENDING, last_key=SCATTER_LAST, round_key=SCATTER_ROUND)


def scatter_report(tenant_id: int) -> None:
    report = st.session_state.get(SCATTER_LAST)
    if not isinstance(report, RecoverReport) or report.request.tenant_id != tenant_id:
        return
    sentence = outcome_sentence(report.outcomes)
    if any(o is RecoverOutcome.ENROLLED for o in report.outcomes.values()):
        st.success(sentence, icon=":material/check_circle:")
    else:
        st.info(sentence, icon=":material/info:")


def lead_map(tenant_id: int) -> None:
    """Days silent × intent score for every lead (a fixed sample above the limit), selectable."""
    frame, total = data.lead_scatter(tenant_id, session.pinned_clock())
    if frame.empty:
        return
    round_ = scatter_round()
    st.subheader("Leads map")
    sampled = " (a fixed sample: select within it)" if len(frame) < total else ""
    st.caption(f"Showing {fmt.count(len(frame))} of {fmt.count(total)} leads on the map{sampled}.")
    selected = charts.lead_scatter(
        frame, states=LEAD_STATES, title="Days silent × intent score (size: deal value)", key=scatter_key(round_)
    )
    busy = st.session_state.get(SCATTER_PENDING) is not None
    allowed = may_act()
    too_many = len(selected) > scan.MAX_RECOVER_SELECTION
    if not allowed:
        why = "Viewers can look but not start recoveries."
    elif too_many:
        why = f"Select at most {fmt.count(scan.MAX_RECOVER_SELECTION)} leads per recovery."
    else:
        why = "Enroll the selected leads at their next rung now; leads already in recovery are left as they are."
    st.button(
        f"Recover {fmt.count(len(selected))} selected" if selected else "Recover selected",
        key="leads.recover_selected",
        type="primary",
        icon=":material/bolt:",
        disabled=busy or not selected or not allowed or too_many,
        help=why if selected else "Draw a box or a lasso on the map to select leads.",
        on_click=ask_scatter_recovery,
        args=(RecoverRequest(tenant_id, tuple(selected), round_),),
    )
    add_to_campaign(tenant_id, selected, allowed)
    if len(selected) == 1:
        st.button(
            "Open this lead",
            key="leads.open_selected",
            icon=":material/open_in_new:",
            on_click=open_drawer,
            args=(selected[0],),
            help="Show the selected lead in the drawer above.",
        )
    run_scatter_pending(tenant_id)
    scatter_report(tenant_id)


def add_to_campaign(tenant_id: int, selected: list[int], allowed: bool) -> None:
    """Hand the selection to the campaign wizard: the Campaigns page offers a new campaign with these
    leads, and a draft's audience step offers them as its audience."""
    pressed = st.button(
        f"Add {fmt.count(len(selected))} to a campaign" if selected else "Add to a campaign",
        key="leads.add_to_campaign",
        icon=":material/campaign:",
        disabled=not selected or not allowed,
        help="Viewers can look but not build campaigns."
        if not allowed
        else "Open the Campaigns page with these leads as a campaign's audience.",
    )
    if pressed and selected:
        st.session_state[HANDOFF] = LeadHandoff(tenant_id, tuple(selected))
        st.switch_page(CAMPAIGNS_PAGE)
