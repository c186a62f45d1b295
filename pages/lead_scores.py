"""Leads & scores: find leads by state, score and name; see how intent is spread and why a lead scores
what it does; a call list of who to call first; and a lead drawer (timeline, score, AI insight).

The drawer is a panel of the page rather than `st.dialog`: a dialog closes on every rerun the
page makes (a table click, the map's selection) and cannot be read back by AppTest, while a
panel stays open until the rep closes it or picks another lead. Whichever of the call list,
the table or the map picked a lead last decides what it shows: each source's pick is
remembered, and only a *new* pick there moves the drawer.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app.ai.insight import Insight
from app.domain import priority
from app.domain.scoring import Score
from app.services import insight as insight_service
from app.services import scan, scoring
from app.services.scan import RecoverOutcome
from components import charts, tables
from components import format as fmt
from db.lead_detail import LeadHeader
from db.models import LEAD_STATES
from db.queries import LEAD_SORTS, LeadFilter, LeadsPage
from pages import data, session
from pages.recovery_actions import RecoverReport, RecoverRequest, outcome_sentence, run_pending_request, should_submit

PAGE_SIZE = 50
VIEWER_ROLE = "viewer"
SCATTER_PENDING = "leads.recover.pending"
SCATTER_LAST = "leads.recover.last"
SCATTER_ROUND = "leads.recover.round"
DRAWER = "leads.drawer"  # the id of the lead the drawer shows
PICKS = "leads.drawer.picks"  # {source: the lead id picked there at the last run}
INSIGHT = "leads.drawer.insight"  # (lead id, Insight) just written by the button
QUEUE_SIZE = 10
SCORE_HELP = (
    "Intent score, 0-100: how likely the lead is to buy now (recency, engagement, replies, value, source, stage)."
)
VALUE_HELP = "The deal value recorded on the lead: what winning it back is worth."
DAYS_HELP = "Days since the lead's last activity (anything they did or we logged for them)."
RUNG_HELP = "The last rung of the silence ladder the lead was contacted at (0: never)."
SORT_LABELS = {
    "score": "Best score",
    "value": "Biggest deal",
    "longest_silent": "Longest silent",
    "recent": "Most recent activity",
}


def filters() -> LeadFilter:
    cols = st.columns([3, 2, 2, 2])
    states = cols[0].multiselect(
        "State", LEAD_STATES, key="leads.states", format_func=lambda s: s.replace("_", " "), placeholder="All states"
    )
    search = cols[1].text_input("Search", key="leads.search", placeholder="Name, email or company")
    min_score = cols[2].slider("Minimum score", 0, 100, 0, step=5, key="leads.min_score")
    sort = cols[3].selectbox("Sort by", list(LEAD_SORTS), format_func=SORT_LABELS.__getitem__, key="leads.sort")
    return LeadFilter(states=tuple(states), min_score=int(min_score), search=search or "", sort=sort)


def page_number(total: int) -> int:
    """The page the rep asked for, kept within the pages there are (a narrower filter has fewer)."""
    pages = max(1, -(-total // PAGE_SIZE))
    if st.session_state.get("leads.page", 1) > pages:
        st.session_state["leads.page"] = 1
    if pages == 1:
        return 1
    _, right = st.columns([4, 1])
    return int(right.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key="leads.page"))


def table(result: LeadsPage) -> int | None:
    """The page of leads; returns the id of the row the rep clicked, if any."""
    shown_to = result.offset + len(result.rows)
    more = "+" if result.total_capped else ""
    st.caption(f"Showing {result.offset + 1 if shown_to else 0}–{shown_to} of {fmt.count(result.total)}{more} leads")
    columns = {
        "name": tables.text_column("Lead"),
        "company": tables.text_column("Company"),
        "email": tables.text_column("Email"),
        "state": tables.text_column("State"),
        "score": tables.score_column(help=SCORE_HELP),
        "value": tables.money_column("Deal value", help=VALUE_HELP),
        "days_silent": tables.number_column("Days silent", format="%.1f", help=DAYS_HELP),
        "rung": tables.number_column("Rung", help=RUNG_HELP),
        "owner": tables.text_column("Owner"),
        "source": tables.text_column("Source"),
    }
    if result.rows.empty:
        tables.empty_state("No lead matches", "Clear the search or pick more states.")
        return None
    return picked_row(result.rows, columns, key="leads.table")


def picked_row(frame: pd.DataFrame, columns: dict[str, tables.Column], *, key: str) -> int | None:
    """A table whose rows open the drawer: returns the lead id of the clicked row, or None."""
    rows = tables.selectable_table(frame, columns, empty=("", ""), key=key, single=True)
    return int(frame["id"].iloc[rows[0]]) if rows else None


def score_breakdown(tenant_id: int, lead_id: int) -> Score:
    return lead_score(tenant_id, lead_id, deal_value_p80(tenant_id), session.pinned_clock())


@st.cache_data(ttl=dt.timedelta(minutes=5), show_spinner=False)
def deal_value_p80(tenant_id: int) -> float:
    """The yardstick of every breakdown's `value` part: one pass over the tenant's leads, so read rarely."""
    return scoring.deal_value_p80(tenant_id=tenant_id)


@st.cache_data(ttl=dt.timedelta(seconds=30), show_spinner=False, max_entries=256)
def lead_score(tenant_id: int, lead_id: int, p80: float, now: dt.datetime | None = None) -> Score:
    return scoring.score_breakdown(tenant_id=tenant_id, lead_id=lead_id, p80=p80, now=now)


def breakdown(tenant_id: int, rows: pd.DataFrame) -> None:
    """The picked lead's score, part by part, with the reason for each."""
    if rows.empty:
        return
    names = dict(zip(rows["id"].astype(int), rows["name"], strict=True))
    lead_id = st.selectbox("Why this score?", list(names), format_func=names.__getitem__, key="leads.breakdown")
    if lead_id is None:
        return
    breakdown_table(score_breakdown(tenant_id, int(lead_id)), key="leads.breakdown_table")


def breakdown_table(result: Score, *, key: str) -> None:
    st.caption(
        f"Score now: {result.total} of 100 (recomputed from the lead's signals)",
        help="The stored score is refreshed by the scoring agent; this one is computed from the lead's signals now.",
    )
    parts = pd.DataFrame([(p.name, p.points, p.why) for p in result.parts], columns=["part", "points", "why"])
    tables.data_table(
        parts,
        {
            "part": tables.text_column("Part"),
            "points": tables.number_column("Points", help="Points this part adds to the 0-100 score."),
            "why": tables.text_column("Why"),
        },
        empty=("No breakdown", "Pick a lead."),
        key=key,
    )


# --- who to call first, and the drawer a pick opens ------------------------------------------


def note_pick(source: str, lead_id: int | None) -> None:
    """Open the drawer on `lead_id` when it is a new pick in `source` (the queue, the table, the map)."""
    picks = st.session_state.setdefault(PICKS, {})
    if lead_id is not None and picks.get(source) != lead_id:
        st.session_state[DRAWER] = lead_id
        if source == "table":  # the drawer opens further down the page, under the call list
            st.toast("Opened in the lead drawer, under the call list.", icon=":material/south:")
    picks[source] = lead_id


def open_drawer(lead_id: int) -> None:
    st.session_state[DRAWER] = lead_id


def close_drawer() -> None:
    st.session_state.pop(DRAWER, None)


def with_reasons(queue: pd.DataFrame) -> pd.DataFrame:
    """The call list with a short "why" per row, from the same rule the priority comes from."""
    reasons = [
        priority.why(priority.Candidate(int(r.id), int(r.score), float(r.value), float(r.days_silent), str(r.state)))
        for r in queue.itertuples()
    ]
    return queue.assign(why=reasons, state=queue["state"].str.replace("_", " "))


def call_list(tenant_id: int) -> None:
    """The few leads worth a call before any other, best first; a click opens the drawer."""
    st.subheader("Who to call first", help=priority.FORMULA)
    queue = data.priority_queue(tenant_id, QUEUE_SIZE)
    if queue.empty:
        tables.empty_state(
            "Nobody to call yet",
            "Leads that are active, silent, in recovery or waiting with a reply appear here; "
            "this tenant has none right now.",
        )
        return
    st.caption("Click a row to open the lead's timeline, score and AI insight.")
    columns = {
        "name": tables.text_column("Lead"),
        "priority": tables.money_column("Priority", help=priority.FORMULA),
        "why": tables.text_column("Why", width="large"),
        "score": tables.score_column(help=SCORE_HELP),
        "value": tables.money_column("Deal value", help=VALUE_HELP),
        "days_silent": tables.number_column("Days silent", format="%.1f", help=DAYS_HELP),
        "state": tables.text_column("State"),
        "owner": tables.text_column("Owner"),
    }
    note_pick("queue", picked_row(with_reasons(queue), columns, key="leads.queue"))


@st.fragment
def drawer(tenant_id: int) -> None:
    """The picked lead: who, where they stand, what happened, why the score, and what to say next.

    A fragment: Close and Write insight rerun the drawer alone, not the map of every lead below it.
    """
    lead_id = st.session_state.get(DRAWER)
    if lead_id is None:
        return
    header = data.lead_header(tenant_id, int(lead_id))
    if header is None:  # another tenant's lead, or one erased meanwhile
        close_drawer()
        return
    with st.container(border=True, key="leads.drawer.panel"):
        drawer_header(header)
        left, right = st.columns([3, 2], gap="large")
        with left:
            timeline(tenant_id, header)
        with right:
            st.markdown("**Score breakdown**")
            breakdown_table(score_breakdown(tenant_id, header.id), key="leads.drawer.breakdown")
            insight_panel(tenant_id, header.id)


def drawer_header(header: LeadHeader) -> None:
    title, close = st.columns([6, 1])
    title.subheader(fmt.plain(header.name) or "(no name)")
    facts = [header.company, f"owner {header.owner}" if header.owner else "no owner", header.state.replace("_", " ")]
    facts += [f"stage {header.stage}", f"from {header.source.replace('_', ' ')}"]
    title.caption(" · ".join(fmt.plain(f) for f in facts if f))
    close.button("Close", key="leads.drawer.close", icon=":material/close:", on_click=close_drawer)
    lead = priority.Candidate(header.id, header.score, header.deal_value, header.days_silent, header.state)
    cards = st.columns(5)
    cards[0].metric("Deal value", fmt.money(header.deal_value), help=VALUE_HELP)
    cards[1].metric("Intent score", f"{header.score}", help=SCORE_HELP + " As stored on the lead.")
    queued = header.state in priority.QUEUED_STATES
    cards[2].metric(
        "Priority",
        fmt.money(priority.priority(lead)) if queued else fmt.MISSING,
        help=priority.FORMULA + ("" if queued else " Control, lost and recovered leads are never on the call list."),
    )
    cards[3].metric("Days silent", f"{max(0.0, header.days_silent):.1f}", help=DAYS_HELP)
    cards[4].metric(
        "Their local time",
        header.local_now.strftime("%a %H:%M"),
        help=f"The time now in the lead's zone ({header.zone}); the timeline's times are in it too.",
    )


def timeline(tenant_id: int, header: LeadHeader) -> None:
    st.markdown("**Timeline**")
    events = data.lead_timeline(tenant_id, header.id, header.zone)
    st.caption(f"Newest first, the last {len(events)} events, in the lead's time ({header.zone}).")
    tables.data_table(
        events,
        {
            "local_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm"),
            "kind": tables.text_column("Kind"),
            "what": tables.text_column("What"),
            "detail": tables.text_column("Detail", width="large"),
            "status": tables.text_column("Status"),
        },
        empty=(
            "Nothing recorded yet",
            "Activities, messages, replies, conversions and enrollments of this lead appear here as they happen.",
        ),
        key="leads.drawer.timeline",
    )


def write_insight(tenant_id: int, lead_id: int) -> None:
    """The button's callback: write (or fetch) the insight once, keep it for this lead's drawer."""
    written = insight_service.write_insight(tenant_id=tenant_id, lead_id=lead_id)
    st.session_state[INSIGHT] = (lead_id, written)
    data.forget_insight()


def insight_panel(tenant_id: int, lead_id: int) -> None:
    st.markdown("**AI insight: why silent, what to say next**")
    just = st.session_state.get(INSIGHT)
    shown = just[1] if isinstance(just, tuple) and just[0] == lead_id else data.stored_insight(tenant_id, lead_id)
    if shown is None:
        st.caption("No insight yet for this lead's current facts. Writing one may call Claude, which costs a little.")
        st.button(
            "Write insight",
            key="leads.drawer.write_insight",
            icon=":material/auto_awesome:",
            disabled=not may_act(),
            help="Viewers can read insights but not ask for new ones." if not may_act() else None,
            on_click=write_insight,
            args=(tenant_id, lead_id),
        )
        return
    st.caption(insight_label(shown))
    st.markdown("*Why silent*")
    st.text(shown.why_silent)
    st.markdown("*What to say next*")
    st.text(shown.next_step)


def insight_label(shown: Insight) -> str:
    """Which writer produced the insight, said plainly (a rep must know whether a model or a rule speaks)."""
    if shown.source == "claude":
        label = f"Written by Claude ({shown.model})"
    elif shown.note:
        label = f"Written offline by rules from the lead's facts: {shown.note}"
    else:
        label = "Written offline by rules from the lead's facts (no Claude key configured)"
    return label + (" · stored earlier for the same facts, served free" if shown.cached else "")


# --- the map: every lead as a point, and "Recover N selected" -------------------------------
#
# The same guards as the dashboard's Recover now (see pages/recovery.py): the button's callback
# records a request carrying the ids selected when it was drawn and the map's round; the script
# runs it below, with the button drawn disabled meanwhile; a request equal to the last one done
# is the second click of a double click and is ignored; after a request the round goes up, which
# gives the chart a fresh key and so clears the selection.


def scatter_key(round_: int) -> str:
    """The map's widget key; a new round clears its selection."""
    return f"leads.scatter.{round_}"


def scatter_round() -> int:
    value = st.session_state.get(SCATTER_ROUND, 0)
    return value if isinstance(value, int) else 0


def may_act() -> bool:
    who = session.identity()
    return who is not None and who.role != VIEWER_ROLE


def ask_scatter_recovery(request: RecoverRequest) -> None:
    """The button's callback: record the request; the script runs it (see `run_scatter_pending`)."""
    if may_act() and should_submit(request, st.session_state.get(SCATTER_PENDING), st.session_state.get(SCATTER_LAST)):
        st.session_state[SCATTER_PENDING] = request


def run_scatter_pending(tenant_id: int) -> None:
    """Run the map's recorded request (see `recovery_actions.run_pending_request`)."""
    run_pending_request(tenant_id, pending_key=SCATTER_PENDING, last_key=SCATTER_LAST, round_key=SCATTER_ROUND)


def scatter_report(tenant_id: int) -> None:
    report = st.session_state.get(SCATTER_LAST)
    if not isinstance(report, RecoverReport) or report.request.tenant_id != tenant_id:
        return
    sentence = outcome_sentence(report.outcomes)
    if any(o is RecoverOutcome.ENROLLED for o in report.outcomes.values()):
        st.success(sentence, icon=":material/check_circle:")
    else:
        st.info(sentence, icon=":material/info:")


def lead_map(tenant_id: int) -> None:
    """Days silent × intent score for every lead (a fixed sample above the limit), selectable."""
    frame, total = data.lead_scatter(tenant_id, session.pinned_clock())
    if frame.empty:
        return
    round_ = scatter_round()
    st.subheader("Leads map")
    sampled = " (a fixed sample: select within it)" if len(frame) < total else ""
    st.caption(f"Showing {fmt.count(len(frame))} of {fmt.count(total)} leads on the map{sampled}.")
    selected = charts.lead_scatter(
        frame, states=LEAD_STATES, title="Days silent × intent score (size: deal value)", key=scatter_key(round_)
    )
    busy = st.session_state.get(SCATTER_PENDING) is not None
    allowed = may_act()
    too_many = len(selected) > scan.MAX_RECOVER_SELECTION
    if not allowed:
        why = "Viewers can look but not start recoveries."
    elif too_many:
        why = f"Select at most {fmt.count(scan.MAX_RECOVER_SELECTION)} leads per recovery."
    else:
        why = "Enroll the selected leads at their next rung now; leads already in recovery are left as they are."
    st.button(
        f"Recover {fmt.count(len(selected))} selected" if selected else "Recover selected",
        key="leads.recover_selected",
        type="primary",
        icon=":material/bolt:",
        disabled=busy or not selected or not allowed or too_many,
        help=why if selected else "Draw a box or a lasso on the map to select leads.",
        on_click=ask_scatter_recovery,
        args=(RecoverRequest(tenant_id, tuple(selected), round_),),
    )
    if len(selected) == 1:
        st.button(
            "Open this lead",
            key="leads.open_selected",
            icon=":material/open_in_new:",
            on_click=open_drawer,
            args=(selected[0],),
            help="Show the selected lead in the drawer above.",
        )
    run_scatter_pending(tenant_id)
    scatter_report(tenant_id)


def render() -> None:
    tenant = session.current_tenant()
    st.title("Leads & scores")
    lead_filter = filters()
    first = data.leads_page(tenant.id, lead_filter, PAGE_SIZE, 0)
    page = page_number(first.total)
    result = first if page == 1 else data.leads_page(tenant.id, lead_filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    left, right = st.columns([2, 1], gap="large")
    with left:
        note_pick("table", table(result))
    with right:
        bands = data.score_distribution(tenant.id, lead_filter.states)
        if int(bands["leads"].sum()) > 0:
            charts.bar_chart(
                bands, x="band", y="leads", title="Intent score distribution", x_title="Score", y_title="Leads"
            )
        breakdown(tenant.id, result.rows)
    call_list(tenant.id)
    drawer(tenant.id)
    lead_map(tenant.id)


if __name__ == "__main__":
    render()
