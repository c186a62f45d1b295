"""Step 3: the first message: a text per channel (with `{{variables}}`), a brief for the writer, and
optionally a variant B with the share of leads that get it.

The texts start from the template library (starters, or the tenant's own templates) or from
"Draft with AI": the writer drafts each channel's text from the brief for a lead of the
audience, and that lead's own values become variables again. A lead for whom a text cannot be
used (a variable it has no value for, a check it fails) gets a message the writer drafts from
the brief instead; the preview under the form shows which, lead by lead.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.domain.plan.wizard import MessageText
from app.domain.template_library import STARTERS, VARIABLES
from app.services import campaign_ai, campaign_drafts
from app.services.campaign_drafts import CampaignDraft
from pages import session
from pages.campaigns import actions, message_preview, reads, state

P = "campaigns.w.message."
USE_B, WEIGHT_A, LIBRARY = P + "use_b", P + "weight_a", P + "library"
FIELDS = ("brief", "email_subject", "email_body", "sms_body")


def key(variant: str, field: str) -> str:
    return f"{P}{variant}.{field}"


def seeded(draft: CampaignDraft) -> dict[str, Any]:
    wizard = draft.wizard
    values: dict[str, Any] = {USE_B: wizard.variant_b is not None, WEIGHT_A: round(wizard.weights[0])}
    for variant, text in (("A", wizard.message), ("B", wizard.variant_b or MessageText())):
        values.update({key(variant, field): getattr(text, field) for field in FIELDS})
    return values


def text_of(variant: str) -> MessageText:
    return MessageText(**{field: str(st.session_state.get(key(variant, field)) or "") for field in FIELDS})


def save_now(tenant_id: int, campaign_id: int) -> object:
    use_b = bool(st.session_state.get(USE_B))
    weight = float(st.session_state.get(WEIGHT_A) or 50)
    return campaign_drafts.save_message(
        tenant_id=tenant_id,
        campaign_id=campaign_id,
        operator_id=actions.operator(),
        message=text_of("A"),
        variant_b=text_of("B") if use_b else None,
        weights=(weight, 100.0 - weight),
    )


def save(tenant_id: int, campaign_id: int, then: int | None) -> None:
    actions.submit(lambda: save_now(tenant_id, campaign_id), then)


def library(tenant_id: int) -> dict[str, MessageText]:
    """The starters, then the tenant's own templates (a name's email and SMS texts together)."""
    found: dict[str, dict[str, str]] = {}
    for template in reads.template_library(tenant_id):
        fields = found.setdefault(template.name, {})
        if template.channel == "email":
            fields.update(email_subject=template.subject or "", email_body=template.body)
        else:
            fields["sms_body"] = template.body
    own = {name: MessageText(**fields) for name, fields in found.items()}
    return {**{f"Starter: {name}": text for name, text in STARTERS.items()}, **own}


def use_template(tenant_id: int, variant: str) -> None:
    """Fill a variant's texts (and an empty brief) from the template picked in the library."""
    text = library(tenant_id).get(str(st.session_state.get(LIBRARY)))
    if text is None:
        return
    for field in FIELDS:
        value = getattr(text, field)
        if value or field != "brief":
            st.session_state[key(variant, field)] = value


def draft_with_ai(tenant_id: int, draft: CampaignDraft, lead_id: int | None) -> None:
    """Let the writer fill variant A's texts from its brief, for a lead of the audience; then save."""
    if lead_id is None:
        state.flash("error", "Choose an audience with at least one lead first: the writer drafts for one of them.")
        return
    brief = str(st.session_state.get(key("A", "brief")) or "")
    who = session.identity()
    operator_id = who.operator_id if who is not None else -1  # no identity: refused by the service
    try:
        for channel in draft.wizard.channels or ("email", "sms"):
            written = campaign_ai.draft_with_ai(
                tenant_id=tenant_id,
                lead_id=lead_id,
                channel=channel,
                brief=brief,
                now=session.now(),
                operator_id=operator_id,
            )
            if channel == "email":
                st.session_state[key("A", "email_subject")] = written.subject or ""
                st.session_state[key("A", "email_body")] = written.body
            else:
                st.session_state[key("A", "sms_body")] = written.body
    except (ValueError, LookupError, PermissionError) as error:
        state.flash("error", str(error))
        return
    if actions.submit(lambda: save_now(tenant_id, draft.id)):
        state.flash("info", f"Drafted by the writer ({written.source}); edit anything before you go on.")


def render(tenant_id: int, draft: CampaignDraft) -> None:
    state.seed_once(draft.id, 3, lambda: seeded(draft))
    channels = draft.wizard.channels or ("email", "sms")
    templates = library(tenant_id)
    pick, use_a, use_b = st.columns([3, 1, 1])
    pick.selectbox("Template library", list(templates), key=LIBRARY, help="Starters, then your own templates.")
    use_a.button("Use for A", key="campaigns.w3.use_a", on_click=use_template, args=(tenant_id, "A"))
    use_b.button(
        "Use for B",
        key="campaigns.w3.use_b",
        on_click=use_template,
        args=(tenant_id, "B"),
        disabled=not st.session_state.get(USE_B),
    )
    st.caption("Variables: " + " · ".join(f"`{{{{{name}}}}}` {what}" for name, what in VARIABLES.items()))
    st.toggle("Test a variant B", key=USE_B, help="Split the audience between two versions of the first message.")
    sample = message_preview.sample(tenant_id, draft)
    with st.form("campaigns.w3"):
        variants = ("A", "B") if st.session_state.get(USE_B) else ("A",)
        for variant in variants:
            variant_fields(variant, channels, labelled=len(variants) > 1)
        if len(variants) > 1:
            st.slider("Share of leads who get A (%)", 1, 99, key=WEIGHT_A, help="The others get B.")
        back, ai, preview, nxt = st.columns(4)
        back.form_submit_button("Back", key="campaigns.w3.back", on_click=save, args=(tenant_id, draft.id, 2))
        ai.form_submit_button(
            "Draft with AI",
            key="campaigns.w3.ai",
            icon=":material/auto_awesome:",
            on_click=draft_with_ai,
            args=(tenant_id, draft, sample[0].id if sample else None),
            help="The writer drafts A's texts from its brief for a lead of the audience (offline without a key).",
        )
        preview.form_submit_button(
            "Preview", key="campaigns.w3.preview", on_click=save, args=(tenant_id, draft.id, None)
        )
        nxt.form_submit_button(
            "Save & next", key="campaigns.w3.next", type="primary", on_click=save, args=(tenant_id, draft.id, 4)
        )
    message_preview.render(draft, sample)


def variant_fields(variant: str, channels: tuple[str, ...], *, labelled: bool) -> None:
    name = f" (variant {variant})" if labelled else ""
    st.text_area(
        f"Brief{name}",
        key=key(variant, "brief"),
        height=68,
        help="What the message is for, in a sentence: the writer uses it when a text is missing or fits no lead.",
    )
    if "email" in channels:
        st.text_input(f"Email subject{name}", key=key(variant, "email_subject"))
        st.text_area(f"Email body{name}", key=key(variant, "email_body"), height=160)
    if "sms" in channels:
        st.text_area(
            f"SMS{name}", key=key(variant, "sms_body"), height=80, help="Say how to opt out: 'Reply STOP to opt out.'"
        )
