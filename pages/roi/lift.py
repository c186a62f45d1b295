"""Did recovery work? The lift against the hold-out (the figure to trust) beside the naive
before/after (shown for reference), and the sentences that say which is which."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import streamlit as st

from app.domain import lift
from components import format as fmt
from components import tables
from components.metrics import Card, metric_cards
from db import roi
from db.holdout import HoldoutComparison
from pages.roi.headline import md

TRUST_SENTENCE = (
    "Trust the hold-out lift: the hold-out went silent over the same days as the contacted leads and "
    "differs from them only in never being contacted, so the difference is what recovery added. The "
    "before/after comparison also counts everything else that changed around the start date (season, "
    "lead mix, prices, organic comebacks), so it is shown for reference only."
)


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


def verdicts(comparison: HoldoutComparison) -> list[tuple[str, bool]]:
    """Each lift's sentence once ("too few to tell" reads the same for both), with its significance."""
    found: dict[str, bool] = {}
    for each in holdout_lifts(comparison):
        found.setdefault(lift.verdict(each), each.significant)
    return list(found.items())


def _day(moment: dt.datetime) -> str:
    return moment.date().isoformat()


def before_after_cards(ba: roi.BeforeAfter) -> list[Card]:
    before, after = ba.before, ba.after
    start = _day(ba.start) if ba.start is not None else "the first enrollment"
    return [
        Card(
            "Recovery rate before",
            fmt.percent(before.rate if before else None),
            f"Distinct leads with a conversion (any method) in the {ba.days} days before the engine "
            f"started ({start}: the tenant's first enrollment) ÷ the tenant's leads created before then"
            + (f" ({fmt.count(before.recovered)} of {fmt.count(before.leads)})." if before else "."),
        ),
        Card(
            "Recovery rate after",
            fmt.percent(after.rate if after else None),
            f"The same in the {ba.days} days from the start (cut at today if the engine is younger)"
            + (f" ({fmt.count(after.recovered)} of {fmt.count(after.leads)})." if after else "."),
        ),
        Card(
            "Naive change",
            fmt.MISSING if ba.difference is None else _points(ba.difference),
            "After rate minus before rate, in percentage points. Not a measure of what recovery "
            "added: see the sentence below.",
        ),
    ]


def naive_sentence(ba: roi.BeforeAfter) -> str:
    if ba.start is None or ba.before is None or ba.after is None:
        return "No before/after yet: the engine has not enrolled any lead, so it has no start date."
    before = fmt.percent(ba.before.rate)
    after = fmt.percent(ba.after.rate)
    change = fmt.MISSING if ba.difference is None else _points(ba.difference)
    return (
        f"Naive before/after: the recovery rate was {before} in the {ba.days} days before the engine started "
        f"on {_day(ba.start)} and {after} in the {ba.after.days:.0f} days after ({change})."
    )


def lift_section(comparison: HoldoutComparison, ba: roi.BeforeAfter) -> None:
    st.subheader("Did recovery work?")
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("**Lift against the hold-out**")
        st.caption(
            f"Last {comparison.days} days: what contacting leads added over the hold-out, which was never contacted."
        )
        lifts = lift_cards(comparison)
        metric_cards(lifts[:2])
        metric_cards(lifts[2:])
        for sentence, significant in verdicts(comparison):
            (st.success if significant else st.info)(md(sentence))
    with right:
        st.markdown("**Naive before/after**")
        st.caption(f"Recovery rate in the {ba.days} days before the engine's start against the {ba.days} days after.")
        if ba.start is None:
            tables.empty_state(
                "No start date yet",
                "The engine starts with the scanner's first enrollment; run a scan (or wait for the "
                "cron) and this comparison appears.",
            )
        else:
            metric_cards(before_after_cards(ba)[:2])
            metric_cards(before_after_cards(ba)[2:])
        st.warning(TRUST_SENTENCE, icon=":material/balance:")
