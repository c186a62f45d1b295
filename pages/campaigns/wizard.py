"""The campaign wizard: five steps in forms, the draft saved at every Back and Next.

Each step is a module of its own (`step_*.py`) with a `render(tenant_id, draft)`; this one
draws where the operator is and hands the saved draft to the step. Only a draft the wizard made
opens here; a campaign launched in another tab closes the wizard with a word.
"""

from __future__ import annotations

import streamlit as st

from app.services import campaign_drafts
from components import format as fmt
from pages.campaigns import state, step_audience, step_channels, step_message, step_review, step_timing

RENDERERS = {
    1: step_channels.render,
    2: step_audience.render,
    3: step_message.render,
    4: step_timing.render,
    5: step_review.render,
}


def progress(current: int) -> str:
    """`1 Channels › **2 Audience** › 3 Message › …`, the current step in bold."""
    parts = [f"{n} {name}" for n, name in enumerate(state.STEPS, start=1)]
    parts[current - 1] = f"**{parts[current - 1]}**"
    return " › ".join(parts)


def render(tenant_id: int, campaign_id: int) -> None:
    try:
        draft = campaign_drafts.load_draft(tenant_id=tenant_id, campaign_id=campaign_id)
    except LookupError:
        state.close()
        st.info("That campaign is gone (deleted, or of another tenant).", icon=":material/info:")
        return
    if not draft.editable:
        state.close()
        st.info(
            f"**{fmt.plain(draft.name)}** is {draft.status}: only drafts open in the wizard.", icon=":material/info:"
        )
        return
    head, close = st.columns([5, 1])
    head.subheader(f"Campaign: {fmt.plain(draft.name)}")
    close.button(
        "Close",
        key="campaigns.close",
        icon=":material/close:",
        on_click=state.close,
        help="Back to the list; the draft keeps every step saved so far.",
    )
    current = state.step()
    st.markdown(progress(current))
    RENDERERS[current](tenant_id, draft)
