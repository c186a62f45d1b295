"""Finding leads: filters by state, score and name, the page of leads they match, and why a lead
scores what it does (the breakdown the drawer shows too)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app.domain.scoring import Score
from app.services import scoring
from components import format as fmt
from components import tables
from db.models import LEAD_STATES
from db.queries import LEAD_SORTS, LeadFilter, LeadsPage
from pages import session
from pages.leads.shared import DAYS_HELP, RUNG_HELP, SCORE_HELP, VALUE_HELP, picked_row

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


def score_breakdown(tenant_id: int, lead_id: int) -> Score:
    return lead_score(tenant_id, lead_id, deal_value_p80(tenant_id), session.pinned_clock())


@st.cache_data(ttl=dt.timedelta(minutes=5), show_spinner=False)
def deal_value_p80(tenant_id: int) -> float:
    """The yardstick of every breakdown's `value` part: one pass over the tenant's leads, so read rarely."""
    return scoring.deal_value_p80(tenant_id=tenant_id)


@st.cache_data(ttl=dt.timedelta(seconds=30), show_spinner=False, max_entries=256)
def lead_score(tenant_id: int, lead_id: int, p80: float, now: dt.datetime | None = None) -> Score:
    return scoring.score_breakdown(tenant_id=tenant_id, lead_id=lead_id, p80=p80, now=now)


def breakdown(tenant_id: int, rows: pd.DataFrame) -> None:
    """The picked lead's score, part by part, with the reason for each."""
    if rows.empty:
        return
    names = dict(zip(rows["id"].astype(int), rows["name"], strict=True))
    lead_id = st.selectbox("Why this score?", list(names), format_func=names.__getitem__, key="leads.breakdown")
    if lead_id is None:
        return
    breakdown_table(score_breakdown(tenant_id, int(lead_id)), key="leads.breakdown_table")


def breakdown_table(result: Score, *, key: str) -> None:
    st.caption(
        f"Score now: {result.total} of 100 (recomputed from the lead's signals)",
        help="The stored score is refreshed by the scoring agent; this one is computed from the lead's signals now.",
    )
    parts = pd.DataFrame([(p.name, p.points, p.why) for p in result.parts], columns=["part", "points", "why"])
    tables.data_table(
        parts,
        {
            "part": tables.text_column("Part"),
            "points": tables.number_column("Points", help="Points this part adds to the 0-100 score."),
            "why": tables.text_column("Why"),
        },
        empty=("No breakdown", "Pick a lead."),
        key=key,
    )
