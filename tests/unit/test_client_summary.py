"""The printable client summary: every figure and sentence in it, escaped, self-contained, printable."""

from __future__ import annotations

import re

from components import client_summary as doc


def _summary(**changes: object) -> doc.ClientSummary:
    base: dict[str, object] = {
        "tenant": "Acme <Dental> & Co",
        "period": "Last 30 days (2026-10-25 to 2026-11-23)",
        "prepared": "2026-11-23",
        "figures": [
            doc.Figure("Revenue recovered", "$12,400", "Value of credited conversions."),
            doc.Figure("Cost", "$41.20", "Messages × unit price + AI cost."),
            doc.Figure("ROI", "29,998%", "(Revenue − cost) ÷ cost."),
        ],
        "statements": ["Recovery lifted the rate by 4.1 points.", "Trust the hold-out lift."],
        "chart_title": "Revenue vs cost per day",
        "points": [
            doc.Point("2026-11-21", 900.0, 3.0),
            doc.Point("2026-11-22", 0.0, 2.5),
            doc.Point("2026-11-23", 1800.0, 4.0),
        ],
        "campaigns": [doc.CampaignLine("<script>alert(1)</script> win-back", "7", "$9,100", "$2.10")],
    }
    base.update(changes)
    return doc.ClientSummary(**base)  # type: ignore[arg-type]


def test_the_document_carries_every_figure_sentence_and_campaign() -> None:
    html = doc.summary_html(_summary())
    for text in ("$12,400", "$41.20", "29,998%", "Revenue recovered", "Messages × unit price + AI cost."):
        assert text in html
    assert "Recovery lifted the rate by 4.1 points." in html
    assert "Trust the hold-out lift." in html
    assert "Last 30 days (2026-10-25 to 2026-11-23)" in html
    assert "$9,100" in html
    assert "$2.10" in html
    assert html.count("<polyline") == 2  # revenue and cost
    assert "$1,800" in html  # the axis top is the largest amount


def test_names_typed_by_people_are_escaped() -> None:
    html = doc.summary_html(_summary())
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; win-back" in html
    assert "Acme &lt;Dental&gt; &amp; Co" in html


def test_it_is_self_contained_and_printable() -> None:
    html = doc.summary_html(_summary())
    assert html.startswith("<!DOCTYPE html>")
    assert "@media print" in html
    assert "@page" in html
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"\b(src|href)\s*=", html)
    assert "url(" not in html
    assert "@import" not in html
    assert "max-width: 180mm" in html  # fits A4 (210 mm) and Letter (216 mm) with margins


def test_empty_parts_say_so() -> None:
    html = doc.summary_html(_summary(points=[], campaigns=[]))
    assert "No period to chart." in html
    assert "No conversion was credited to a campaign in this period." in html
    assert "<polyline" not in html


def test_a_chart_of_zeros_stays_on_the_axis() -> None:
    svg = doc.svg_chart("t", [doc.Point("a", 0.0, 0.0), doc.Point("b", 0.0, 0.0)])
    baseline = doc.CHART_HEIGHT - doc.CHART_PAD
    ys = {float(y) for y in re.findall(r",([\d.]+)", svg)}
    assert ys == {float(baseline)}
