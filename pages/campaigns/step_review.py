"""Step 5: everything checked before launch: the plan's problems (each at its JSON path), how many
messages it may send and what they would cost, and the compliance checklist. Launch stays
disabled while anything keeps the campaign from running.
"""

from __future__ import annotations

import streamlit as st

from app.services.campaign_drafts import CampaignDraft
from components import format as fmt
from components.flow import flow_diagram
from components.metrics import Card, metric_cards
from pages import session
from pages.campaigns import actions, reads, state
from pages.leads.shared import may_act


def render(tenant_id: int, draft: CampaignDraft) -> None:
    review = reads.review(tenant_id, draft.id, session.pinned_clock())
    if review.problems:
        st.error("Not ready to launch. Fix these first (Back to the step that sets them):", icon=":material/block:")
        for problem in review.problems:
            st.markdown(f"- {fmt.plain(problem)}")
    else:
        st.success("Ready to launch.", icon=":material/check_circle:")
    reach = review.reach
    sends = review.sends or {}
    estimate = "Estimated once the plan has no problem."
    metric_cards(
        [
            Card(
                "Reachable leads", fmt.count(reach.reachable(draft.channels)), "Audience leads that can be written to."
            ),
            Card(
                "Emails, at most",
                fmt.count(sends.get("email")) if review.sends else "–",
                estimate
                if review.sends is None
                else "Every reachable lead at every email step, as if nobody answered (a reply stops the rest).",
            ),
            Card(
                "SMS, at most",
                fmt.count(sends.get("sms")) if review.sends else "–",
                f"Billed as {review.sms_segments} segment(s) each: the longest text for a sample lead.",
            ),
            Card(
                "Cost, at most",
                fmt.money(review.cost, cents=True) if review.cost is not None else "–",
                f"At your prices: ${review.prices.email} an email, ${review.prices.sms} an SMS segment (ROI page).",
            ),
        ]
    )
    st.subheader("Compliance checklist")
    for check in review.checks:
        icon = ":green[:material/check_circle:]" if check.ok else ":orange[:material/warning:]"
        st.markdown(f"{icon} **{check.label}**: {fmt.plain(check.detail)}")
    with st.expander("The flow", expanded=False):
        flow_diagram(draft.plan)
    back, launch = st.columns([1, 3])
    back.button("Back", key="campaigns.w5.back", on_click=state.go, args=(4,))
    allowed = may_act()
    launch.button(
        "Launch",
        key="campaigns.w5.launch",
        type="primary",
        icon=":material/rocket_launch:",
        on_click=actions.launch,
        args=(tenant_id, draft.id),
        disabled=bool(review.problems) or not allowed,
        help="Viewers can look but not launch." if not allowed else "Enroll the reachable leads and start sending.",
    )
