"""The one-page client summary as a self-contained, printable HTML document.

A pure function of figures already formatted by the page: no Streamlit, no database, no
external assets (fonts, scripts, images). The chart is inline SVG, so the file opens offline,
mails as one attachment and prints the same everywhere. One page fits A4 and Letter alike: the
content is at most 180 mm wide (A4 is 210 mm, Letter 216 mm, minus the margins). Every text is
escaped, since campaign and tenant names are typed by people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 200, 36
REVENUE_COLOR, COST_COLOR = "#0F766E", "#E76F51"  # the console's palette (components/charts.py)


@dataclass(frozen=True)
class Figure:
    """A headline figure, already formatted, with the definition it follows."""

    label: str
    value: str
    definition: str


@dataclass(frozen=True)
class CampaignLine:
    name: str
    conversions: str
    revenue: str
    cost_per_recovered: str


@dataclass(frozen=True)
class Point:
    """One period of the chart: its label and the two amounts in dollars."""

    label: str
    revenue: float
    cost: float


@dataclass(frozen=True)
class ClientSummary:
    tenant: str
    period: str
    prepared: str
    figures: Sequence[Figure]
    statements: Sequence[str]
    chart_title: str
    points: Sequence[Point]
    campaigns: Sequence[CampaignLine]


STYLE = """
@page { size: auto; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #0f172a;
       margin: 0 auto; padding: 12mm 0; max-width: 180mm; font-size: 11pt; line-height: 1.35; }
h1 { font-size: 18pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; color: #0F766E; }
.meta { color: #475569; font-size: 9.5pt; margin: 0 0 4mm; }
.figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; }
.figure { border: 1px solid #cbd5e1; border-radius: 2mm; padding: 2.5mm 3mm; }
.figure .label { font-size: 8.5pt; color: #475569; text-transform: uppercase; letter-spacing: .03em; }
.figure .value { font-size: 16pt; font-weight: 600; margin: 1mm 0; }
.figure .definition { font-size: 7.5pt; color: #64748b; }
.statements p { margin: 1.5mm 0; }
svg { width: 100%; height: auto; }
table { width: 100%; border-collapse: collapse; font-size: 9.5pt; }
th, td { text-align: left; padding: 1.2mm 2mm; border-bottom: 1px solid #e2e8f0; }
th.num, td.num { text-align: right; }
.empty { color: #64748b; font-style: italic; }
footer { margin-top: 5mm; font-size: 8pt; color: #64748b; }
@media print {
  body { padding: 0; font-size: 9.5pt; line-height: 1.25; }
  h1 { font-size: 15pt; margin-bottom: 1mm; }
  .meta { margin-bottom: 3mm; }
  h2 { margin: 4mm 0 1.5mm; }
  .figures { gap: 2mm; }
  .figure { padding: 1.5mm 2.5mm; }
  .figure .value { font-size: 13pt; margin: 0.5mm 0; }
  .statements p { margin: 1mm 0; }
  .figure .definition { font-size: 7pt; line-height: 1.2; }
  svg { max-height: 44mm; }
  footer { margin-top: 3mm; }
  th, td { padding: 0.8mm 2mm; }
  .figure, table, svg, .statements { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def _figure(f: Figure) -> str:
    return (
        '<div class="figure">'
        f'<div class="label">{escape(f.label)}</div>'
        f'<div class="value">{escape(f.value)}</div>'
        f'<div class="definition">{escape(f.definition)}</div>'
        "</div>"
    )


def _scale(value: float, top: float) -> float:
    inner = CHART_HEIGHT - 2 * CHART_PAD
    return CHART_HEIGHT - CHART_PAD - (value / top * inner if top > 0 else 0.0)


def _polyline(values: Sequence[float], top: float, color: str) -> str:
    step = (CHART_WIDTH - 2 * CHART_PAD) / max(1, len(values) - 1)
    points = " ".join(f"{CHART_PAD + i * step:.1f},{_scale(v, top):.1f}" for i, v in enumerate(values))
    return f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>'


def svg_chart(title: str, points: Sequence[Point]) -> str:
    """Revenue and cost per period as two lines on one dollar axis (zero at the bottom)."""
    if not points:
        return '<p class="empty">No period to chart.</p>'
    top = max(max(p.revenue, p.cost) for p in points)
    labels = (points[0].label, points[-1].label)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">'
        f'<text x="{CHART_PAD}" y="16" font-size="13" font-weight="600">{escape(title)}</text>'
        f'<line x1="{CHART_PAD}" y1="{CHART_HEIGHT - CHART_PAD}" x2="{CHART_WIDTH - CHART_PAD}" '
        f'y2="{CHART_HEIGHT - CHART_PAD}" stroke="#cbd5e1"/>'
        f'<text x="{CHART_PAD - 4}" y="{CHART_PAD + 4}" font-size="10" text-anchor="end">${top:,.0f}</text>'
        f'<text x="{CHART_PAD - 4}" y="{CHART_HEIGHT - CHART_PAD + 4}" font-size="10" text-anchor="end">$0</text>'
        f'<text x="{CHART_PAD}" y="{CHART_HEIGHT - 12}" font-size="10">{escape(labels[0])}</text>'
        f'<text x="{CHART_WIDTH - CHART_PAD}" y="{CHART_HEIGHT - 12}" font-size="10" text-anchor="end">'
        f"{escape(labels[1])}</text>"
        + _polyline([p.revenue for p in points], top, REVENUE_COLOR)
        + _polyline([p.cost for p in points], top, COST_COLOR)
        + f'<text x="{CHART_WIDTH - CHART_PAD}" y="16" font-size="11" text-anchor="end">'
        f'<tspan fill="{REVENUE_COLOR}">■ Revenue</tspan> <tspan fill="{COST_COLOR}">■ Cost</tspan></text>'
        "</svg>"
    )


def _campaigns(lines: Sequence[CampaignLine]) -> str:
    if not lines:
        return '<p class="empty">No conversion was credited to a campaign in this period.</p>'
    body = "".join(
        f"<tr><td>{escape(c.name)}</td><td class='num'>{escape(c.conversions)}</td>"
        f"<td class='num'>{escape(c.revenue)}</td><td class='num'>{escape(c.cost_per_recovered)}</td></tr>"
        for c in lines
    )
    return (
        "<table><thead><tr><th>Campaign</th><th class='num'>Conversions</th><th class='num'>Revenue</th>"
        f"<th class='num'>Cost per recovered lead</th></tr></thead><tbody>{body}</tbody></table>"
    )


def summary_html(summary: ClientSummary) -> str:
    """The whole document: headline figures, the lift and before/after sentences, one chart,
    the top campaigns."""
    title = f"Lead recovery results — {summary.tenant}"
    figures = "".join(_figure(f) for f in summary.figures)
    statements = "".join(f"<p>{escape(s)}</p>" for s in summary.statements)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="meta">{escape(summary.period)} · prepared {escape(summary.prepared)}</p>'
        f'<section class="figures">{figures}</section>'
        f'<h2>Did it work?</h2><section class="statements">{statements}</section>'
        f"<h2>Over time</h2>{svg_chart(summary.chart_title, summary.points)}"
        f"<h2>Top campaigns</h2>{_campaigns(summary.campaigns)}"
        "<footer>Figures from the Lead Recovery Engine. Cost = messages sent × the unit prices set for "
        "this account + AI token cost.</footer>"
        "</body></html>\n"
    )
