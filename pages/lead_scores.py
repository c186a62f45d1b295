"""Leads & scores: find leads by state, score and name; see how intent is spread and why a lead scores what it does."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app.domain.scoring import Score
from app.services import scan, scoring
from app.services.scan import RecoverOutcome
from components import charts, tables
from components import format as fmt
from db.models import LEAD_STATES
from db.queries import LEAD_SORTS, LeadFilter, LeadsPage
from pages import data, session
from pages.recovery_actions import RecoverReport, RecoverRequest, outcome_sentence, run_pending_request, should_submit

PAGE_SIZE = 50
VIEWER_ROLE = "viewer"
SCATTER_PENDING = "leads.recover.pending"
SCATTER_LAST = "leads.recover.last"
SCATTER_ROUND = "leads.recover.round"
SORT_LABELS = {
    "score": "Best score",
    "value": "Biggest deal",
    "longest_silent": "Longest silent",
    "recent": "Most recent activity",
}


def filters() -> LeadFilter:
    cols = st.columns([3, 2, 2, 2])
    states = cols[0].multiselect(
        "State", LEAD_STATES, key="leads.states", format_func=lambda s: s.replace("_", " "), placeholder="All states"
    )
    search = cols[1].text_input("Search", key="leads.search", placeholder="Name, email or company")
    min_score = cols[2].slider("Minimum score", 0, 100, 0, step=5, key="leads.min_score")
    sort = cols[3].selectbox("Sort by", list(LEAD_SORTS), format_func=SORT_LABELS.__getitem__, key="leads.sort")
    return LeadFilter(states=tuple(states), min_score=int(min_score), search=search or "", sort=sort)


def page_number(total: int) -> int:
    """The page the rep asked for, kept within the pages there are (a narrower filter has fewer)."""
    pages = max(1, -(-total // PAGE_SIZE))
    if st.session_state.get("leads.page", 1) > pages:
        st.session_state["leads.page"] = 1
    if pages == 1:
        return 1
    _, right = st.columns([4, 1])
    return int(right.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key="leads.page"))


def table(result: LeadsPage) -> None:
    shown_to = result.offset + len(result.rows)
    more = "+" if result.total_capped else ""
    st.caption(f"Showing {result.offset + 1 if shown_to else 0}–{shown_to} of {fmt.count(result.total)}{more} leads")
    tables.data_table(
        result.rows,
        {
            "name": tables.text_column("Lead"),
            "company": tables.text_column("Company"),
            "email": tables.text_column("Email"),
            "state": tables.text_column("State"),
            "score": tables.score_column(),
            "value": tables.money_column("Deal value"),
            "days_silent": tables.number_column("Days silent", format="%.1f"),
            "rung": tables.number_column("Rung"),
            "owner": tables.text_column("Owner"),
            "source": tables.text_column("Source"),
        },
        empty=("No lead matches", "Clear the search or pick more states."),
        key="leads.table",
    )


@st.cache_data(ttl=dt.timedelta(seconds=30), show_spinner=False, max_entries=256)
def score_breakdown(tenant_id: int, lead_id: int) -> Score:
    return scoring.score_breakdown(tenant_id=tenant_id, lead_id=lead_id)


def breakdown(tenant_id: int, rows: pd.DataFrame) -> None:
    """The picked lead's score, part by part, with the reason for each."""
    if rows.empty:
        return
    names = dict(zip(rows["id"].astype(int), rows["name"], strict=True))
    lead_id = st.selectbox("Why this score?", list(names), format_func=names.__getitem__, key="leads.breakdown")
    if lead_id is None:
        return
    result = score_breakdown(tenant_id, int(lead_id))
    st.caption(f"Score now: {result.total} of 100 (recomputed from the lead's signals)")
    parts = pd.DataFrame([(p.name, p.points, p.why) for p in result.parts], columns=["part", "points", "why"])
    tables.data_table(
        parts,
        {
            "part": tables.text_column("Part"),
            "points": tables.number_column("Points"),
            "why": tables.text_column("Why"),
        },
        empty=("No breakdown", "Pick a lead."),
        key="leads.breakdown_table",
    )


# --- the map: every lead as a point, and "Recover N selected" -------------------------------
#
# The same guards as the dashboard's Recover now (see pages/recovery.py): the button's callback
# records a request carrying the ids selected when it was drawn and the map's round; the script
# runs it below, with the button drawn disabled meanwhile; a request equal to the last one done
# is the second click of a double click and is ignored; after a request the round goes up, which
# gives the chart a fresh key and so clears the selection.


def scatter_key(round_: int) -> str:
    """The map's widget key; a new round clears its selection."""
    return f"leads.scatter.{round_}"


def scatter_round() -> int:
    value = st.session_state.get(SCATTER_ROUND, 0)
    return value if isinstance(value, int) else 0


def may_act() -> bool:
    who = session.identity()
    return who is not None and who.role != VIEWER_ROLE


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
    frame, total = data.lead_scatter(tenant_id)
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
    run_scatter_pending(tenant_id)
    scatter_report(tenant_id)


def render() -> None:
    tenant = session.current_tenant()
    st.title("Leads & scores")
    lead_filter = filters()
    first = data.leads_page(tenant.id, lead_filter, PAGE_SIZE, 0)
    page = page_number(first.total)
    result = first if page == 1 else data.leads_page(tenant.id, lead_filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    left, right = st.columns([2, 1], gap="large")
    with left:
        table(result)
    with right:
        bands = data.score_distribution(tenant.id, lead_filter.states)
        if int(bands["leads"].sum()) > 0:
            charts.bar_chart(
                bands, x="band", y="leads", title="Intent score distribution", x_title="Score", y_title="Leads"
            )
        breakdown(tenant.id, result.rows)
    lead_map(tenant.id)


if __name__ == "__main__":
    render()
