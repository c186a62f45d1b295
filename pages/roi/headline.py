"""The ROI page's headline figures, each with the definition its card and the client summary show."""

from __future__ import annotations

from decimal import Decimal

from app.domain.pricing import UnitPrices
from components import client_summary as doc
from components import format as fmt
from components.metrics import Card
from db import roi


def price_note(prices: UnitPrices) -> str:
    return f"email {fmt_price(prices.email)}, SMS {fmt_price(prices.sms)} per message"


def fmt_price(price: Decimal) -> str:
    return f"${price:f}"


def fixed_note(monthly: Decimal) -> str:
    return f"fixed cost {fmt.money(monthly, cents=True)} a month" if monthly else "no fixed cost set"


def fixed_part(totals: roi.PricedTotals, monthly: Decimal) -> str:
    """How the fixed cost entered the figure, or that none did (and where to set it)."""
    if not monthly:
        return "no fixed cost (none set: enter what the platform and its seats cost a month under Prices)"
    return (
        f"the fixed cost of the platform and its seats ({fmt.money(monthly, cents=True)} a month, prorated: "
        f"{fmt.money(totals.fixed_cost, cents=True)} for these {totals.days} days)"
    )


def cost_per_recovered(totals: roi.PricedTotals, recovered: int) -> float | None:
    return totals.cost / recovered if recovered else None


def headline_figures(
    totals: roi.PricedTotals, recovered: int, prices: UnitPrices, monthly: Decimal
) -> list[doc.Figure]:
    """The figures shown on the page and printed in the client summary, with their definitions."""
    days = totals.days
    return [
        doc.Figure(
            "Revenue recovered",
            fmt.money(totals.revenue),
            f"Value of the conversions credited to a recovery message over the last {days} days "
            "(the tenant's calendar days).",
        ),
        doc.Figure(
            "Cost",
            fmt.money(totals.cost, cents=True),
            f"Messages sent × unit price ({price_note(prices)}) + AI token cost "
            f"({fmt.money(totals.ai_cost, cents=True)}) + {fixed_part(totals, monthly)}, over the same days.",
        ),
        doc.Figure(
            "ROI",
            fmt.roi(totals.roi),
            "(Revenue − cost) ÷ cost; from 1,000 % shown as revenue ÷ cost (× cost). A dash when nothing was spent.",
        ),
        doc.Figure(
            "Recovered leads",
            fmt.count(recovered),
            "Distinct leads with a conversion over the same days that was not organic (not a lead "
            "that came back on its own).",
        ),
        doc.Figure(
            "Cost per recovered lead",
            fmt.money(cost_per_recovered(totals, recovered), cents=True),
            "Cost ÷ recovered leads; a dash when nobody was recovered.",
        ),
        doc.Figure("Messages sent", fmt.count(totals.sent), "Emails and SMS handed to a provider over the same days."),
    ]


def md(text: str) -> str:
    """Our own sentence as Markdown: a `$` is a dollar, not the start of a LaTeX formula."""
    return text.replace("$", "\\$")


def cards(figures: list[doc.Figure]) -> list[Card]:
    return [Card(f.label, f.value, md(f.definition)) for f in figures]
