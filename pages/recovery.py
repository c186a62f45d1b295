"""Recovery dashboard: how many leads went quiet, how many we are winning back, and the money.

The hero figures refresh on their own (a fragment every 15 s) so the agents are seen
working; the silent-leads worklist and the funnel refresh with the page.

"Recover now" (for the ticked rows, or for one lead picked by name) goes through
`app.services.scan.recover_now`, which is idempotent; the page adds three guards of its own
so a double click, or a rerun, never sends a *different* set of leads:

- the button's callback carries the lead ids shown when it was drawn, plus the table's
  *round*; the callback only records the request, and the script runs it below the buttons,
  which are drawn disabled while a request is pending;
- a request equal to the last one done (same ids, same round) is ignored: that is the second
  click of a double click;
- after a request the round goes up, which gives the table and the lead picker fresh keys:
  the selection is cleared, so ticked positions can never point at the rows that moved up
  into the places of the leads just enrolled.

Below, the outcome of each lead stays on screen with the pipeline's progress for those leads
(enrollment, scheduled send, outbox row), refreshed every 3 s until dismissed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from app.services.scan import RecoverOutcome
from components import charts, tables
from components import format as fmt
from components.metrics import Card, metric_cards
from db.queries import RecoverySummary
from pages import data, session
from pages.recovery_actions import (
    LAST,
    OUTCOME_LABELS,
    PENDING,
    ROUND,
    RecoverReport,
    RecoverRequest,
    outcome_sentence,
    run_pending_request,
    should_submit,
)

SILENT_LIMIT = 25
VIEWER_ROLE = "viewer"


def hero_cards(summary: RecoverySummary) -> list[Card]:
    threshold = fmt.hours(summary.silence_threshold_hours)
    return [
        Card(
            "Silent now",
            fmt.count(summary.silent_now),
            f"Leads with no activity for at least {threshold} (the first rung of the silence ladder) "
            "that no recovery is working on yet.",
        ),
        Card(
            "In recovery",
            fmt.count(summary.in_recovery),
            "Leads a recovery campaign is messaging now (control excluded).",
        ),
        Card("Replied", fmt.count(summary.replied), "Leads who answered a recovery message and wait for a rep."),
        Card(
            f"Recovered {summary.window_days}d",
            fmt.count(summary.recovered_30d),
            f"Distinct leads with a conversion in the last {summary.window_days} days, organic ones excluded.",
        ),
        Card(
            f"Revenue {summary.window_days}d",
            fmt.money_compact(summary.revenue_30d),
            f"Value of the non-organic conversions of the last {summary.window_days} days "
            f"({fmt.money(summary.revenue_30d)}).",
        ),
        Card(
            "Recovery rate",
            fmt.percent(summary.recovery_rate),
            "Leads now recovered ÷ every lead a recovery has worked "
            "(in recovery, replied, recovered or lost), all time.",
        ),
    ]


@st.fragment(run_every="15s")
def hero(tenant_id: int) -> None:
    metric_cards(hero_cards(data.recovery_summary(tenant_id)))


def table_key(round_: int) -> str:
    """The silent table's widget key; a new round clears its selection."""
    return f"dashboard.silent.{round_}"


def one_lead_key(round_: int) -> str:
    return f"dashboard.one_lead.{round_}"


def current_round() -> int:
    value = st.session_state.get(ROUND, 0)
    return value if isinstance(value, int) else 0


def silent_table(frame: pd.DataFrame, round_: int) -> list[int]:
    """The worklist, with ticks; returns the ids of the ticked leads."""
    st.subheader("Silent leads worth winning back")
    st.caption(
        f"The {SILENT_LIMIT} silent leads with the best intent score, then the biggest deal. "
        "Tick rows to recover them now."
    )
    ticked = tables.selectable_table(
        frame,
        {
            "name": tables.text_column("Lead"),
            "company": tables.text_column("Company"),
            "score": tables.score_column(help="Intent score, 0-100."),
            "value": tables.money_column("Deal value"),
            "days_silent": tables.number_column("Days silent", format="%.1f"),
            "rung": tables.number_column("Rung", help="Last silence-ladder rung contacted (0: never)."),
            "owner": tables.text_column("Owner"),
        },
        empty=(
            "No silent leads right now",
            "Every quiet lead is already in a recovery, or none has been quiet long enough. "
            "New leads arrive through the intake API or `python -m app import-leads`.",
        ),
        key=table_key(round_),
    )
    return [int(frame.iloc[i]["id"]) for i in ticked]


# --- Recover now -------------------------------------------------------------------------------


def ask_recovery(request: RecoverRequest) -> None:
    """The buttons' callback: record the request; the script runs it (see `run_pending`)."""
    if may_act() and should_submit(request, st.session_state.get(PENDING), st.session_state.get(LAST)):
        st.session_state[PENDING] = request


def may_act() -> bool:
    who = session.identity()
    return who is not None and who.role != VIEWER_ROLE


def recover_controls(tenant_id: int, frame: pd.DataFrame, ticked: Sequence[int], round_: int) -> None:
    """A button for the ticked rows, and a picker plus button for one lead."""
    busy = st.session_state.get(PENDING) is not None
    allowed = may_act()
    why = None if allowed else "Viewers can look but not start recoveries."
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    left.button(
        f"Recover {len(ticked)} selected" if ticked else "Recover selected",
        key="dashboard.recover_selected",
        type="primary",
        icon=":material/bolt:",
        disabled=busy or not ticked or not allowed,
        help=why or "Enroll the ticked leads at their next rung now; the writer drafts their first message.",
        on_click=ask_recovery,
        args=(RecoverRequest(tenant_id, tuple(ticked), round_),),
    )
    names = dict(zip(frame["id"].astype(int), frame["name"].astype(str), strict=True)) if not frame.empty else {}
    with right:
        one, go = st.columns([3, 2], vertical_alignment="bottom")
        picked = one.selectbox(
            "One lead",
            list(names),
            index=None,
            format_func=names.__getitem__,
            placeholder="Pick a silent lead",
            key=one_lead_key(round_),
            disabled=not names,
        )
        go.button(
            "Recover this lead",
            key="dashboard.recover_one",
            disabled=busy or picked is None or not allowed,
            help=why or "Enroll this one lead now.",
            on_click=ask_recovery,
            args=(RecoverRequest(tenant_id, (int(picked),) if picked is not None else (), round_),),
        )


def run_pending(tenant_id: int) -> None:
    """Run the dashboard's recorded request (see `recovery_actions.run_pending_request`)."""
    run_pending_request(tenant_id, pending_key=PENDING, last_key=LAST, round_key=ROUND)


def progress_frame(progress: pd.DataFrame, outcomes: Mapping[int, RecoverOutcome]) -> pd.DataFrame:
    shown = progress.copy()
    shown["outcome"] = [OUTCOME_LABELS[outcomes[int(i)]] if int(i) in outcomes else "" for i in shown["lead_id"]]
    return shown


PROGRESS_COLUMNS = {
    "name": tables.text_column("Lead"),
    "outcome": tables.text_column("Outcome"),
    "enrollment": tables.text_column("Enrollment", help="Status of the lead's enrollment."),
    "send": tables.text_column("Send", help="The scheduled send: pending, running (being written), done."),
    "channel": tables.text_column("Channel"),
    "message": tables.text_column("Message", help="The outbox row: pending, sending, sent, delivered, …"),
    "sent_at": tables.time_column("Sent"),
}


@st.fragment(run_every="3s")
def recovery_progress(report: RecoverReport) -> None:
    """The leads of the last request as the writer and the sender move them, every 3 s."""
    progress = data.recovery_progress(report.request.tenant_id, report.request.lead_ids)
    enrolled = sum(1 for o in report.outcomes.values() if o is RecoverOutcome.ENROLLED)
    if enrolled:
        messages = progress["message"] if not progress.empty else pd.Series(dtype=object)
        written = int(messages.notna().sum())
        sent = int(messages.isin(["sent", "delivered"]).sum())
        st.progress(
            min(1.0, sent / enrolled),
            text=f"{sent} of {enrolled} sent · {written} written (refreshes every 3 s)",
        )
    tables.data_table(
        progress_frame(progress, report.outcomes),
        PROGRESS_COLUMNS,
        empty=("Nothing to follow", "None of these leads belongs to this tenant."),
        key="dashboard.recover.progress",
    )


def recovery_report(tenant_id: int) -> None:
    """The outcome of the last request in this tenant, and its live progress."""
    report = st.session_state.get(LAST)
    if not isinstance(report, RecoverReport) or report.request.tenant_id != tenant_id:
        return
    sentence = outcome_sentence(report.outcomes)
    if any(o is RecoverOutcome.ENROLLED for o in report.outcomes.values()):
        st.success(sentence, icon=":material/check_circle:")
    else:
        st.info(sentence, icon=":material/info:")
    recovery_progress(report)
    if st.button("Dismiss", key="dashboard.recover.dismiss", type="tertiary"):
        del st.session_state[LAST]
        st.rerun()


def recover_section(tenant_id: int) -> None:
    """The worklist with its actions, the work they set off, and the report of the last one."""
    round_ = current_round()
    frame = data.silent_leads(tenant_id, SILENT_LIMIT)
    ticked = silent_table(frame, round_)
    if not frame.empty:
        recover_controls(tenant_id, frame, ticked, round_)
    run_pending(tenant_id)
    recovery_report(tenant_id)


def pipeline(summary: RecoverySummary) -> None:
    if summary.total_leads == 0:
        return
    charts.funnel(
        [
            ("Silent now", summary.silent_now),
            ("In recovery", summary.in_recovery),
            ("Replied", summary.replied),
            ("Recovered", summary.states["recovered"]),
        ],
        title="Where leads stand now",
    )


def render() -> None:
    tenant = session.current_tenant()
    st.title("Recovery dashboard")
    summary = data.recovery_summary(tenant.id)
    if summary.total_leads == 0:
        tables.empty_state(
            "No leads yet",
            "Load leads with `python -m app import-leads FILE.csv --tenant SLUG`, push them to "
            "`POST /api/leads`, or seed the demo with `python -m app seed`.",
        )
        return
    hero(tenant.id)
    left, right = st.columns([3, 2], gap="large")
    with left:
        recover_section(tenant.id)
    with right:
        pipeline(summary)


if __name__ == "__main__":
    render()
