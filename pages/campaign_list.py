"""Campaigns: what is running, who is enrolled, what it has produced."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import badges, tables
from components import format as fmt
from components.metrics import Card, metric_cards
from pages import data, session


def status_cards(frame: pd.DataFrame) -> list[Card]:
    by_status = frame["status"].value_counts()
    return [
        Card("Running", fmt.count(int(by_status.get("running", 0))), "Campaigns sending now."),
        Card("Paused", fmt.count(int(by_status.get("paused", 0))), "Campaigns stopped for now; enrollments wait."),
        Card("Drafts", fmt.count(int(by_status.get("draft", 0))), "Campaigns not launched yet."),
        Card(
            "Leads enrolled (active)",
            fmt.count(int(frame["active"].sum())),
            "Enrollments active or waiting for their next step, over all campaigns.",
        ),
    ]


def campaign_list(frame: pd.DataFrame) -> None:
    for row in frame.itertuples(index=False):
        with st.container(border=True):
            top = st.columns([4, 2])
            top[0].text(str(row.name))
            with top[1]:
                badges.badge_row([(str(row.status), badges.CAMPAIGN_STATUS), (str(row.kind), {})])
            channel = row.channel if isinstance(row.channel, str) else "email + SMS"
            st.caption(
                f"{channel} · enrolled {fmt.count(int(row.enrolled))} · "
                f"active {fmt.count(int(row.active))} · control {fmt.count(int(row.control))} · "
                f"sent {fmt.count(int(row.sent))} · replied {fmt.count(int(row.replied))} · "
                f"recovered {fmt.count(int(row.conversions))} · revenue {fmt.money(float(row.revenue))}"
            )


def render() -> None:
    tenant = session.current_tenant()
    st.title("Campaigns")
    frame = data.campaigns(tenant.id)
    if frame.empty:
        tables.empty_state(
            "No campaigns yet",
            "The scanner creates the tenant's recovery campaign on its first pass over silent leads "
            "(every few minutes under `make run`, or now with `python -m app scan`).",
        )
        return
    metric_cards(status_cards(frame))
    campaign_list(frame)


if __name__ == "__main__":
    render()
