"""Leads & scores: find leads by state, score and name; see how intent is spread and why a lead scores
what it does; a call list of who to call first (`pages/lead_call_list.py`); the lead drawer
(`pages/lead_drawer.py`: timeline, score, AI insight); and the leads map (`pages/lead_map.py`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import charts, tables
from components import format as fmt
from db.models import LEAD_STATES
from db.queries import LEAD_SORTS, LeadFilter, LeadsPage
from pages import data, session
from pages.lead_breakdown import DAYS_HELP, RUNG_HELP, SCORE_HELP, VALUE_HELP, breakdown_table, score_breakdown
from pages.lead_call_list import call_list
from pages.lead_drawer import drawer, note_pick, picked_row
from pages.lead_map import lead_map

PAGE_SIZE = 50
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


def table(result: LeadsPage) -> int | None:
    """The page of leads; returns the id of the row the rep clicked, if any."""
    shown_to = result.offset + len(result.rows)
    more = "+" if result.total_capped else ""
    st.caption(f"Showing {result.offset + 1 if shown_to else 0}–{shown_to} of {fmt.count(result.total)}{more} leads")
    columns = {
        "name": tables.text_column("Lead"),
        "company": tables.text_column("Company"),
        "email": tables.text_column("Email"),
        "state": tables.text_column("State"),
        "score": tables.score_column(help=SCORE_HELP),
        "value": tables.money_column("Deal value", help=VALUE_HELP),
        "days_silent": tables.number_column("Days silent", format="%.1f", help=DAYS_HELP),
        "rung": tables.number_column("Rung", help=RUNG_HELP),
        "owner": tables.text_column("Owner"),
        "source": tables.text_column("Source"),
    }
    if result.rows.empty:
        tables.empty_state("No lead matches", "Clear the search or pick more states.")
        return None
    return picked_row(result.rows, columns, key="leads.table")


def breakdown(tenant_id: int, rows: pd.DataFrame) -> None:
    """The picked lead's score, part by part, with the reason for each."""
    if rows.empty:
        return
    names = dict(zip(rows["id"].astype(int), rows["name"], strict=True))
    lead_id = st.selectbox("Why this score?", list(names), format_func=names.__getitem__, key="leads.breakdown")
    if lead_id is None:
        return
    breakdown_table(score_breakdown(tenant_id, int(lead_id)), key="leads.breakdown_table")


def render() -> None:
    tenant = session.current_tenant()
    st.title("Leads & scores")
    lead_filter = filters()
    first = data.leads_page(tenant.id, lead_filter, PAGE_SIZE, 0)
    page = page_number(first.total)
    result = first if page == 1 else data.leads_page(tenant.id, lead_filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    left, right = st.columns([2, 1], gap="large")
    with left:
        note_pick("table", table(result))
    with right:
        bands = data.score_distribution(tenant.id, lead_filter.states)
        if int(bands["leads"].sum()) > 0:
            charts.bar_chart(
                bands, x="band", y="leads", title="Intent score distribution", x_title="Score", y_title="Leads"
            )
        breakdown(tenant.id, result.rows)
    call_list(tenant.id)
    drawer(tenant.id)
    lead_map(tenant.id)


if __name__ == "__main__":
    render()
