"""The Campaigns page's button callbacks: each calls one service, then says what happened.

Callbacks run before the next script run, so a saved step can open the next one and a form
can be refilled (Draft with AI) before its widgets are drawn. A refusal the operator can fix
(a bad value, a status move that does not apply, a launch with problems) is shown as it is and
changes nothing; anything else is a bug and is left to Streamlit to show.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.domain.audience import Audience
from app.domain.campaign_status import CampaignStateError
from app.services import campaign_drafts, campaign_lifecycle
from app.services.campaign_lifecycle import LaunchRefused
from components import format as fmt
from pages import session
from pages.campaigns import reads, state

REFUSALS = (ValueError, PermissionError, LookupError, CampaignStateError)


def operator() -> int:
    """The signed-in operator's id (the services check what they may do)."""
    found = state.operator_id()
    if found is None:
        raise PermissionError("Sign in to change campaigns.")
    return found


def submit(save: Callable[[], object], then: int | None = None) -> bool:
    """Save a step; on success open step `then` (None: reopen this one, seeded from what was saved)."""
    try:
        save()
    except REFUSALS as error:
        state.flash("error", str(error))
        return False
    reads.forget_campaigns()
    if then is None:
        state.go(state.step())
    else:
        state.go(then)
    return True


def create(tenant_id: int, name: str, lead_ids: tuple[int, ...] = ()) -> None:
    """New draft (with the lead map's leads, when handed over), opened in the wizard."""
    try:
        audience = Audience.of_leads(lead_ids) if lead_ids else None
        campaign = campaign_drafts.create_draft(
            tenant_id=tenant_id, operator_id=operator(), name=name, now=session.now(), audience=audience
        )
    except REFUSALS as error:
        state.flash("error", str(error))
        return
    if lead_ids:
        st.session_state[state.HANDOFF] = None
    reads.forget_campaigns()
    state.open_campaign(campaign, 2 if lead_ids else 1)


def launch(tenant_id: int, campaign_id: int) -> None:
    try:
        launched = campaign_lifecycle.launch(
            tenant_id=tenant_id, campaign_id=campaign_id, operator_id=operator(), now=session.now()
        )
    except LaunchRefused as refused:
        state.flash("error", "Not launched: " + " · ".join(refused.problems))
        return
    except REFUSALS as error:
        state.flash("error", str(error))
        return
    reads.forget_campaigns()
    state.close()
    when = "is running" if launched.status == "running" else "is scheduled for its start"
    state.flash("success", f"Launched: the campaign {when}, for {fmt.count(launched.audience)} reachable leads.")


def pause(tenant_id: int, campaign_id: int) -> None:
    _move(campaign_lifecycle.pause, tenant_id, campaign_id, "Paused: nothing of it goes out until you resume it.")


def resume(tenant_id: int, campaign_id: int) -> None:
    _move(campaign_lifecycle.resume, tenant_id, campaign_id, "Resumed.")


def _move(service: Callable[..., str], tenant_id: int, campaign_id: int, done: str) -> None:
    try:
        service(tenant_id=tenant_id, campaign_id=campaign_id, operator_id=operator(), now=session.now())
    except REFUSALS as error:
        state.flash("error", str(error))
        return
    reads.forget_campaigns()
    state.flash("success", done)


def ask_kill(campaign_id: int) -> None:
    st.session_state[state.CONFIRM_KILL] = campaign_id


def cancel_kill() -> None:
    st.session_state[state.CONFIRM_KILL] = None


def kill(tenant_id: int, campaign_id: int) -> None:
    st.session_state[state.CONFIRM_KILL] = None
    try:
        killed = campaign_lifecycle.kill(
            tenant_id=tenant_id, campaign_id=campaign_id, operator_id=operator(), now=session.now()
        )
    except REFUSALS as error:
        state.flash("error", str(error))
        return
    reads.forget_campaigns()
    state.flash(
        "success",
        f"Killed: {fmt.count(killed.messages)} queued messages and {fmt.count(killed.actions)} scheduled steps "
        f"canceled, {fmt.count(killed.enrollments)} enrollments stopped.",
    )
