"""Recovery dashboard: how many leads went quiet, how many we are winning back, and the money.

The hero figures refresh on their own (a fragment every 15 s) so the agents are seen
working; the silent-leads worklist and the funnel refresh with the page.
"""

from __future__ import annotations

import streamlit as st

from components import charts, tables
from components import format as fmt
from components.metrics import Card, metric_cards
from db.queries import RecoverySummary
from pages import data, session

SILENT_LIMIT = 25


def hero_cards(summary: RecoverySummary) -> list[Card]:
    threshold = fmt.hours(summary.silence_threshold_hours)
    return [
        Card(
            "Silent now",
            fmt.count(summary.silent_now),
            f"Leads with no activity for at least {threshold} (the first rung of the silence ladder) "
            "that no recovery is working on yet.",
        ),
        Card(
            "In recovery",
            fmt.count(summary.in_recovery),
            "Leads a recovery campaign is messaging now (control excluded).",
        ),
        Card("Replied", fmt.count(summary.replied), "Leads who answered a recovery message and wait for a rep."),
        Card(
            f"Recovered {summary.window_days}d",
            fmt.count(summary.recovered_30d),
            f"Distinct leads with a conversion in the last {summary.window_days} days, organic ones excluded.",
        ),
        Card(
            f"Revenue {summary.window_days}d",
            fmt.money(summary.revenue_30d),
            f"Value of the non-organic conversions of the last {summary.window_days} days.",
        ),
        Card(
            "Recovery rate",
            fmt.percent(summary.recovery_rate),
            "Leads now recovered ÷ every lead a recovery has worked "
            "(in recovery, replied, recovered or lost), all time.",
        ),
    ]


@st.fragment(run_every="15s")
def hero(tenant_id: int) -> None:
    metric_cards(hero_cards(data.recovery_summary(tenant_id)))


def silent_table(tenant_id: int) -> None:
    st.subheader("Silent leads worth winning back")
    st.caption(f"The {SILENT_LIMIT} silent leads with the best intent score, then the biggest deal.")
    tables.data_table(
        data.silent_leads(tenant_id, SILENT_LIMIT),
        {
            "name": tables.text_column("Lead"),
            "company": tables.text_column("Company"),
            "score": tables.score_column(help="Intent score, 0-100."),
            "value": tables.money_column("Deal value"),
            "days_silent": tables.number_column("Days silent", format="%.1f"),
            "rung": tables.number_column("Rung", help="Last silence-ladder rung contacted (0: never)."),
            "owner": tables.text_column("Owner"),
        },
        empty=(
            "No silent leads right now",
            "Every quiet lead is already in a recovery, or none has been quiet long enough. "
            "New leads arrive through the intake API or `python -m app import-leads`.",
        ),
        key="dashboard.silent",
    )


def pipeline(summary: RecoverySummary) -> None:
    if summary.total_leads == 0:
        return
    charts.funnel(
        [
            ("Silent now", summary.silent_now),
            ("In recovery", summary.in_recovery),
            ("Replied", summary.replied),
            ("Recovered", summary.states["recovered"]),
        ],
        title="Where leads stand now",
    )


def render() -> None:
    tenant = session.current_tenant()
    st.title("Recovery dashboard")
    summary = data.recovery_summary(tenant.id)
    if summary.total_leads == 0:
        tables.empty_state(
            "No leads yet",
            "Load leads with `python -m app import-leads FILE.csv --tenant SLUG`, push them to "
            "`POST /api/leads`, or seed the demo with `python -m app seed`.",
        )
        return
    hero(tenant.id)
    left, right = st.columns([3, 2], gap="large")
    with left:
        silent_table(tenant.id)
    with right:
        pipeline(summary)


if __name__ == "__main__":
    render()
