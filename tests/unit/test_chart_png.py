"""Every chart leaves the console as a PNG through its modebar, named after its title."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from components import charts


@pytest.fixture
def configs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def plotly_chart(_fig: object, *, config: dict[str, Any], **_: object) -> None:
        seen.append(config)

    monkeypatch.setattr(charts.st, "plotly_chart", plotly_chart)
    return seen


def test_every_chart_downloads_a_png_named_after_its_title(configs: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame({"day": ["2026-11-22", "2026-11-23"], "revenue": [1.0, 2.0], "n": [3, 4]})
    charts.line_chart(frame, x="day", series={"revenue": "Revenue"}, title="Revenue vs cost per day")
    charts.bar_chart(frame, x="day", y="n", title="Scores (0-100)")
    charts.funnel([("Sent", 10), ("Opened", 4)], title="Funnel")
    charts.week_heatmap(pd.DataFrame({"weekday": [0], "hour": [9], "count": [2]}), title="Replies by hour")
    scatter = pd.DataFrame(
        {
            "id": [1],
            "name": ["A"],
            "days_silent": [2.0],
            "intent_score": [50],
            "deal_value": [100.0],
            "recovery_state": ["silent"],
        }
    )
    charts.lead_scatter(scatter, states=("silent",), title="Leads: days silent × score", key="k")
    names = [c["toImageButtonOptions"]["filename"] for c in configs]
    assert names == [
        "revenue_vs_cost_per_day",
        "scores_0_100",
        "funnel",
        "replies_by_hour",
        "leads_days_silent_score",
    ]
    assert all(c["toImageButtonOptions"]["format"] == "png" and c["displaylogo"] is False for c in configs)


def test_a_title_without_letters_still_names_a_file() -> None:
    assert charts.png_file_name("—") == "chart"
