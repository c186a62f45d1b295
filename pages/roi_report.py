"""ROI: revenue recovered against what it cost, day by day, from the daily rollups."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.domain import lift
from components import charts, tables
from components import format as fmt
from components.metrics import Card, metric_cards
from db.queries import HoldoutComparison, RoiTotals
from pages import data, session

PERIODS = (7, 30, 90)
LIFT_DAYS = 90


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
