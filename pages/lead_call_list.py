"""Who to call first: the few leads worth a call before any other, best first, each with why;
a click on one opens it in the lead drawer.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.domain import priority
from components import tables
from pages import data
from pages.lead_breakdown import DAYS_HELP, SCORE_HELP, VALUE_HELP
from pages.lead_drawer import note_pick, picked_row

QUEUE_SIZE = 10


def with_reasons(queue: pd.DataFrame) -> pd.DataFrame:
    """The call list with a short "why" per row, from the same rule the priority comes from."""
    reasons = [
        priority.why(priority.Candidate(int(r.id), int(r.score), float(r.value), float(r.days_silent), str(r.state)))
        for r in queue.itertuples()
    ]
    return queue.assign(why=reasons, state=queue["state"].str.replace("_", " "))


def call_list(tenant_id: int) -> None:
    """The few leads worth a call before any other, best first; a click opens the drawer."""
    st.subheader("Who to call first", help=priority.FORMULA)
    queue = data.priority_queue(tenant_id, QUEUE_SIZE)
    if queue.empty:
        tables.empty_state(
            "Nobody to call yet",
            "Leads that are active, silent, in recovery or waiting with a reply appear here; "
            "this tenant has none right now.",
        )
        return
    st.caption("Click a row to open the lead's timeline, score and AI insight.")
    columns = {
        "name": tables.text_column("Lead"),
        "priority": tables.money_column("Priority", help=priority.FORMULA),
        "why": tables.text_column("Why", width="large"),
        "score": tables.score_column(help=SCORE_HELP),
        "value": tables.money_column("Deal value", help=VALUE_HELP),
        "days_silent": tables.number_column("Days silent", format="%.1f", help=DAYS_HELP),
        "state": tables.text_column("State"),
        "owner": tables.text_column("Owner"),
    }
    note_pick("queue", picked_row(with_reasons(queue), columns, key="leads.queue"))
