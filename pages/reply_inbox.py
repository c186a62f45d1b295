"""Replies: what leads wrote back, the most urgent unhandled first."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from app.domain import best_time
from components import badges, charts, tables
from components import format as fmt
from components.metrics import Card, metric_cards
from db.queries import Inbox
from pages import data, session

BODY_PREVIEW = 600
HEATMAP_DAYS = 90
SENDER_USES_IT = (
    "Messages are scheduled into each lead's best window when it has one (its own replies and clicks, "
    f"at least {best_time.MIN_EVENTS}, else this tenant's above) if it comes within "
    f"{best_time.MAX_DELAY // timedelta(hours=1)} hours, inside the send window and outside quiet hours in the "
    "lead's time zone; otherwise, and for leads with no history anywhere, at the first allowed moment."
)
WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def inbox_cards(inbox: Inbox) -> list[Card]:
    return [
        Card("Unhandled", fmt.count(inbox.unhandled), "Replies no rep has handled yet."),
        Card("High priority", fmt.count(inbox.unhandled_high), "Unhandled replies triaged as high priority."),
    ]


def reply_card(row: pd.Series, timezone: str) -> None:
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
        if isinstance(row["suggested_reply"], str) and row["suggested_reply"]:
            with st.expander("Suggested answer"):
                st.text(row["suggested_reply"])
        if pd.notna(row["handled_at"]):
            st.caption(f"Handled by {row['handled_by'] or 'someone'}")


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
    show_handled = st.toggle("Show handled replies", key="replies.show_handled")
    inbox = data.replies_inbox(tenant.id, bool(show_handled))
    metric_cards(inbox_cards(inbox))
    best_time_section(tenant.id)
    if inbox.rows.empty:
        tables.empty_state(
            "Inbox zero",
            "Replies to recovery messages land here, triaged by intent and priority. "
            "Turn on *Show handled replies* to see past ones.",
        )
        return
    st.caption(f"Newest first within each priority; times in {tenant.timezone}.")
    for _, row in inbox.rows.iterrows():
        reply_card(row, tenant.timezone)


if __name__ == "__main__":
    render()
