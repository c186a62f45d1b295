"""Plotly charts in the console's palette; they draw the frames they are given.

Every chart keeps Plotly's modebar with its "Download plot as a png" button, named after the
chart's title: that is how a chart leaves the console as an image. The PNG is drawn by the
browser, so the server needs no image renderer (kaleido and a headless Chrome stay out).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

TEAL = "#0F766E"
TEAL_LIGHT = "#5EB8AE"
CORAL = "#E76F51"
SLATE = "#475569"
SERIES_COLORS = (TEAL, CORAL, SLATE, "#E9C46A", "#6D597A")
FUNNEL_COLORS = (TEAL, TEAL_LIGHT, "#2A9D8F", "#E9C46A", "#F4A261", CORAL)


def png_file_name(title: str) -> str:
    """`revenue_vs_cost_per_day` from "Revenue vs cost per day" (Plotly adds the `.png`)."""
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_") or "chart"


def plot_config(title: str) -> dict[str, Any]:
    """The Plotly config of every chart: no logo, and a PNG download at twice the screen size."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": png_file_name(title), "scale": 2},
    }


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
    st.plotly_chart(_style(fig, title=title, y_title=y_title), config=plot_config(title))


def bar_chart(frame: pd.DataFrame, *, x: str, y: str, title: str, x_title: str = "", y_title: str = "") -> None:
    """Vertical bars of `y` per `x` (a histogram already binned by the query)."""
    fig = go.Figure(go.Bar(x=frame[x], y=frame[y], marker_color=TEAL))
    _style(fig, title=title, y_title=y_title)
    fig.update_layout(xaxis_title=x_title, bargap=0.08, hovermode="closest")
    st.plotly_chart(fig, config=plot_config(title))


def funnel(stages: Sequence[tuple[str, int]], *, title: str) -> None:
    """A funnel of (stage, count) pairs, top to bottom."""
    fig = go.Figure(
        go.Funnel(
            y=[name for name, _ in stages],
            x=[value for _, value in stages],
            texttemplate="%{value:,}",
            marker={"color": [FUNNEL_COLORS[i % len(FUNNEL_COLORS)] for i in range(len(stages))]},
            connector={"fillcolor": "#E2E8F0"},
        )
    )
    _style(fig, title=title, height=300)
    fig.update_layout(hovermode="closest")
    st.plotly_chart(fig, config=plot_config(title))


STATE_COLORS = (TEAL, "#94A3B8", "#E9C46A", "#2A9D8F", "#264653", CORAL, "#6D597A")
SCATTER_SIZES = (4.0, 18.0)  # marker diameter in px, smallest and biggest deal


def marker_sizes(values: pd.Series) -> list[float]:
    """Diameters from deal values: area grows with value (square root), between `SCATTER_SIZES`."""
    low, high = SCATTER_SIZES
    clean = pd.to_numeric(values, errors="coerce").fillna(0.0).clip(lower=0.0).astype(float)
    top = float(clean.max()) if len(clean) else 0.0
    if top <= 0:
        return [low] * len(clean)
    return [low + (high - low) * (v / top) ** 0.5 for v in clean]


def lead_scatter_figure(frame: pd.DataFrame, *, states: Sequence[str], title: str) -> go.Figure:
    """Days silent × intent score, one WebGL trace per state (its colour and legend entry), marker
    area by deal value. Each point's customdata is (lead id, deal value), for hover and selection.

    `frame` has columns id, name, days_silent, intent_score, deal_value, recovery_state; `states`
    fixes the order (and so the colour) of the states; any other state comes after them.
    """
    fig = go.Figure()
    sizes = np.asarray(marker_sizes(frame["deal_value"]), dtype=float)
    present = list(dict.fromkeys(frame["recovery_state"]))
    ordered = [s for s in states if s in present] + [s for s in present if s not in states]
    for state in ordered:
        mask = (frame["recovery_state"] == state).to_numpy(dtype=bool)
        part = frame[mask]
        color = STATE_COLORS[(list(states).index(state) if state in states else len(states)) % len(STATE_COLORS)]
        # NumPy arrays, not lists of tuples: plotly validates a list element by element and
        # Streamlit deep-copies the figure (seconds for 100,000 points); arrays go through
        # whole and reach the browser as typed arrays, like x and y.
        custom = np.column_stack([part["id"].to_numpy(dtype=float), part["deal_value"].to_numpy(dtype=float)])
        fig.add_trace(
            go.Scattergl(
                x=part["days_silent"].to_numpy(dtype=float),
                y=part["intent_score"].to_numpy(),
                mode="markers",
                name=state.replace("_", " "),
                text=part["name"].to_numpy(dtype=object),
                customdata=custom,
                marker={"size": sizes[mask], "color": color, "opacity": 0.7, "line": {"width": 0}},
                hovertemplate=(
                    "<b>%{text}</b><br>Score %{y}<br>Deal value $%{customdata[1]:,.0f}<br>"
                    "Silent %{x:.1f} days<extra>%{fullData.name}</extra>"
                ),
            )
        )
    _style(fig, title=title, y_title="Intent score", height=460)
    fig.update_layout(xaxis_title="Days silent", hovermode="closest", dragmode="lasso")
    return fig


def selected_ids(event: object) -> list[int]:
    """The ids (first customdata item) of the points a plotly selection event names, in order, once each."""
    selection = _get(event, "selection")
    points = _get(selection, "points")
    if not isinstance(points, Sequence):
        return []
    ids: list[int] = []
    for point in points:
        custom = _get(point, "customdata")
        if isinstance(custom, Sequence) and not isinstance(custom, str) and len(custom) > 0:
            custom = custom[0]
        if isinstance(custom, int | float) and not isinstance(custom, bool):
            ids.append(int(custom))
    return list(dict.fromkeys(ids))


def _get(obj: object, name: str) -> object:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def lead_scatter(frame: pd.DataFrame, *, states: Sequence[str], title: str, key: str) -> list[int]:
    """The scatter, selectable by box or lasso; returns the ids of the selected leads."""
    event = st.plotly_chart(
        lead_scatter_figure(frame, states=states, title=title),
        config=plot_config(title),
        on_select="rerun",
        selection_mode=("box", "lasso"),
        key=key,
    )
    return selected_ids(event)


WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def week_grid(frame: pd.DataFrame, *, value: str = "count") -> list[list[int]]:
    """A 7 × 24 grid (weekday 0 = Monday × hour) of `value` from rows of weekday, hour, `value`; 0 where absent."""
    grid = [[0] * 24 for _ in WEEKDAY_NAMES]
    for weekday, hour, count in frame[["weekday", "hour", value]].itertuples(index=False):
        grid[int(weekday)][int(hour)] += int(count)
    return grid


def week_heatmap_figure(frame: pd.DataFrame, *, title: str, value: str = "count") -> go.Figure:
    """Weekday (rows, Monday on top) × hour of day (columns), shaded by `value`."""
    fig = go.Figure(
        go.Heatmap(
            z=week_grid(frame, value=value),
            x=[f"{h:02d}" for h in range(24)],
            y=list(WEEKDAY_NAMES),
            colorscale=[[0.0, "#F1F5F9"], [0.5, TEAL_LIGHT], [1.0, TEAL]],
            hovertemplate="%{y} %{x}:00 · %{z}<extra></extra>",
            xgap=1,
            ygap=1,
        )
    )
    _style(fig, title=title, height=300)
    fig.update_layout(xaxis_title="Local hour", hovermode="closest", yaxis={"autorange": "reversed"})
    return fig


def week_heatmap(frame: pd.DataFrame, *, title: str, value: str = "count") -> None:
    st.plotly_chart(week_heatmap_figure(frame, title=title, value=value), config=plot_config(title))
