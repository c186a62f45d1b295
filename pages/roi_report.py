"""ROI: revenue recovered against what it cost, day by day, from the daily rollups."""

from __future__ import annotations

import streamlit as st

from components import charts, tables
from components import format as fmt
from components.metrics import Card, metric_cards
from db.queries import RoiTotals
from pages import data, session

PERIODS = (7, 30, 90)


def total_cards(totals: RoiTotals) -> list[Card]:
    return [
        Card("Revenue", fmt.money(totals.revenue), f"Conversion revenue rolled up over the last {totals.days} days."),
        Card("Cost", fmt.money(totals.cost, cents=True), "Provider and AI spend rolled up over the same days."),
        Card("ROI", fmt.percent(totals.roi), "(Revenue − cost) ÷ cost; a dash when nothing was spent."),
        Card("Conversions", fmt.count(totals.conversions), "Conversions rolled up over the same days."),
        Card("Messages sent", fmt.count(totals.sent), "Emails and SMS handed to a provider."),
    ]


def render() -> None:
    tenant = session.current_tenant()
    st.title("ROI")
    days = st.segmented_control(
        "Period", PERIODS, default=30, format_func=lambda d: f"{d} days", key="roi.days", required=True
    )
    days = int(days or 30)
    totals = data.roi_totals(tenant.id, days)
    metric_cards(total_cards(totals))
    if totals.sent == 0 and totals.revenue == 0 and totals.cost == 0:
        tables.empty_state(
            "Nothing rolled up yet",
            "The metrics agent rolls sends, replies, conversions and costs into daily figures; "
            "they appear here once recovery messages have gone out.",
        )
        return
    charts.line_chart(
        data.roi_by_day(tenant.id, days),
        x="day",
        series={"revenue": "Revenue", "cost": "Cost"},
        title="Revenue vs cost per day",
        y_title="USD",
    )
    st.subheader("By channel")
    tables.data_table(
        data.roi_by_channel(tenant.id, days),
        {
            "channel": tables.text_column("Channel"),
            "sent": tables.number_column("Sent"),
            "replied": tables.number_column("Replied"),
            "conversions": tables.number_column("Conversions"),
            "revenue": tables.money_column("Revenue"),
            "cost": tables.money_column("Cost"),
            "roi": tables.number_column("ROI", format="percent"),
        },
        empty=("No channel figures", "Nothing was sent in this period."),
        key="roi.channels",
    )


if __name__ == "__main__":
    render()
