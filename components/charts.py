"""Plotly charts in the console's palette; they draw the frames they are given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

TEAL = "#0F766E"
TEAL_LIGHT = "#5EB8AE"
CORAL = "#E76F51"
SLATE = "#475569"
SERIES_COLORS = (TEAL, CORAL, SLATE, "#E9C46A", "#6D597A")


def _style(fig: go.Figure, *, title: str, y_title: str = "", height: int = 320) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 15}},
        height=height,
        margin={"l": 8, "r": 8, "t": 48, "b": 8},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        yaxis_title=y_title,
        hovermode="x unified",
    )
    return fig


def line_chart(frame: pd.DataFrame, *, x: str, series: Mapping[str, str], title: str, y_title: str = "") -> None:
    """One line per column of `series` ({column: legend label}) against `x`."""
    fig = go.Figure()
    for i, (column, label) in enumerate(series.items()):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        fig.add_trace(go.Scatter(x=frame[x], y=frame[column], name=label, mode="lines", line={"color": color}))
    st.plotly_chart(_style(fig, title=title, y_title=y_title), config={"displaylogo": False})


def bar_chart(frame: pd.DataFrame, *, x: str, y: str, title: str, x_title: str = "", y_title: str = "") -> None:
    """Vertical bars of `y` per `x` (a histogram already binned by the query)."""
    fig = go.Figure(go.Bar(x=frame[x], y=frame[y], marker_color=TEAL))
    _style(fig, title=title, y_title=y_title)
    fig.update_layout(xaxis_title=x_title, bargap=0.08, hovermode="closest")
    st.plotly_chart(fig, config={"displaylogo": False})


def funnel(stages: Sequence[tuple[str, int]], *, title: str) -> None:
    """A funnel of (stage, count) pairs, top to bottom."""
    fig = go.Figure(
        go.Funnel(
            y=[name for name, _ in stages],
            x=[value for _, value in stages],
            textinfo="value",
            marker={"color": [TEAL, TEAL_LIGHT, "#E9C46A", CORAL][: len(stages)]},
            connector={"fillcolor": "#E2E8F0"},
        )
    )
    _style(fig, title=title, height=300)
    fig.update_layout(hovermode="closest")
    st.plotly_chart(fig, config={"displaylogo": False})
