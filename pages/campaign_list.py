"""Campaigns: what is running, who is enrolled, what it has produced."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import format as fmt
from components import tables
from components.metrics import Card, metric_cards
from pages import data, session

CAMPAIGN_COLUMNS = {
    "name": tables.text_column("Campaign"),
    "status": tables.text_column(
        "Status", help="draft, scheduled, running (sending now), paused (enrollments wait), completed or archived."
    ),
    "kind": tables.text_column(
        "Kind", help="recovery: the always-on silence ladder the scanner feeds · sequence: a campaign built by hand."
    ),
    "channel_label": tables.text_column("Channel", help="The channel of every step, or email + SMS for mixed plans."),
    "enrolled": tables.number_column("Enrolled", help="Every enrollment ever made in this campaign, control included."),
    "active": tables.number_column("Active", help="Enrollments active or waiting for their next step."),
    "control": tables.number_column(
        "Control", help="Enrollments held out at random and never contacted: the baseline for the lift on ROI."
    ),
    "sent": tables.number_column("Sent", help="Emails and SMS of this campaign handed to a provider (daily rollups)."),
    "replied": tables.number_column("Replied", help="Replies to this campaign's messages (daily rollups)."),
    "conversions": tables.number_column("Recovered", help="Conversions credited to this campaign (daily rollups)."),
    "revenue": tables.money_column("Revenue", help="Value of those conversions."),
    "cost": tables.money_column("Cost", help="Provider and AI spend of this campaign (daily rollups)."),
}


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


def campaign_table(frame: pd.DataFrame) -> None:
    """One row per campaign, running first; every figure's definition is in its column's tooltip."""
    shown = frame.assign(channel_label=[c if isinstance(c, str) else "email + SMS" for c in frame["channel"]])
    tables.table_with_csv(
        shown,
        CAMPAIGN_COLUMNS,
        empty=("No campaigns yet", "The scanner creates the recovery campaign on its first pass."),
        key="campaigns.table",
        file_name="campaigns.csv",
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
    campaign_table(frame)


if __name__ == "__main__":
    render()
