"""A campaign's A/B test as a section the Campaigns page shows: `render_ab(campaign_id, tenant_id)`.

Per variant: sends, successes of the test's metric, the rate with its interval, and (while the
test runs) the evidence that the leader is better, how likely each variant is to be best and
what picking it would cost. Then where
the rule stands, in its own sentence, and the rule itself; once the test has ended, the verdict
with the figures it was made on. "Check for a winner" runs the rule now through
`app.services.ab_decisions` (the verdict is recorded once, whoever asks); those who may not
launch campaigns (reps, viewers) only read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from app.domain import roles
from app.domain.ab_test import ArmStats, Decision, Settings, State, rule_text
from app.domain.lift import wilson
from app.services import ab_decisions
from components import format as fmt
from components import tables
from db.variant_counts import VariantCounts
from pages import data, session

SUCCESS_LABELS = {"replied": "Replies", "clicked": "Clicks", "converted": "Conversions"}
STATE_LABELS = {
    State.COLLECTING: "Collecting",
    State.LEADING: "Running",
    State.DECIDED: "Winner found, not yet recorded",
    State.NO_DIFFERENCE: "Ended with no difference, not yet recorded",
}


def flash_key(campaign_id: int) -> str:
    return f"campaigns.ab.{campaign_id}.flash"


def decide_key(campaign_id: int) -> str:
    return f"campaigns.ab.{campaign_id}.decide"


def columns(settings: Settings, bar: float | None = None) -> dict[str, tables.Column]:
    level = fmt.percent(settings.confidence)
    needed = f" A winner needs {bar:,.1f}×." if bar else ""
    return {
        "variant": tables.text_column("Variant"),
        "sent": tables.number_column("Sends", help="Messages of this variant handed to a provider."),
        "successes": tables.number_column(
            SUCCESS_LABELS[settings.metric], help=f"Sent messages of this variant with a {settings.metric} event."
        ),
        "rate": tables.text_column(settings.label.capitalize(), help="Successes over sends."),
        "interval": tables.text_column(f"{level} interval", help="Wilson score interval of the rate."),
        "evidence": tables.text_column(
            "Evidence",
            help="For the variant with the best rate: the likelihood ratio (mSPRT) of its lead over the "
            "closest rival against no difference, valid however often it is checked." + needed,
        ),
        "p_best": tables.text_column(
            "Chance best",
            help="Posterior probability that this variant has the best rate (uniform prior; a lower bound "
            "with more than two variants). For reading only: checked again and again, it would crown "
            "equal variants far too often, so the verdict rests on the evidence.",
        ),
        "loss": tables.text_column(
            "Cost if picked",
            help="Expected rate lost, in points, if this variant is picked and another is in fact better.",
        ),
    }


def _interval(low: float | None, high: float | None) -> str:
    return fmt.MISSING if low is None or high is None else f"{fmt.percent(low)} – {fmt.percent(high)}"


def _row(name: str, sent: int, successes: int, confidence: float, stats: ArmStats | None) -> dict[str, object]:
    low, high = wilson(successes, sent, confidence) if sent else (None, None)
    return {
        "variant": name,
        "sent": sent,
        "successes": successes,
        "rate": fmt.percent(successes / sent if sent else None),
        "interval": _interval(low, high),
        "evidence": fmt.MISSING if stats is None or stats.evidence is None else f"{stats.evidence:,.1f}×",
        "p_best": fmt.MISSING if stats is None else fmt.percent(stats.p_best),
        "loss": fmt.MISSING if stats is None else f"{stats.expected_loss * 100:.2f} pts",
    }


def live_frame(counts: Sequence[VariantCounts], settings: Settings, live: Decision | None) -> pd.DataFrame:
    """Every variant's counts so far; the chances and costs of those still under test."""
    stats: Mapping[str, ArmStats] = {a.name: a for a in live.arms} if live else {}
    rows = [_row(c.name, c.sent, c.successes(settings.metric), settings.confidence, stats.get(c.name)) for c in counts]
    return pd.DataFrame(rows, columns=list(columns(settings)))


def verdict_frame(decision: Decision) -> pd.DataFrame:
    """The figures a verdict was made on, as it stored them."""
    confidence = decision.settings.confidence
    rows = [_row(a.name, a.sent, a.successes, confidence, a) for a in decision.arms]
    return pd.DataFrame(rows, columns=list(columns(decision.settings)))


def _may_act(tenant_id: int) -> bool:
    """Recording a verdict ends the test, so it is for those who launch and stop campaigns."""
    who = session.identity()
    return who is not None and who.may(roles.Action.LAUNCH, tenant_id)


def _decide(tenant_id: int, campaign_id: int) -> None:
    """The button's callback: run the rule at the console's clock, and say what came of it."""
    try:
        who = session.identity()
        operator_id = who.operator_id if who is not None else -1  # no identity: refused by the service
        outcome = ab_decisions.decide(
            tenant_id=tenant_id, campaign_id=campaign_id, now=session.now(), operator_id=operator_id
        )
    except (LookupError, PermissionError) as error:
        st.session_state[flash_key(campaign_id)] = ("error", str(error))
        return
    data.ab_report.clear()
    report = outcome.report
    if outcome.recorded_now and report.recorded is not None:
        message = ("success", f"Verdict recorded: {report.recorded.summary}")
    elif report.recorded is not None:
        message = ("info", "The test had already ended; nothing changed.")
    elif report.live is not None:
        message = ("info", f"No verdict yet. {report.live.summary}")
    else:
        message = ("info", report.problem or "There is no test to decide.")
    st.session_state[flash_key(campaign_id)] = message


def _flash(campaign_id: int) -> None:
    found = st.session_state.pop(flash_key(campaign_id), None)
    if isinstance(found, tuple):
        kind, message = found
        (st.success if kind == "success" else st.error if kind == "error" else st.info)(fmt.plain(message))


def _verdict(report: ab_decisions.AbReport) -> None:
    recorded, when = report.recorded, report.decided_at
    if recorded is not None and when is not None:
        day = when.strftime("%Y-%m-%d %H:%M UTC")
        if recorded.winner is not None:
            st.success(fmt.plain(f"Winner: variant {recorded.winner}, decided {day}. {recorded.summary}"))
            st.caption(fmt.plain(f"New sends use variant {recorded.winner} alone: the plan was rewritten then."))
        else:
            st.info(fmt.plain(f"The test ended {day}. {recorded.summary}"))
        with st.expander("Figures the verdict was made on"):
            tables.data_table(verdict_frame(recorded), columns(recorded.settings, recorded.threshold), empty=("", ""))
    elif report.live is not None:
        st.info(fmt.plain(f"{STATE_LABELS[report.live.state]}: {report.live.summary}"))


def render_ab(campaign_id: int, tenant_id: int) -> None:
    """The campaign's A/B section: rates per variant, the rule's state and sentence, the verdict."""
    st.subheader("A/B test")
    try:
        report = data.ab_report(tenant_id, campaign_id)
    except LookupError:
        st.warning("This campaign no longer exists.")
        return
    _flash(campaign_id)
    if report.problem:
        st.info(fmt.plain(report.problem))
    _verdict(report)
    settings = report.settings or (report.recorded.settings if report.recorded else None)
    if settings is None:
        return
    if report.counts:
        tables.data_table(
            live_frame(report.counts, settings, report.live),
            columns(settings, report.live.threshold if report.live else None),
            empty=("No sends yet", "The rates appear once the campaign's first messages go out."),
            key=f"campaigns.ab.{campaign_id}.table",
        )
    decision = report.recorded or report.live
    st.caption(fmt.plain("Rule: " + (decision.rule if decision else rule_text(settings))))
    if report.live is not None and report.recorded is None and _may_act(tenant_id):
        st.button(
            "Check for a winner",
            key=decide_key(campaign_id),
            icon=":material/rule:",
            on_click=_decide,
            args=(tenant_id, campaign_id),
            help="Runs the rule on the counts now; a verdict is recorded once and a winner promoted in the plan.",
        )
