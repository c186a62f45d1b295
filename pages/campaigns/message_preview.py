"""The message step's live preview: the saved texts filled for a sample lead of the audience, per
variant and channel, with the SMS segments a carrier bills and the footer the sender adds.

Texts are shown with `st.text`, never as Markdown or HTML: they carry a lead's name and the
operator's words, and a message is what the lead will read, character for character.
"""

from __future__ import annotations

import streamlit as st

from app.domain.message_preview import Preview, preview_message
from app.services.audiences import SampleLead
from app.services.campaign_drafts import CampaignDraft
from components import format as fmt
from pages import session
from pages.campaigns import reads

LEAD = "campaigns.w.message.preview_lead"
CHANNEL_NAMES = {"email": "Email", "sms": "SMS"}


def sample(tenant_id: int, draft: CampaignDraft) -> tuple[SampleLead, ...]:
    """Leads of the saved audience to preview with (none before an audience is chosen)."""
    if draft.audience is None or draft.audience.problems():
        return ()
    return reads.audience_preview(tenant_id, draft.audience, session.pinned_clock()).sample


def segments_caption(shown: Preview) -> str:
    if shown.segments is None:
        return ""
    s = shown.segments
    return f"{s.segments} segment{'s' if s.segments != 1 else ''} · {s.encoding} · {s.units}/{s.limit} units"


def render(draft: CampaignDraft, leads: tuple[SampleLead, ...]) -> None:
    st.subheader("Preview")
    if not leads:
        st.caption("Choose an audience (step 2) to preview the message for its leads.")
        return
    by_id = {lead.id: lead for lead in leads}
    if st.session_state.get(LEAD) not in by_id:
        st.session_state[LEAD] = leads[0].id
    picked = st.selectbox("As received by", list(by_id), key=LEAD, format_func=lambda i: by_id[i].name)
    lead = by_id[picked]
    channels = draft.wizard.channels or ("email", "sms")
    for name, text in draft.wizard.messages().items():
        columns = st.columns(len(channels))
        for column, channel in zip(columns, channels, strict=True):
            with column:
                title = (
                    f"{CHANNEL_NAMES[channel]} · variant {name}" if draft.wizard.variant_b else CHANNEL_NAMES[channel]
                )
                st.markdown(f"**{title}**")
                shown = preview_message(channel, text, dict(lead.slots), lead.facts)
                one(channel, shown, lead, draft)


def one(channel: str, shown: Preview | None, lead: SampleLead, draft: CampaignDraft) -> None:
    if shown is None:
        st.caption(f"No text: the writer drafts {fmt.plain(lead.name)}'s message from the brief.")
        return
    if shown.subject:
        st.text(f"Subject: {shown.subject}")
    st.text(shown.body)
    if channel == "sms":
        st.caption(segments_caption(shown))
    else:
        st.caption("The sender adds a footer: your sender name, your postal address and a one-click unsubscribe link.")
    if shown.problems:
        st.warning(
            f"{fmt.plain(lead.name)} gets a message the writer drafts from the brief instead: "
            + "; ".join(fmt.plain(p) for p in shown.problems),
            icon=":material/edit_note:",
        )
