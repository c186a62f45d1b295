"""ROI: revenue recovered against what it cost at the tenant's unit prices, over time, the lift
against the hold-out beside the naive before/after, attribution, and a printable client summary.

Cost is priced here (messages sent × the tenant's unit price per channel + AI token cost + the
tenant's fixed monthly cost prorated to the days, see `db/roi.py`) rather than read from what
each send recorded: a sandbox send records $0, and the figure a manager shows a client must use
the rates the client actually pays and count the platform it pays for. The prices are edited
in a form on this page and saved through `app.services.pricing`.
"""

from __future__ import annotations

import streamlit as st

from components import tables
from components.metrics import metric_cards
from db import roi
from pages import data, session
from pages.roi import readers
from pages.roi.attribution import attribution_section
from pages.roi.headline import cards, headline_figures
from pages.roi.lift import lift_section
from pages.roi.prices import prices_section
from pages.roi.report import report
from pages.roi.summary import client_summary, summary_figures, summary_statements

PERIODS = (7, 30, 90)
LIFT_DAYS = 90
GRAINS: dict[roi.Grain, str] = {"day": "Daily", "week": "Weekly"}
VIEWS = {"report": "Report", "summary": "Client summary"}


def controls() -> tuple[int, roi.Grain, str]:
    """The period, the step and the view the manager picked."""
    left, middle, right = st.columns([2, 1, 1])
    days = left.segmented_control(
        "Period", PERIODS, default=30, format_func=lambda d: f"{d} days", key="roi.days", required=True
    )
    grain = middle.segmented_control(
        "Step", tuple(GRAINS), default="day", format_func=GRAINS.__getitem__, key="roi.grain", required=True
    )
    view = right.segmented_control(
        "View", tuple(VIEWS), default="report", format_func=VIEWS.__getitem__, key="roi.view", required=True
    )
    return int(days or 30), grain or "day", view or "report"


def render() -> None:
    tenant = session.current_tenant()
    st.title("ROI")
    days, grain, view = controls()
    prices, monthly = readers.unit_prices(tenant.id), readers.fixed_monthly(tenant.id)
    prices_section(tenant.id, prices, monthly)
    frame = readers.priced(tenant.id, days, grain, prices, monthly)
    totals = roi.totals(frame, days)
    figures = headline_figures(totals, readers.recovered_leads(tenant.id, days), prices, monthly)
    comparison = data.holdout_comparison(tenant.id, LIFT_DAYS, session.pinned_clock())
    ba = readers.before_after(tenant.id, days)
    if view == "summary":
        client_summary(
            tenant,
            summary_figures(figures, comparison, ba),
            summary_statements(comparison, ba),
            frame,
            days=days,
            grain=grain,
        )
        return
    metric_cards(cards(figures[:3]))
    metric_cards(cards(figures[3:]))
    lift_section(comparison, ba)
    if totals.sent == 0 and totals.revenue == 0 and totals.cost == 0:
        tables.empty_state(
            "Nothing rolled up yet",
            "The metrics agent rolls sends, replies, conversions and costs into daily figures; "
            "they appear here once recovery messages have gone out.",
        )
    else:
        report(tenant.id, days, grain, prices, frame)
    attribution_section(tenant.id, days)
