"""Leads & scores: find leads by state, score and name; see how intent is spread and why a lead scores
what it does; a call list of who to call first; a lead drawer (timeline, score, AI insight); a
map of every lead from which a selection can be recovered at once; and a CSV import of leads."""

from __future__ import annotations

import streamlit as st

from components import charts
from pages import data, session
from pages.leads.call_list import call_list
from pages.leads.csv_import import csv_import
from pages.leads.drawer import drawer
from pages.leads.finder import PAGE_SIZE, breakdown, filters, page_number, table
from pages.leads.lead_map import lead_map
from pages.leads.picks import note_pick


def render() -> None:
    tenant = session.current_tenant()
    st.title("Leads & scores")
    csv_import(tenant.id)
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
