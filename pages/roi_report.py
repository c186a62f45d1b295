"""ROI: revenue recovered against what it cost, day by day, from the daily rollups."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from app import runtime
from app.domain import lift
from components import charts, tables
from components import format as fmt
from components.metrics import Card, metric_cards
from db import attribution as attr
from db.queries import HoldoutComparison, RoiTotals
from pages import data, session

PERIODS = (7, 30, 90)
LIFT_DAYS = 90
TOUCHES: dict[attr.Touch, str] = {"first": "First touch", "last": "Last touch"}
GROUPINGS: dict[attr.AttributionKey, str] = {"campaign": "Campaign", "channel": "Channel", "method": "Method"}
DAILY_COLUMNS = {
    "day": st.column_config.DateColumn("Day"),
    "sent": tables.number_column("Sent"),
    "replied": tables.number_column("Replied"),
    "conversions": tables.number_column("Conversions"),
    "revenue": tables.money_column("Revenue"),
    "cost": tables.money_column("Cost"),
    "net": tables.money_column("Net"),
}
CHANNEL_COLUMNS = {
    "channel": tables.text_column("Channel"),
    "sent": tables.number_column("Sent"),
    "replied": tables.number_column("Replied"),
    "conversions": tables.number_column("Conversions"),
    "revenue": tables.money_column("Revenue"),
    "cost": tables.money_column("Cost"),
    "roi": tables.number_column("ROI", format="percent"),
}
ATTRIBUTION_FIGURES = {
    "conversions": tables.number_column("Conversions", help="Conversions credited to these messages."),
    "revenue": tables.money_column("Revenue", help="Value of those conversions."),
    "recovered": tables.number_column("Recovered leads", help="Distinct leads among those conversions."),
    "sent": tables.number_column("Messages sent", help="Messages of this group sent in the period."),
    "cost": tables.money_column("Cost", help="Provider cost of those messages."),
    "cost_per_recovered": tables.money_column(
        "Cost per recovered lead", help="Cost ÷ recovered leads; blank when nobody was recovered."
    ),
}


@st.cache_data(ttl=data.SLOW, show_spinner=False, max_entries=data.MANY)
def attribution(tenant_id: int, days: int, touch: attr.Touch, by: tuple[attr.AttributionKey, ...]) -> pd.DataFrame:
    """`db.attribution.attribution` behind the cache, like the reads of `pages/data.py`."""
    return attr.attribution(runtime.engine(), tenant_id, days=days, touch=touch, by=by)


def total_cards(totals: RoiTotals) -> list[Card]:
    return [
        Card("Revenue", fmt.money(totals.revenue), f"Conversion revenue rolled up over the last {totals.days} days."),
        Card("Cost", fmt.money(totals.cost, cents=True), "Provider and AI spend rolled up over the same days."),
        Card("ROI", fmt.percent(totals.roi), "(Revenue − cost) ÷ cost; a dash when nothing was spent."),
        Card("Conversions", fmt.count(totals.conversions), "Conversions rolled up over the same days."),
        Card("Messages sent", fmt.count(totals.sent), "Emails and SMS handed to a provider."),
    ]


def holdout_lifts(comparison: HoldoutComparison) -> tuple[lift.Lift, lift.Lift]:
    """Recovery-rate and revenue-per-lead lift of the treated leads over the hold-out."""
    treated, control = comparison.treated, comparison.control
    rate = lift.rate_lift(treated.leads, treated.recovered, control.leads, control.recovered)
    revenue = lift.mean_lift(
        lift.Sample(treated.leads, float(treated.revenue), float(treated.revenue_squares)),
        lift.Sample(control.leads, float(control.revenue), float(control.revenue_squares)),
    )
    return rate, revenue


def _interval(found: lift.Lift, show: Callable[[float], str]) -> str | None:
    if found.low is None or found.high is None:
        return None
    return f"{found.confidence * 100:g} % CI {show(found.low)} to {show(found.high)}"


def _points(x: float) -> str:
    return f"{x * 100:+.1f} pts".replace("-", "−")


def _dollars(x: float) -> str:
    return f"{'−' if x < 0 else '+'}{fmt.money(abs(x), cents=True)}"


def lift_cards(comparison: HoldoutComparison) -> list[Card]:
    rate, revenue = holdout_lifts(comparison)
    days = comparison.days
    return [
        Card(
            "Treated recovery rate",
            fmt.percent(rate.treated),
            f"Leads first enrolled in the last {days} days and contacted ({fmt.count(rate.treated_n)}) "
            "that converted after enrolment.",
        ),
        Card(
            "Hold-out recovery rate",
            fmt.percent(rate.control),
            f"Leads first enrolled in the last {days} days but held out, never contacted "
            f"({fmt.count(rate.control_n)}), that converted on their own.",
        ),
        Card(
            "Rate lift",
            fmt.MISSING if rate.difference is None else _points(rate.difference),
            "Treated rate minus hold-out rate, in percentage points, with Newcombe's interval "
            "(shown below the figure); a dash when a group is empty.",
            delta=_interval(rate, _points),
            plain_delta=True,
        ),
        Card(
            "Revenue per lead lift",
            fmt.MISSING if revenue.difference is None else _dollars(revenue.difference),
            "Conversion revenue per treated lead minus per hold-out lead (leads that did not convert "
            "count as $0), with Welch's interval (shown below the figure).",
            delta=_interval(revenue, _dollars),
            plain_delta=True,
        ),
    ]


def lift_section(comparison: HoldoutComparison) -> None:
    st.subheader("Lift against the hold-out")
    st.caption(
        f"Last {comparison.days} days: what contacting leads added over the hold-out, which was never "
        "contacted. The naive figures above count every recovery; these count only the difference."
    )
    metric_cards(lift_cards(comparison))
    shown: set[str] = set()
    for found in holdout_lifts(comparison):
        sentence = lift.verdict(found)
        if sentence not in shown:  # "too few to tell" reads the same for both figures
            shown.add(sentence)
            (st.success if found.significant else st.info)(sentence)


def attribution_columns(key: attr.AttributionKey) -> dict[str, tables.Column]:
    return {key: tables.text_column(GROUPINGS[key]), **ATTRIBUTION_FIGURES}


def cost_card(total: pd.DataFrame, days: int) -> Card:
    per_lead = total["cost_per_recovered"].iloc[0] if len(total) else None
    return Card(
        "Cost per recovered lead",
        fmt.money(per_lead, cents=True),
        f"Provider cost of every message sent in the last {days} days ÷ distinct leads whose "
        "non-organic conversion in that time followed one of them; a dash when nobody was recovered.",
    )


def attribution_section(tenant_id: int, days: int) -> None:
    st.subheader("Attribution")
    st.caption(
        f"Last {days} days: each non-organic conversion credits one message sent to that lead before it "
        "in the period, the first or the last. Method: AI (generated or cached) or Template (incl. the "
        "offline fallback)."
    )
    left, right = st.columns(2)
    touch = left.segmented_control(
        "Credit", tuple(TOUCHES), format_func=TOUCHES.__getitem__, default="last", key="roi.touch", required=True
    )
    by = right.selectbox("Group by", tuple(GROUPINGS), format_func=GROUPINGS.__getitem__, key="roi.attribution_by")
    touch = touch or "last"
    by = by or "campaign"
    metric_cards([cost_card(attribution(tenant_id, days, touch, ()), days)])
    tables.table_with_csv(
        attribution(tenant_id, days, touch, (by,)),
        attribution_columns(by),
        empty=("Nothing to attribute", "No message was sent and nothing converted in this period."),
        key="roi.attribution",
        file_name=f"attribution_{by}_{touch}_touch_{days}d.csv",
    )


def render() -> None:
    tenant = session.current_tenant()
    st.title("ROI")
    days = st.segmented_control(
        "Period", PERIODS, default=30, format_func=lambda d: f"{d} days", key="roi.days", required=True
    )
    days = int(days or 30)
    totals = data.roi_totals(tenant.id, days)
    metric_cards(total_cards(totals))
    lift_section(data.holdout_comparison(tenant.id, LIFT_DAYS))
    if totals.sent == 0 and totals.revenue == 0 and totals.cost == 0:
        tables.empty_state(
            "Nothing rolled up yet",
            "The metrics agent rolls sends, replies, conversions and costs into daily figures; "
            "they appear here once recovery messages have gone out.",
        )
    else:
        daily = data.roi_by_day(tenant.id, days)
        charts.line_chart(
            daily,
            x="day",
            series={"revenue": "Revenue", "cost": "Cost"},
            title="Revenue vs cost per day",
            y_title="USD",
        )
        with st.expander("Daily figures"):
            tables.table_with_csv(
                daily,
                DAILY_COLUMNS,
                empty=("No days", "The period has no day."),
                key="roi.daily",
                file_name=f"roi_daily_{days}d.csv",
            )
        st.subheader("By channel")
        tables.table_with_csv(
            data.roi_by_channel(tenant.id, days),
            CHANNEL_COLUMNS,
            empty=("No channel figures", "Nothing was sent in this period."),
            key="roi.channels",
            file_name=f"roi_by_channel_{days}d.csv",
        )
    attribution_section(tenant.id, days)


if __name__ == "__main__":
    render()
