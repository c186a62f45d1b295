"""The Outbox's way out of `held`, for the messages the provider may or may not have.

Shown under the outbox when it lists the held messages. The operator looks in the provider's
own activity log (SendGrid's, Twilio's) and settles them all at once through
`app/services/held.py`: the provider's events, when any came, settle a message first whatever
is chosen; a resend waits until a message has been held an hour. Viewers see, never settle.

Rendered by `pages/agent_activity.py`.
"""

from __future__ import annotations

import streamlit as st

from app.services import held
from pages import agent_machinery, data, session

DECISION = "agents.held_decision"
NOTE = "agents.held_note"
CHOICES = {
    "sent": "Sent: the provider's log shows them",
    "failed": "Not sent: close them, never retried",
    "resend": "Not sent: send them again",
}


def settle(tenant_id: int) -> None:
    """The button's callback: settle the tenant's held messages as chosen and say what happened."""
    decision = st.session_state.get(DECISION)
    if decision not in CHOICES or not agent_machinery.may_act():
        return
    who = session.identity()
    if who is None:
        return
    counts = held.release(tenant_id=tenant_id, decision=decision, operator_id=who.operator_id)
    by_events = sum(n for key, n in counts.items() if key.startswith("by_events_"))
    text = f"{counts['decided']} marked {decision}; {by_events} settled by the provider's events."
    if counts["still_held"]:
        text += f" {counts['still_held']} still held: a resend waits until a message has been held an hour."
    st.session_state[NOTE] = text
    data.outbox.clear()


def section(tenant_id: int, *, any_held: bool) -> None:
    """What the last settle did, then (when any message is held) the choice and the button."""
    note = st.session_state.pop(NOTE, None)
    if isinstance(note, str):
        st.success(note)
    if not any_held:
        return
    st.caption(
        "Held: the provider may or may not have these (a worker lost mid-send, an answer that never came). "
        "They are never resent on their own. Check the provider's activity log, then settle them."
    )
    pick, go = st.columns([4, 1], vertical_alignment="bottom")
    pick.selectbox("Settle the held messages as", list(CHOICES), format_func=CHOICES.__getitem__, key=DECISION)
    go.button(
        "Settle all held",
        key="agents.held_settle",
        disabled=not agent_machinery.may_act(),
        help="A message the provider's events speak for is settled by them, whatever you choose.",
        on_click=settle,
        args=(tenant_id,),
    )
