"""The inbox's actions on one reply: "Mark handled" and "Mark recovered (value)".

Both go through the services (`app.services.replies`, and `app.services.conversions` as the
lead drawer's Mark recovered does), which check the operator again: a viewer never sees the
buttons, and could not act if it did.
"""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from app.domain.conversions import ConversionError
from app.services import conversions, replies
from components import format as fmt
from pages import data, session
from pages.leads.shared import may_act

FLASH = "replies.flash"  # (reply id, kind, message) of the last action, shown once above the inbox
MANUAL = "manual"


def handled_key(reply_id: int) -> str:
    return f"replies.{reply_id}.handled"


def value_key(reply_id: int) -> str:
    return f"replies.{reply_id}.value"


def form_key(reply_id: int) -> str:
    return f"replies.{reply_id}.recovered"


def handle(tenant_id: int, reply_id: int) -> None:
    who = session.identity()
    try:
        if who is None:
            raise PermissionError("Sign in to handle a reply.")
        marked = replies.mark_handled(
            tenant_id=tenant_id, inbound_message_id=reply_id, operator_id=who.operator_id, now=session.now()
        )
    except PermissionError as err:
        st.session_state[FLASH] = (reply_id, "error", str(err))
        return
    data.forget_replies()
    st.session_state[FLASH] = (reply_id, "success", "Marked handled." if marked else "Already handled.")


def recover(tenant_id: int, reply_id: int, lead_id: int) -> None:
    who = session.identity()
    try:
        if who is None:
            raise PermissionError("Sign in to record a sale.")
        recorded = conversions.record_conversion(
            tenant_id=tenant_id,
            lead_id=lead_id,
            value=Decimal(str(st.session_state.get(value_key(reply_id)))),
            converted_at=session.now(),
            method=MANUAL,
            operator_id=who.operator_id,
            now=session.now(),
        )
    except (ConversionError, PermissionError) as err:
        st.session_state[FLASH] = (reply_id, "error", str(err))
        return
    data.forget_leads()
    data.forget_replies()
    st.session_state[FLASH] = (reply_id, "success", f"Marked recovered: {fmt.money(recorded.value, cents=True)}.")


def flash() -> None:
    """The last action's outcome, above the inbox: a handled reply's card is gone by then."""
    outcome = st.session_state.get(FLASH)
    if isinstance(outcome, tuple):
        st.session_state.pop(FLASH)
        _, kind, message = outcome
        (st.success if kind == "success" else st.error)(message.replace("$", "\\$"))


def reply_actions(tenant_id: int, reply_id: int, lead_id: int | None, handled: bool) -> None:
    """The buttons under a reply; nothing for a viewer."""
    if not may_act():
        return
    left, right = st.columns(2)
    if not handled:
        left.button(
            "Mark handled", key=handled_key(reply_id), on_click=handle, args=(tenant_id, reply_id), type="primary"
        )
    if lead_id is None:
        return
    with right.popover("Mark recovered"), st.form(form_key(reply_id), border=False):
        st.number_input("Sale value ($)", min_value=0.0, value=0.0, step=50.0, key=value_key(reply_id))
        st.form_submit_button("Mark recovered", on_click=recover, args=(tenant_id, reply_id, lead_id))
