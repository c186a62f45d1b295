"""Replies: what leads wrote back, the most urgent unhandled first.

The inbox comes first, with its filters and actions: a rep opens this page to answer people.
The best-time heat-map, which a rep reads once a week, has a tab of its own.

Replies keep coming while the page is open (under `make run`, the demo's leads answer through
the inbound doors). The inbox itself is not redrawn under the rep's hands (an answer being
written must not move); a small notice above it, polled every few seconds, says how many came
in since it was drawn and shows them on request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from app.domain import best_time
from components import badges, charts, tables
from components import format as fmt
from components.metrics import Card, metric_cards
from db.replies import Inbox
from pages import data, session
from pages.replies.actions import flash, reply_actions
from pages.replies.thread import open_reply

BODY_PREVIEW = 600
HEATMAP_DAYS = 90
SENDER_USES_IT = (
    "Messages are scheduled into each lead's best window when it has one (its own replies and clicks, "
    f"at least {best_time.MIN_EVENTS}, else this tenant's above) if it comes within "
    f"{best_time.MAX_DELAY // timedelta(hours=1)} hours, inside the send window and outside quiet hours in the "
    "lead's time zone; otherwise, and for leads with no history anywhere, at the first allowed moment."
)
# The intents triage stores (inbound_messages' check constraint), and replies not yet triaged. A comment,
# not a string under the constant: this file runs as a page script, where Streamlit's magic draws a bare string.
INTENTS = (
    "interested",
    "question",
    "not_now",
    "not_interested",
    "unsubscribe",
    "out_of_office",
    "wrong_person",
    "untriaged",
)
NEW_REPLIES_POLL = "5s"
WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def inbox_cards(inbox: Inbox) -> list[Card]:
    return [
        Card("Unhandled", fmt.count(inbox.unhandled), "Replies no rep has handled yet."),
        Card("High priority", fmt.count(inbox.unhandled_high), "Unhandled replies triaged as high priority."),
    ]


def reply_card(row: pd.Series, timezone: str, tenant_id: int) -> None:
    """One reply; the lead's words go through `st.text`, never Markdown."""
    with st.container(border=True):
        head = st.columns([3, 3])
        who = row["lead"] if isinstance(row["lead"], str) and row["lead"] else row["from_address"]
        received = pd.Timestamp(row["received_at"]).tz_convert(timezone)
        head[0].text(f"{who} · {row['channel']} · {received:%d %b %H:%M}")
        with head[1]:
            badges.badge_row(
                [
                    (row["priority"], badges.PRIORITY),
                    (row["intent"], badges.INTENT),
                    (row["sentiment"], badges.SENTIMENT),
                ]
            )
        body = str(row["body"])
        st.text(body if len(body) <= BODY_PREVIEW else body[:BODY_PREVIEW] + "…")
        open_reply(tenant_id, row, timezone)
        handled = bool(pd.notna(row["handled_at"]))
        if handled:
            st.caption(f"Handled by {row['handled_by'] or 'someone'}")
        lead_id = int(row["lead_id"]) if pd.notna(row["lead_id"]) else None
        reply_actions(tenant_id, int(row["id"]), lead_id, handled)


UNASSIGNED = "Unassigned"


def filtered(rows: pd.DataFrame, tenant_id: int) -> pd.DataFrame:
    """The rows the intent, channel and owner filters keep (none picked keeps all); order unchanged."""
    lead_ids = tuple(sorted({int(i) for i in rows["lead_id"].dropna()}))
    owners = data.reply_lead_owners(tenant_id, lead_ids)
    owner = rows["lead_id"].map(lambda i: (owners.get(int(i)) if pd.notna(i) else None) or UNASSIGNED)
    intent_col, channel_col, owner_col = st.columns(3)
    picked_intents = intent_col.multiselect("Intent", INTENTS, key="replies.intent")
    picked_channels = channel_col.multiselect("Channel", ["email", "sms"], key="replies.channel")
    picked_owners = owner_col.multiselect("Owner", sorted(set(owner)), key="replies.owner")
    keep = pd.Series(True, index=rows.index)
    if picked_intents:
        keep &= rows["intent"].fillna("untriaged").isin(picked_intents)
    if picked_channels:
        keep &= rows["channel"].isin(picked_channels)
    if picked_owners:
        keep &= owner.isin(picked_owners)
    return rows[keep]


def window_sentence(window: best_time.BestWindow, days: int = HEATMAP_DAYS) -> str:
    """The tenant's best window as a sentence."""
    if window.weekday is None:
        return f"No replies or clicks in the last {days} days yet: no best time to suggest."
    return (
        f"Best time to reach this tenant's leads: {WEEKDAYS[window.weekday]}, "
        f"{window.start_hour:02d}:00–{window.end_hour:02d}:00 in each lead's local time "
        f"({fmt.count(window.events)} replies and clicks in that window over the last {days} days)."
    )


def best_time_section(tenant_id: int) -> None:
    st.subheader("Best time to reach")
    counts = data.engagement_heatmap(tenant_id, HEATMAP_DAYS)
    charts.week_heatmap(counts, title=f"Replies and clicks by local weekday and hour, last {HEATMAP_DAYS} days")
    slots = {(int(d), int(h)): int(n) for d, h, n in counts[["weekday", "hour", "count"]].itertuples(index=False)}
    st.caption(window_sentence(best_time.best_window({}, slots)))
    st.caption(SENDER_USES_IT)


def render() -> None:
    tenant = session.current_tenant()
    st.title("Replies")
    inbox_tab, best_tab = st.tabs(["Inbox", "Best time"])
    with inbox_tab:
        inbox_section(tenant.id, tenant.timezone)
    with best_tab:
        best_time_section(tenant.id)


@st.fragment(run_every=NEW_REPLIES_POLL)
def new_replies_notice(tenant_id: int, since: datetime | None) -> None:
    """How many unhandled replies came in after the newest one the inbox shows, and a button to show them."""
    arrived = data.replies_since(tenant_id, since)
    if not arrived:
        return
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.info(f"{fmt.count(arrived)} new {'reply' if arrived == 1 else 'replies'} since the inbox was drawn.")
    if right.button("Show them", key="replies.show_new", icon=":material/refresh:"):
        data.forget_replies()
        st.rerun()


def inbox_section(tenant_id: int, timezone: str) -> None:
    show_handled = st.toggle("Show handled replies", key="replies.show_handled")
    inbox = data.replies_inbox(tenant_id, bool(show_handled))
    new_replies_notice(tenant_id, inbox.newest)
    metric_cards(inbox_cards(inbox))
    flash()
    if inbox.rows.empty:
        tables.empty_state(
            "Inbox zero",
            "Replies to recovery messages land here, triaged by intent and priority. "
            "Turn on *Show handled replies* to see past ones.",
        )
        return
    rows = filtered(inbox.rows, tenant_id)
    st.caption(f"Newest first within each priority; times in {timezone}.")
    for _, row in rows.iterrows():
        reply_card(row, timezone, tenant_id)


if __name__ == "__main__":
    render()
