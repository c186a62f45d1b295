"""One reply opened: the conversation with the lead, "correct the intent" and the answer.

The lead's words and ours go through `st.text`, never Markdown. The answer starts from triage's
suggested answer (empty when there is none) and is queued through the sender like any message,
so suppression, consent, quiet hours and rate limits apply to it too.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.services import replies
from db.models import INTENTS
from pages import data, session
from pages.leads.shared import may_act
from pages.replies.actions import FLASH

SIDES = {"us": "Us", "them": "Them"}


def intent_key(reply_id: int) -> str:
    return f"replies.{reply_id}.intent"


def intent_form_key(reply_id: int) -> str:
    return f"replies.{reply_id}.correct"


def answer_key(reply_id: int) -> str:
    return f"replies.{reply_id}.answer"


def answer_form_key(reply_id: int) -> str:
    return f"replies.{reply_id}.answering"


def correct(tenant_id: int, reply_id: int) -> None:
    who = session.identity()
    intent = str(st.session_state.get(intent_key(reply_id)))
    try:
        if who is None:
            raise PermissionError("Sign in to correct an intent.")
        replies.correct_intent(
            tenant_id=tenant_id, inbound_message_id=reply_id, intent=intent, operator_id=who.operator_id
        )
    except (PermissionError, ValueError) as err:
        st.session_state[FLASH] = (reply_id, "error", str(err))
        return
    data.forget_replies()
    st.session_state[FLASH] = (reply_id, "success", f"Intent set to {intent}; kept as a labelled example.")


def answer(tenant_id: int, reply_id: int) -> None:
    who = session.identity()
    try:
        if who is None:
            raise PermissionError("Sign in to answer.")
        queued = replies.answer_reply(
            tenant_id=tenant_id,
            inbound_message_id=reply_id,
            body=str(st.session_state.get(answer_key(reply_id)) or ""),
            operator_id=who.operator_id,
            now=session.now(),
        )
    except (PermissionError, ValueError) as err:
        st.session_state[FLASH] = (reply_id, "error", str(err))
        return
    data.forget_replies()
    message = "Answer queued: the sender sends it within its rules." if queued else "This reply was already answered."
    st.session_state[FLASH] = (reply_id, "success" if queued else "error", message)


def conversation(tenant_id: int, lead_id: int, timezone: str) -> None:
    rows = data.reply_thread(tenant_id, lead_id)
    for _, row in rows.iterrows():
        when = pd.Timestamp(row["at"]).tz_convert(timezone)
        note = f" · {row['note']}" if isinstance(row["note"], str) and row["note"] else ""
        st.text(f"{SIDES[row['side']]} · {row['channel']} · {when:%d %b %H:%M}{note}\n{row['body']}")


def open_reply(tenant_id: int, row: pd.Series, timezone: str) -> None:
    """The thread, the classification's reason when triage stored one, and (for those who may act) the forms."""
    reply_id = int(row["id"])
    with st.expander("Thread, intent and answer"):
        if pd.notna(row["lead_id"]):
            conversation(tenant_id, int(row["lead_id"]), timezone)
        reason = row.get("reason")
        if isinstance(reason, str) and reason:
            st.text(f"Why · {reason}")
        suggested = row["suggested_reply"] if isinstance(row["suggested_reply"], str) else ""
        if not may_act():
            if suggested:
                st.text(suggested)
            return
        with st.form(intent_form_key(reply_id), border=False):
            current = row["intent"] if row["intent"] in INTENTS else INTENTS[0]
            st.selectbox("Correct the intent", INTENTS, index=INTENTS.index(current), key=intent_key(reply_id))
            st.form_submit_button("Save intent", on_click=correct, args=(tenant_id, reply_id))
        if pd.isna(row["lead_id"]):
            return
        with st.form(answer_form_key(reply_id), border=False):
            st.text_area("Answer", value=suggested, key=answer_key(reply_id))
            st.form_submit_button("Send answer", on_click=answer, args=(tenant_id, reply_id))
