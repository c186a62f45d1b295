"""The client summary: the figures, the sentences, one chart and the top campaigns, on one
printable page (and as a self-contained HTML download)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from components import charts, tables
from components import client_summary as doc
from components import format as fmt
from components.metrics import metric_cards
from db import roi
from db.holdout import HoldoutComparison
from db.queries import TenantRow
from pages.roi import readers
from pages.roi.attribution import ATTRIBUTION_FIGURES
from pages.roi.headline import cards, md
from pages.roi.lift import TRUST_SENTENCE, before_after_cards, lift_cards, naive_sentence, verdicts

TOP_CAMPAIGNS = 5
CAMPAIGN_COLUMNS = {
    "campaign": tables.text_column("Campaign"),
    "conversions": ATTRIBUTION_FIGURES["conversions"],
    "revenue": ATTRIBUTION_FIGURES["revenue"],
    "cost_per_recovered": ATTRIBUTION_FIGURES["cost_per_recovered"],
}


def top_campaigns(tenant_id: int, days: int) -> pd.DataFrame:
    found = readers.attribution(tenant_id, days, "last", ("campaign",))
    return found[found["conversions"] > 0].head(TOP_CAMPAIGNS)


def summary_document(
    tenant: TenantRow,
    figures: list[doc.Figure],
    statements: list[str],
    frame: pd.DataFrame,
    campaigns: pd.DataFrame,
    *,
    days: int,
    grain: roi.Grain,
) -> doc.ClientSummary:
    first, last = (frame["period"].iloc[0], frame["period"].iloc[-1]) if len(frame) else (None, None)
    span = f" ({first} to {last})" if first is not None else ""
    return doc.ClientSummary(
        tenant=tenant.name,
        period=f"Last {days} days{span}",
        prepared=dt.date.today().isoformat(),
        figures=figures,
        statements=statements,
        chart_title=f"Revenue vs cost per {grain}",
        points=[doc.Point(str(r.period), float(r.revenue), float(r.cost)) for r in frame.itertuples(index=False)],
        campaigns=[
            doc.CampaignLine(
                str(r.campaign),
                fmt.count(int(r.conversions)),
                fmt.money(r.revenue),
                fmt.money(None if pd.isna(r.cost_per_recovered) else r.cost_per_recovered, cents=True),
            )
            for r in campaigns.itertuples(index=False)
        ],
    )


def summary_figures(figures: list[doc.Figure], comparison: HoldoutComparison, ba: roi.BeforeAfter) -> list[doc.Figure]:
    lifts = {c.label: c for c in lift_cards(comparison)}
    naive = {c.label: c for c in before_after_cards(ba)}
    rate = lifts["Rate lift"]
    return [
        *figures,
        doc.Figure("Lift vs hold-out", rate.value, rate.help),
        doc.Figure("Naive before/after", naive["Naive change"].value, naive["Naive change"].help),
        doc.Figure(
            "Hold-out recovery rate", lifts["Hold-out recovery rate"].value, lifts["Hold-out recovery rate"].help
        ),
    ]


def summary_statements(comparison: HoldoutComparison, ba: roi.BeforeAfter) -> list[str]:
    return [*(sentence for sentence, _ in verdicts(comparison)), naive_sentence(ba), TRUST_SENTENCE]


def client_summary(
    tenant: TenantRow,
    figures: list[doc.Figure],
    statements: list[str],
    frame: pd.DataFrame,
    *,
    days: int,
    grain: roi.Grain,
) -> None:
    """The one-page view: the figures, the sentences, one chart, the top campaigns, and the HTML."""
    campaigns = top_campaigns(tenant.id, days)
    summary = summary_document(tenant, figures, statements, frame, campaigns, days=days, grain=grain)
    st.download_button(
        "Download summary (HTML)",
        doc.summary_html(summary),
        file_name=f"roi_summary_{tenant.name.lower().replace(' ', '_')}_{days}d.html",
        mime="text/html",
        key="roi.summary.html",
        icon=":material/print:",
        on_click="ignore",
        help="A self-contained page, laid out for A4 and Letter: open it and print, or save it as PDF.",
    )
    st.caption(f"{tenant.name} · {summary.period}")
    metric_cards(cards(figures[:3]))
    metric_cards(cards(figures[3:6]))
    metric_cards(cards(figures[6:]))
    for sentence in statements:
        st.markdown(md(sentence))
    charts.line_chart(
        frame, x="period", series={"revenue": "Revenue", "cost": "Cost"}, title=summary.chart_title, y_title="USD"
    )
    st.caption(
        "To hand this to a client, download the summary above and print it (one page, A4 or Letter) or "
        "save it as PDF; the chart's toolbar (on hover) downloads it alone as a PNG, drawn by your browser."
    )
    st.markdown("**Top campaigns** (last-touch attribution)")
    tables.data_table(
        campaigns,
        CAMPAIGN_COLUMNS,
        empty=("No campaign recovered anyone yet", "Conversions credited to a campaign's messages appear here."),
        key="roi.summary.campaigns",
    )
