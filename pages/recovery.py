"""Recovery dashboard: how many leads went quiet, how many we are winning back, and the money.

Everything that moves on its own refreshes in a fragment, without reloading the page: the hero
figures every 15 s, the funnel every 30 s (it reads the daily rollup), the live feed every 5 s,
so the agents are seen working. Each hero card carries its change over the chosen period (7, 30
or 90 days); flows (recovered, revenue, replies) are compared with the period before, stocks that
no table keeps a history of are given the flow that moved them, and each card's tooltip says
which. The worklist is filtered and sorted by the database (a tenant can have a million leads),
so it shows at most 25 rows of the whole set, never 25 rows filtered afterwards. The worklist
refreshes with the page rather than on a timer: rows moving under a rep's ticks would make a
selection name leads they did not pick. Every read takes the console's clock
(`session.pinned_clock()`: None for the real time, or the instant a test pinned), so a test can
read the page at any instant, including the first seconds of a tenant's local day.

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

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from app.services.scan import RecoverOutcome
from components import charts, tables
from components import format as fmt
from components.metrics import Card, DeltaColor, metric_cards, signed
from db.dashboard import FEED_LIMIT, NO_OWNER, PERIODS, PeriodFigures, SilentFilter
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
PERIOD_KEY = "dashboard.period"
DEFAULT_PERIOD = 30
FEED_REFRESH = "5s"
EVERY_SILENT_LEAD = SilentFilter()
SORT_LABELS = {
    "score": "Best intent score",
    "value": "Biggest deal",
    "longest_silent": "Silent longest",
    "recently_silent": "Silent most recently",
}


def change_card(label: str, value: str, help: str, *, change: float, shown: str, color: DeltaColor) -> Card:
    """A card whose delta reads `shown` (a formatted change with its comparison); no arrow for no change."""
    return Card(label, value, help, delta=shown, plain_delta=change == 0, delta_color=color)


def points(rate: float | None, before: float | None) -> float | None:
    """The change between two ratios in percentage points, None when either is undefined."""
    return None if rate is None or before is None else (rate - before) * 100


def hero_cards(summary: RecoverySummary, period: PeriodFigures) -> list[Card]:
    """The six hero figures, each with its change over the period (what the change compares is
    in the card's tooltip, after the figure's definition)."""
    d = period.days
    threshold = fmt.hours(summary.silence_threshold_hours)
    moved = period.in_recovery_change
    replied = period.replied - period.replied_before
    recovered = period.recovered - period.recovered_before
    revenue = period.revenue - period.revenue_before
    rate_change = points(period.rate, period.rate_before)
    return [
        change_card(
            "Silent now",
            fmt.count(summary.silent_now),
            f"Leads with no activity for at least {threshold} (the first rung of the silence ladder) "
            f"that no recovery is working on yet. Change: how many of them went quiet in the last {d} days "
            f"(their silence began in the period); red because more silent leads is worse.",
            change=period.went_quiet,
            shown=f"{signed(fmt.count(period.went_quiet), period.went_quiet)} new in {d} d",
            color="inverse",
        ),
        change_card(
            "In recovery",
            fmt.count(summary.in_recovery),
            "Leads a recovery campaign is messaging now (control excluded). Change since the period began: "
            f"{fmt.count(period.entered)} enrollments started in the last {d} days minus "
            f"{fmt.count(period.left)} that completed, stopped or failed in them (hold-out excluded).",
            change=moved,
            shown=f"{signed(fmt.count(abs(moved)), moved)} in {d} d",
            color="off",
        ),
        change_card(
            "Replied",
            fmt.count(summary.replied),
            "Leads who answered a recovery message and wait for a rep. Change: leads who replied in the "
            f"last {d} days ({fmt.count(period.replied)}) minus those of the {d} days before "
            f"({fmt.count(period.replied_before)}).",
            change=replied,
            shown=f"{signed(fmt.count(abs(replied)), replied)} vs prior",
            color="normal",
        ),
        change_card(
            f"Recovered {d}d",
            fmt.count(period.recovered),
            f"Distinct leads with a conversion in the last {d} days, organic ones excluded. Change: against "
            f"the {d} days before ({fmt.count(period.recovered_before)}).",
            change=recovered,
            shown=f"{signed(fmt.count(abs(recovered)), recovered)} vs prior",
            color="normal",
        ),
        change_card(
            f"Revenue {d}d",
            fmt.money_compact(period.revenue),
            f"Value of the non-organic conversions of the last {d} days ({fmt.money(period.revenue)}). "
            f"Change: against the {d} days before ({fmt.money(period.revenue_before)}).",
            change=float(revenue),
            shown=f"{signed(fmt.money_compact(abs(revenue)), float(revenue))} vs prior",
            color="normal",
        ),
        Card(
            "Recovery rate",
            fmt.percent(summary.recovery_rate),
            "Leads now recovered ÷ every lead a recovery has worked (in recovery, replied, recovered or "
            f"lost), all time. Change: leads recovered in the last {d} days ÷ leads that entered recovery "
            f"in them ({fmt.percent(period.rate)}), against the same ratio for the {d} days before "
            f"({fmt.percent(period.rate_before)}), in percentage points.",
            delta=None if rate_change is None else f"{rate_change:+.1f} pts",
            plain_delta=rate_change is not None and round(rate_change, 1) == 0,
        ),
    ]


def current_period() -> int:
    value = st.session_state.get(PERIOD_KEY)
    return value if isinstance(value, int) and value in PERIODS else DEFAULT_PERIOD


def period_picker() -> int:
    """The period every change, the funnel and the period cards cover; a change reruns the page."""
    st.segmented_control(
        "Period",
        list(PERIODS),
        default=DEFAULT_PERIOD,
        required=True,
        format_func=lambda days: f"{days} days",
        key=PERIOD_KEY,
        help="The window of the period figures and the funnel; each change compares it with the window before.",
    )
    return current_period()


@st.fragment(run_every="15s")
def hero(tenant_id: int, days: int) -> None:
    """Two rows of three, so every label and change stays readable on a laptop: where leads
    stand now, then what the period brought in."""
    clock = session.pinned_clock()
    shown = hero_cards(data.recovery_summary(tenant_id, clock), data.period_figures(tenant_id, days, clock))
    metric_cards(shown[:3])
    metric_cards(shown[3:])


def table_key(round_: int, silent_filter: SilentFilter = EVERY_SILENT_LEAD) -> str:
    """The silent table's widget key. A new round clears its selection, and so does a new filter
    or sort: ticked positions must never carry over to rows the person has not seen."""
    base = f"dashboard.silent.{round_}"
    if silent_filter == EVERY_SILENT_LEAD:
        return base
    return f"{base}.{hashlib.blake2b(repr(silent_filter).encode(), digest_size=5).hexdigest()}"


def one_lead_key(round_: int) -> str:
    return f"dashboard.one_lead.{round_}"


def current_round() -> int:
    value = st.session_state.get(ROUND, 0)
    return value if isinstance(value, int) else 0


def silent_filter_controls(tenant_id: int, rungs: int) -> SilentFilter:
    """Sort and filters of the worklist; the database applies them (the tenant can have 1M leads)."""
    names = {NO_OWNER: "(no owner)"} | {o.id: o.name for o in data.lead_owners(tenant_id)}
    sort_col, rung_col, owner_col = st.columns([3, 2, 3])
    sort = sort_col.selectbox(
        "Sort by", list(SORT_LABELS), format_func=SORT_LABELS.__getitem__, key="dashboard.filter.sort"
    )
    picked_rungs = rung_col.multiselect(
        "Rung",
        list(range(rungs + 1)),
        key="dashboard.filter.rungs",
        placeholder="Any rung",
        help="The last silence-ladder rung the lead was contacted at (0: never).",
    )
    picked_owners = owner_col.multiselect(
        "Owner",
        list(names),
        format_func=names.__getitem__,
        key="dashboard.filter.owners",
        placeholder="Anyone",
    )
    low_col, high_col, score_col = st.columns([3, 2, 3])
    low = low_col.number_input("Min deal value", min_value=0.0, value=None, step=500.0, key="dashboard.filter.min")
    high = high_col.number_input("Max deal value", min_value=0.0, value=None, step=500.0, key="dashboard.filter.max")
    scores = score_col.slider("Intent score", 0, 100, (0, 100), key="dashboard.filter.score")
    return SilentFilter(
        rungs=tuple(sorted(int(r) for r in picked_rungs)),
        owners=tuple(sorted(int(o) for o in picked_owners)),
        min_value=low,
        max_value=high,
        min_score=int(scores[0]),
        max_score=int(scores[1]),
        sort=sort or "score",
    )


def silent_table(frame: pd.DataFrame, round_: int, silent_filter: SilentFilter = EVERY_SILENT_LEAD) -> list[int]:
    """The worklist, with ticks; returns the ids of the ticked leads."""
    if silent_filter.narrows:
        empty = (
            "No silent lead matches these filters",
            "Widen the rung, owner, deal value or score filters above to see more of the silent leads.",
        )
    else:
        empty = (
            "No silent leads right now",
            "Every quiet lead is already in a recovery, or none has been quiet long enough: the "
            "first rung of the silence ladder (Settings) says how long that is.",
        )
    ticked = tables.selectable_table(
        frame,
        {
            "name": tables.text_column("Lead"),
            "company": tables.text_column("Company"),
            "score": tables.score_column(help="Intent score, 0-100."),
            "value": tables.money_column("Deal value", help="The lead's open deal value."),
            "days_silent": tables.number_column(
                "Days silent", format="%.1f", help="Days since the lead's last activity."
            ),
            "rung": tables.number_column("Rung", help="Last silence-ladder rung contacted (0: never)."),
            "owner": tables.text_column("Owner"),
        },
        empty=empty,
        key=table_key(round_, silent_filter),
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


def recover_section(tenant_id: int, rungs: int) -> None:
    """The worklist with its filters and actions, the work they set off, and the report of the last one."""
    st.subheader("Silent leads worth winning back")
    round_ = current_round()
    with st.expander("Filter and sort", icon=":material/filter_list:"):
        silent_filter = silent_filter_controls(tenant_id, rungs)
    st.caption(
        f"Up to {SILENT_LIMIT} silent leads, {SORT_LABELS[silent_filter.sort].lower()} first. "
        "Tick rows to recover them now."
    )
    frame = data.filtered_silent_leads(tenant_id, silent_filter, SILENT_LIMIT, round_, session.pinned_clock())
    ticked = silent_table(frame, round_, silent_filter)
    if not frame.empty:
        recover_controls(tenant_id, frame, ticked, round_)
    run_pending(tenant_id)
    recovery_report(tenant_id)


# --- the funnel and the feed ---------------------------------------------------------------------

FUNNEL_DEFINITIONS = (
    "**Entered recovery**: leads enrolled by a recovery in the period (hold-out excluded). "
    "The next stages count messages as the daily rollup defines them (its whole days, plus today so far "
    "from the live rows), so a lead climbing several rungs counts once per message: **Sent**, "
    "**Delivered** (provider reports), **Engaged** (opens, or clicks for SMS, which has no opens), "
    "**Replied** (replies to a message) and **Recovered** (conversions credited to a message)."
)


def funnel_stages(period: PeriodFigures) -> list[tuple[str, int]]:
    return [
        ("Entered recovery (leads)", period.entered),
        ("Sent (messages)", period.sent),
        ("Delivered", period.delivered),
        ("Engaged", period.engaged),
        ("Replied", period.replies),
        ("Recovered", period.conversions),
    ]


@st.fragment(run_every="30s")
def funnel_section(tenant_id: int, days: int) -> None:
    """The period's recovery funnel, from the rollups; refreshed on its own."""
    stages = funnel_stages(data.period_figures(tenant_id, days, session.pinned_clock()))
    if not any(count for _, count in stages):
        tables.empty_state(
            f"No recovery activity in the last {days} days",
            "The scanner enrolls leads once they cross the first rung of the silence ladder; start the "
            "agents (`make run`) or recover a silent lead from the list to get the funnel moving.",
        )
        return
    charts.funnel(stages, title=f"Recovery funnel, last {days} days")
    st.caption(FUNNEL_DEFINITIONS)


FEED_EVENTS = {
    "processed": "accepted by the provider",
    "deferred": "deferred by the provider",
    "delivered": "delivered",
    "open": "opened",
    "click": "clicked",
    "bounce": "bounced",
    "dropped": "dropped by the provider",
    "spamreport": "reported as spam",
    "unsubscribe": "unsubscribed",
    "reply": "replied",
    "failed": "failed",
    "sent": "sent",
    "undelivered": "undelivered",
}


def feed_line(kind: str, channel: str | None, detail: str) -> str:
    """What happened, in words (our vocabulary only; the lead's name goes in its own column)."""
    medium = {"email": "Email", "sms": "SMS"}.get(channel or "", "Message")
    if kind == "message":
        return f"{medium} written ({detail})"
    if kind == "inbound":
        return f"{medium} reply" + (f" ({detail.replace('_', ' ')})" if detail else "")
    if kind == "conversion":
        return f"Recovered, {fmt.money(float(detail))}" if detail else "Recovered"
    if kind == "enrolled":
        return f"Enrolled in recovery ({detail})"
    if kind == "held_out":
        return f"Held out as control ({detail})"
    if kind == "agent":
        return f"Agent run: {detail}"
    return f"{medium} {FEED_EVENTS.get(kind, kind)}"


def feed_frame(feed: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    """The feed as the table shows it: When (relative), What, Lead."""
    return pd.DataFrame(
        {
            "When": [fmt.ago(at, now) for at in feed["at"]],
            "What": [
                fmt.plain(feed_line(k, c, d))
                for k, c, d in zip(feed["kind"], feed["channel"], feed["detail"], strict=True)
            ],
            "Lead": [fmt.plain(name) for name in feed["lead"]],
        }
    )


@st.fragment(run_every=FEED_REFRESH)
def activity_feed(tenant_id: int) -> None:
    """The last things that happened in this tenant, newest first, every few seconds."""
    st.subheader("Live activity", help=f"The newest {FEED_LIMIT} events of this tenant; refreshes every 5 s.")
    feed = data.activity_feed(tenant_id, FEED_LIMIT, session.pinned_clock())
    if feed.empty:
        tables.empty_state(
            "Nothing has happened yet",
            "Sends, deliveries, opens, clicks, replies, enrollments and agent runs appear here as they "
            "happen: start the agents with `make run`, or recover a silent lead.",
        )
        return
    with st.container(height=420, border=False):
        st.table(feed_frame(feed, session.now()), hide_index=True)


def render() -> None:
    tenant = session.current_tenant()
    st.title("Recovery dashboard")
    summary = data.recovery_summary(tenant.id, session.pinned_clock())
    if summary.total_leads == 0:
        tables.empty_state(
            "No leads yet",
            "This tenant has no leads to watch. Seed the demo with `python -m app seed`, or load "
            "your CRM's leads into this tenant; the scanner picks them up on its next pass.",
        )
        return
    days = period_picker()
    hero(tenant.id, days)
    settings = data.tenant_settings(tenant.id)
    rungs = len(settings.silence_ladder_hours) if settings is not None else 3
    left, right = st.columns([3, 2], gap="large")
    with left:
        recover_section(tenant.id, rungs)
    with right:
        funnel_section(tenant.id, days)
        activity_feed(tenant.id)


if __name__ == "__main__":
    render()
