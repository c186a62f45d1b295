"""The report view: revenue and ROI over time, the figures per period, and the split by channel."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.domain.pricing import UnitPrices
from components import charts, tables
from db import roi
from pages.roi import readers

PERIOD_COLUMNS = {
    "period": st.column_config.DateColumn("Period", help="The day, or the Monday of the week (tenant's time zone)."),
    "email_sent": tables.number_column("Emails sent", help="Emails handed to the provider."),
    "sms_sent": tables.number_column("SMS sent", help="SMS handed to the provider."),
    "conversions": tables.number_column("Conversions", help="Conversions credited to a message."),
    "revenue": tables.money_column("Revenue", help="Value of those conversions."),
    "message_cost": tables.money_column("Message cost", help="Emails × email price + SMS × SMS price."),
    "ai_cost": tables.money_column("AI cost", help="Token cost of every AI generation made in the period."),
    "fixed_cost": tables.money_column(
        "Fixed cost", help="The fixed monthly cost (platform and seats) prorated: monthly × days ÷ (365.25 ÷ 12)."
    ),
    "cost": tables.money_column("Cost", help="Message cost + AI cost + fixed cost."),
    "net": tables.money_column("Net", help="Revenue − cost."),
    "roi": tables.number_column("ROI", format="percent", help="(Revenue − cost) ÷ cost; blank when nothing was spent."),
}
CHANNEL_COLUMNS = {
    "channel": tables.text_column("Channel"),
    "sent": tables.number_column("Sent", help="Messages of this channel handed to the provider."),
    "replied": tables.number_column("Replied", help="Replies to them."),
    "conversions": tables.number_column("Conversions", help="Conversions credited to this channel's messages."),
    "revenue": tables.money_column("Revenue", help="Value of those conversions."),
    "cost": tables.money_column(
        "Cost", help="Sent × this channel's unit price (neither AI cost nor the fixed cost is split by channel)."
    ),
    "roi": tables.number_column("ROI", format="percent", help="(Revenue − cost) ÷ cost."),
}


def over_time_charts(frame: pd.DataFrame, grain: roi.Grain) -> None:
    per = "week" if grain == "week" else "day"
    charts.line_chart(
        frame,
        x="period",
        series={"revenue": "Revenue", "cost": "Cost"},
        title=f"Revenue vs cost per {per}",
        y_title="USD",
    )
    shown = frame.assign(roi_pct=frame["roi"] * 100, cumulative_pct=frame["cumulative_roi"] * 100)
    charts.line_chart(
        shown,
        x="period",
        series={"roi_pct": f"ROI of the {per}", "cumulative_pct": "Cumulative ROI"},
        title=f"ROI per {per}",
        y_title="%",
    )
    st.caption(
        f"ROI of the {per} = (revenue − cost) ÷ cost of that {per}; cumulative ROI = the same from the "
        "period's first day up to that point. Each chart's toolbar (top right, on hover) downloads it as a "
        "PNG, drawn by your browser."
    )


def report(tenant_id: int, days: int, grain: roi.Grain, prices: UnitPrices, frame: pd.DataFrame) -> None:
    over_time_charts(frame, grain)
    with st.expander("Figures per period"):
        tables.table_with_csv(
            frame,
            PERIOD_COLUMNS,
            empty=("No periods", "The period has no day."),
            key="roi.daily",
            file_name=f"roi_{grain}_{days}d.csv",
        )
    st.subheader("By channel")
    tables.table_with_csv(
        readers.by_channel(tenant_id, days, *prices.to_settings().values()),
        CHANNEL_COLUMNS,
        empty=("No channel figures", "Nothing was sent in this period."),
        key="roi.channels",
        file_name=f"roi_by_channel_{days}d.csv",
    )
