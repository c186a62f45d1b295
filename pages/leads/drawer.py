"""The lead drawer: who the picked lead is, where they stand, what happened, why the score, and
what to say next.

The drawer is a panel of the page rather than `st.dialog`: a dialog closes on every rerun the
page makes (a table click, the map's selection) and cannot be read back by AppTest, while a
panel stays open until the rep closes it or picks another lead (see `pages/leads/picks.py`).
"""

from __future__ import annotations

import streamlit as st

from app.ai.insight import Insight
from app.domain import priority
from app.services import insight as insight_service
from components import format as fmt
from components import tables
from db.lead_detail import LeadHeader
from pages import data, session
from pages.leads.export import export_panel
from pages.leads.finder import breakdown_table, score_breakdown
from pages.leads.mark_recovered import mark_recovered
from pages.leads.picks import DRAWER, close_drawer
from pages.leads.shared import DAYS_HELP, SCORE_HELP, VALUE_HELP, may_act
from pages.leads.suppression import suppression_marks

INSIGHT = "leads.drawer.insight"  # (lead id, Insight) just written by the button


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
        suppression_marks(data.lead_suppressions(tenant_id, header.id))
        left, right = st.columns([3, 2], gap="large")
        with left:
            timeline(tenant_id, header)
        with right:
            mark_recovered(tenant_id, header)
            st.markdown("**Score breakdown**")
            breakdown_table(score_breakdown(tenant_id, header.id), key="leads.drawer.breakdown")
            insight_panel(tenant_id, header.id)
            export_panel(tenant_id, header.id)


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
    who = session.identity()
    if who is None:
        return
    written = insight_service.write_insight(tenant_id=tenant_id, lead_id=lead_id, operator_id=who.operator_id)
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
