"""Settings → Messages: what the AI writer may state (the tenant's offer), the domains its links
may point at, and whether an SMS may take two billed segments instead of one.

A draft that states a price, an offer, a deadline, a link or a phone number the tenant did not
give here (or in a campaign's brief) is refused and the offline writer stands in, so this is
where a manager lets the writer mention "10% off roof checks this month".
"""

from __future__ import annotations

import streamlit as st

from app import runtime
from app.domain.message_settings import MAX_SMS_SEGMENTS, MessageSettings
from app.services import message_settings as service
from app.services import tenant_settings as rules_service
from db import roi
from pages import data, session

FLASH = "settings.messages.flash"  # (kind, message) of the last save, shown once


def key(tenant_id: int, field: str) -> str:
    return f"settings.{tenant_id}.messages.{field}"


@st.cache_data(ttl=data.SLOW, show_spinner=False)
def current(tenant_id: int) -> MessageSettings:
    return MessageSettings.from_settings(roi.unit_price_settings(runtime.engine(), tenant_id))


def save(tenant_id: int, operator_id: int) -> None:
    """The form's submit callback: save what was typed, and say how it went."""
    state = st.session_state
    try:
        service.update_message_settings(
            tenant_id=tenant_id,
            operator_id=operator_id,
            offer=str(state.get(key(tenant_id, "offer"), "")),
            domains=str(state.get(key(tenant_id, "domains"), "")),
            sms_max_segments=int(state.get(key(tenant_id, "segments"), 1)),
        )
    except (ValueError, PermissionError, LookupError) as err:
        state[FLASH] = ("error", str(err))
        return
    current.clear()
    state[FLASH] = ("success", "Message settings saved: the writer uses them from its next batch.")


def messages_section(tenant_id: int) -> None:
    """The section, for an admin or a manager of this tenant; others are told who may use it."""
    st.subheader("Messages")
    who = session.identity()
    if who is None or not rules_service.may_edit(role=who.role, operator_tenant_id=who.tenant_id, tenant_id=tenant_id):
        role = who.role if who is not None else "signed out"
        st.caption(f"Only an admin or a manager of this tenant can change what messages may say (you are: {role}).")
        return
    outcome = st.session_state.pop(FLASH, None)
    if outcome is not None:
        (st.success if outcome[0] == "success" else st.error)(outcome[1])
    chosen = current(tenant_id)
    with st.form(key(tenant_id, "form")):
        st.text_area(
            "Your offer",
            value=chosen.offer,
            key=key(tenant_id, "offer"),
            max_chars=500,
            help="Prices, discounts, dates or deadlines a message may state. Anything else of the kind is refused.",
        )
        st.text_input(
            "Your web domains",
            value=", ".join(chosen.domains),
            key=key(tenant_id, "domains"),
            help="The only sites a message may link to, e.g. brighthomes.com (your sender address's too).",
        )
        st.radio(
            "SMS segments per text",
            options=list(range(1, MAX_SMS_SEGMENTS + 1)),
            index=chosen.sms_max_segments - 1,
            key=key(tenant_id, "segments"),
            horizontal=True,
            help="Carriers bill per segment: 160 plain characters, or 70 when a character needs Unicode.",
        )
        st.form_submit_button("Save", type="primary", on_click=save, args=(tenant_id, who.operator_id))
