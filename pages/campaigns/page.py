"""Campaigns: what is running and what it has queued, the switches (pause, resume, kill), and the
wizard that builds a new campaign, from an empty draft (or the leads picked on the lead map)
to its launch."""

from __future__ import annotations

import streamlit as st

from components import format as fmt
from pages import session
from pages.campaigns import actions, listing, state, wizard
from pages.leads.shared import may_act

NEW_NAME = "campaigns.new.name"


def new_campaign(tenant_id: int) -> None:
    allowed = may_act()
    with st.form("campaigns.new", clear_on_submit=True):
        name, create = st.columns([4, 1], vertical_alignment="bottom")
        name.text_input("New campaign", key=NEW_NAME, placeholder="Spring win-back", max_chars=120)
        create.form_submit_button(
            "Create draft",
            key="campaigns.new.create",
            icon=":material/add:",
            on_click=lambda: actions.create(tenant_id, str(st.session_state.get(NEW_NAME) or "")),
            disabled=not allowed,
            help=None if allowed else "Viewers can look but not build campaigns.",
        )


def handoff_banner(tenant_id: int) -> None:
    """The leads picked on the lead map ("Add to campaign"), waiting for a campaign."""
    handed = state.handoff(tenant_id)
    if handed is None:
        return
    with st.container(border=True):
        st.markdown(f"**{fmt.count(len(handed.lead_ids))} leads picked on the lead map** are waiting for a campaign.")
        go, drop = st.columns([2, 1])
        go.button(
            "New campaign with these leads",
            key="campaigns.handoff.create",
            type="primary",
            on_click=actions.create,
            args=(tenant_id, "Picked on the lead map", handed.lead_ids),
            disabled=not may_act(),
        )
        drop.button(
            "Forget them", key="campaigns.handoff.drop", on_click=st.session_state.pop, args=(state.HANDOFF, None)
        )
        st.caption("Or open a draft: its audience step offers them too.")


def render() -> None:
    tenant = session.current_tenant()
    st.title("Campaigns")
    state.show_flash()
    opened = state.opened()
    if opened is not None:
        wizard.render(tenant.id, opened)
        if state.opened() is not None:
            return
    handoff_banner(tenant.id)
    new_campaign(tenant.id)
    listing.live_list(tenant.id)
    listing.manage(tenant.id)
