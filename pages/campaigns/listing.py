"""The campaign list: every campaign's status and live counts, and the switches for the one picked.

The figures refresh in place every few seconds (a fragment): enrollments and the queue move
while the agents work. Pause and resume take effect at the writer's and the sender's next
claim; the kill switch asks once more, then cancels everything the campaign has queued in one
transaction and cannot be undone.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from components import format as fmt
from components import tables
from components.metrics import Card, metric_cards
from pages import data
from pages.campaign_ab import render_ab
from pages.campaigns import actions, reads, state
from pages.leads.shared import may_act

REFRESH = dt.timedelta(seconds=10)
PICK = "campaigns.pick"

CAMPAIGN_COLUMNS = {
    "name": tables.text_column("Campaign"),
    "status": tables.text_column(
        "Status",
        help="draft (being built), scheduled (waits for its start), running (sending now), paused (nothing goes "
        "out until resumed), killed (stopped for good, its queue canceled), completed or archived.",
    ),
    "kind": tables.text_column(
        "Kind", help="recovery: the always-on silence ladder the scanner feeds · sequence: a campaign built here."
    ),
    "channel_label": tables.text_column("Channel", help="The channel of every step, or email + SMS for mixed plans."),
    "enrolled": tables.number_column("Enrolled", help="Every enrollment ever made in this campaign, control included."),
    "active": tables.number_column("Active", help="Enrollments active or waiting for their next step."),
    "queued": tables.number_column(
        "Queued", help="Messages not yet handed to a provider: written and waiting, or due to be written. Live."
    ),
    "control": tables.number_column(
        "Control", help="Enrollments held out at random and never contacted: the baseline for the lift on ROI."
    ),
    "sent": tables.number_column("Sent", help="Emails and SMS of this campaign handed to a provider (daily rollups)."),
    "replied": tables.number_column("Replied", help="Replies to this campaign's messages (daily rollups)."),
    "conversions": tables.number_column("Recovered", help="Conversions credited to this campaign (daily rollups)."),
    "revenue": tables.money_column("Revenue", help="Value of those conversions."),
    "cost": tables.money_column("Cost", help="Provider and AI spend of this campaign (daily rollups)."),
}


def campaign_frame(tenant_id: int) -> pd.DataFrame:
    """The list with each campaign's live queue."""
    frame = data.campaigns(tenant_id)
    queued = reads.queues(tenant_id).set_index("campaign_id")["queued"] if not frame.empty else pd.Series(dtype=int)
    return frame.assign(queued=[int(queued.get(i, 0)) for i in frame["id"]])


def status_cards(frame: pd.DataFrame) -> list[Card]:
    by_status = frame["status"].value_counts()
    return [
        Card("Running", fmt.count(int(by_status.get("running", 0))), "Campaigns sending now."),
        Card("Paused", fmt.count(int(by_status.get("paused", 0))), "Campaigns stopped for now; enrollments wait."),
        Card("Drafts", fmt.count(int(by_status.get("draft", 0))), "Campaigns not launched yet."),
        Card(
            "Leads enrolled (active)",
            fmt.count(int(frame["active"].sum())),
            "Enrollments active or waiting for their next step, over all campaigns.",
        ),
    ]


@st.fragment(run_every=REFRESH)
def live_list(tenant_id: int) -> None:
    frame = campaign_frame(tenant_id)
    if frame.empty:
        tables.empty_state(
            "No campaigns yet",
            "Build one with New campaign above, or let the scanner create the tenant's recovery campaign on "
            "its first pass over silent leads (every few minutes under `make run`, or now with `python -m app scan`).",
        )
        return
    metric_cards(status_cards(frame))
    shown = frame.assign(channel_label=[c if isinstance(c, str) else "email + SMS" for c in frame["channel"]])
    tables.table_with_csv(
        shown,
        CAMPAIGN_COLUMNS,
        empty=("No campaigns yet", ""),
        key="campaigns.table",
        file_name="campaigns.csv",
    )


def manage(tenant_id: int) -> None:
    """Pick a campaign: open a draft in the wizard, pause, resume or kill a live one, read its history."""
    frame = campaign_frame(tenant_id)
    if frame.empty:
        return
    st.subheader("Manage a campaign")
    # Names only: a label that changed with the status would make the browser's picker start over.
    names = {int(r.id): str(r.name) for r in frame.itertuples()}
    if st.session_state.get(PICK) not in names:
        st.session_state[PICK] = next(iter(names))
    picked = st.selectbox("Campaign", list(names), format_func=names.__getitem__, key=PICK)
    row = frame.set_index("id").loc[picked]
    queued, active = fmt.count(int(row["queued"])), fmt.count(int(row["active"]))
    st.caption(f"Status: {row['status']} · {queued} queued · {active} open enrollments")
    allowed = may_act()
    why = None if allowed else "Viewers can look but not change campaigns."
    cols = st.columns(4)
    if row["status"] == "draft" and row["kind"] == "sequence":
        cols[0].button(
            "Open in the wizard",
            key="campaigns.open_wizard",
            icon=":material/edit:",
            on_click=state.open_campaign,
            args=(picked,),
            disabled=not allowed,
            help=why,
        )
    if row["status"] in ("running", "scheduled"):
        cols[0].button(
            "Pause",
            key="campaigns.pause",
            icon=":material/pause:",
            on_click=actions.pause,
            args=(tenant_id, picked),
            disabled=not allowed,
            help=why or "Nothing of it goes out until you resume it; enrollments wait.",
        )
    if row["status"] == "paused":
        cols[0].button(
            "Resume",
            key="campaigns.resume",
            icon=":material/play_arrow:",
            on_click=actions.resume,
            args=(tenant_id, picked),
            disabled=not allowed,
            help=why,
        )
    if row["status"] in ("running", "scheduled", "paused"):
        cols[1].button(
            "Kill",
            key="campaigns.kill",
            icon=":material/dangerous:",
            on_click=actions.ask_kill,
            args=(picked,),
            disabled=not allowed,
            help=why or "Stop it for good and cancel every queued send at once.",
        )
        confirm_kill(tenant_id, picked, row)
    history(tenant_id, picked)
    ab_results(tenant_id, picked, str(row["status"]))


def confirm_kill(tenant_id: int, campaign_id: int, row: pd.Series) -> None:
    if st.session_state.get(state.CONFIRM_KILL) != campaign_id:
        return
    st.warning(
        f"Kill **{fmt.plain(row['name'])}**? Its {fmt.count(int(row['queued']))} queued messages are canceled and its "
        f"{fmt.count(int(row['active']))} open enrollments stop, at once. A killed campaign cannot be resumed.",
        icon=":material/warning:",
    )
    yes, no = st.columns([1, 4])
    yes.button(
        "Yes, kill it",
        key="campaigns.kill_confirm",
        type="primary",
        on_click=actions.kill,
        args=(tenant_id, campaign_id),
    )
    no.button("Cancel", key="campaigns.kill_cancel", on_click=actions.cancel_kill)


def history(tenant_id: int, campaign_id: int) -> None:
    events = reads.events(tenant_id, campaign_id)
    if events.empty:
        return
    with st.expander("History", expanded=False):
        tables.data_table(
            events,
            {
                "at": tables.time_column("When"),
                "event": tables.text_column("What"),
                "from_status": tables.text_column("From"),
                "to_status": tables.text_column("To"),
                "operator": tables.text_column("Who", help="The operator who did it; empty for the scheduler."),
            },
            empty=("No history yet", ""),
            key="campaigns.history",
        )


def ab_results(tenant_id: int, campaign_id: int, status: str) -> None:
    """The A/B section (`pages/campaign_ab.py`) of a launched campaign: per-variant rates and the verdict."""
    if status != "draft":
        render_ab(campaign_id, tenant_id)
