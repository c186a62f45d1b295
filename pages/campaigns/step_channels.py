"""Step 1: the campaign's name and the channels its first message tries, in order.

A lead gets the first channel of the list it can be written on (an address, consent, not
suppressed): "email, then SMS" reaches a lead without a usable email by text.
"""

from __future__ import annotations

import streamlit as st

from app.services import campaign_drafts
from app.services.campaign_drafts import CampaignDraft
from pages.campaigns import actions, state

NAME = "campaigns.w.name"
CHANNELS = "campaigns.w.channels"
LABELS = {"email": "Email", "sms": "SMS"}


def save(tenant_id: int, campaign_id: int) -> None:
    actions.submit(
        lambda: campaign_drafts.save_channels(
            tenant_id=tenant_id,
            campaign_id=campaign_id,
            operator_id=actions.operator(),
            name=str(st.session_state.get(NAME) or ""),
            channels=list(st.session_state.get(CHANNELS) or []),
        ),
        then=2,
    )


def render(tenant_id: int, draft: CampaignDraft) -> None:
    state.seed_once(draft.id, 1, lambda: {NAME: draft.name, CHANNELS: list(draft.wizard.channels)})
    with st.form("campaigns.w1"):
        st.text_input("Campaign name", key=NAME, max_chars=campaign_drafts.MAX_NAME)
        st.multiselect(
            "Channels, in the order tried",
            list(LABELS),
            key=CHANNELS,
            format_func=LABELS.__getitem__,
            help="Each lead gets the first of these it can be written on: an address, consent, not suppressed.",
        )
        st.form_submit_button(
            "Save & next", key="campaigns.w1.next", type="primary", on_click=save, args=(tenant_id, draft.id)
        )
