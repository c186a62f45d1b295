"""Attribution: which campaign, channel or method each non-organic conversion is credited to."""

from __future__ import annotations

import streamlit as st

from components import tables
from db import attribution as attr
from pages.roi import readers

TOUCHES: dict[attr.Touch, str] = {"first": "First touch", "last": "Last touch"}
GROUPINGS: dict[attr.AttributionKey, str] = {"campaign": "Campaign", "channel": "Channel", "method": "Method"}
ATTRIBUTION_FIGURES = {
    "conversions": tables.number_column("Conversions", help="Conversions credited to these messages."),
    "revenue": tables.money_column("Revenue", help="Value of those conversions."),
    "recovered": tables.number_column("Recovered leads", help="Distinct leads among those conversions."),
    "sent": tables.number_column("Messages sent", help="Messages of this group sent in the period."),
    "cost": tables.money_column("Cost", help="Provider cost those messages recorded when sent."),
    "cost_per_recovered": tables.money_column(
        "Cost per recovered lead", help="Cost ÷ recovered leads; blank when nobody was recovered."
    ),
}


def attribution_columns(key: attr.AttributionKey) -> dict[str, tables.Column]:
    return {key: tables.text_column(GROUPINGS[key]), **ATTRIBUTION_FIGURES}


def attribution_section(tenant_id: int, days: int) -> None:
    st.subheader("Attribution")
    st.caption(
        f"Last {days} days: each non-organic conversion credits one message sent to that lead before it "
        "in the period, the first or the last. Method: AI (generated or cached) or Template (incl. the "
        "offline fallback). Cost here is what each message recorded at send time."
    )
    left, right = st.columns(2)
    touch = left.segmented_control(
        "Credit", tuple(TOUCHES), format_func=TOUCHES.__getitem__, default="last", key="roi.touch", required=True
    )
    by = right.selectbox("Group by", tuple(GROUPINGS), format_func=GROUPINGS.__getitem__, key="roi.attribution_by")
    touch = touch or "last"
    by = by or "campaign"
    tables.table_with_csv(
        readers.attribution(tenant_id, days, touch, (by,)),
        attribution_columns(by),
        empty=("Nothing to attribute", "No message was sent and nothing converted in this period."),
        key="roi.attribution",
        file_name=f"attribution_{by}_{touch}_touch_{days}d.csv",
    )
