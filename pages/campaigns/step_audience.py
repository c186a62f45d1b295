"""Step 2: who the campaign writes to: leads matching criteria, or the leads picked on the lead map.

The count under the form is live (it refreshes in place) for the audience as saved: Count saves
the criteria and counts them. Leads that cannot be written to on the campaign's channels (no
address, no consent, suppressed) are counted apart: they are never contacted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from app.domain.audience import MAX_SCORE, Audience, AudienceCriteria
from app.services import campaign_drafts
from app.services.campaign_drafts import CampaignDraft
from components import format as fmt
from components import tables
from components.metrics import Card, metric_cards
from pages import session
from pages.campaigns import actions, reads, state

P = "campaigns.w.audience."
MODE, STAGES, SOURCES, SCORE = P + "mode", P + "stages", P + "sources", P + "score"
SILENT_MIN, SILENT_MAX, TAGS = P + "silent_min", P + "silent_max", P + "tags"
VALUE_MIN, VALUE_MAX, OWNERS = P + "value_min", P + "value_max", P + "owners"
FORM_KEYS = (STAGES, SOURCES, SCORE, SILENT_MIN, SILENT_MAX, TAGS, VALUE_MIN, VALUE_MAX, OWNERS)
CRITERIA, PICKED = "criteria", "picked"
NO_OWNER = 0
REFRESH = dt.timedelta(seconds=10)


def picked_ids(tenant_id: int, draft: CampaignDraft) -> tuple[int, ...]:
    """The hand-picked leads on offer: a new handover from the lead map, else the draft's own."""
    handed = state.handoff(tenant_id)
    if handed is not None:
        return handed.lead_ids
    return draft.audience.lead_ids if draft.audience is not None else ()


def seeded(draft: CampaignDraft, picked: tuple[int, ...]) -> dict[str, Any]:
    criteria = draft.audience.criteria if draft.audience is not None else None
    c = criteria or AudienceCriteria()
    mode = CRITERIA if criteria is not None or not picked else PICKED
    return {
        MODE: mode,
        STAGES: list(c.stages),
        SOURCES: list(c.sources),
        SCORE: (c.score_min, c.score_max),
        SILENT_MIN: c.silent_hours_min,
        SILENT_MAX: c.silent_hours_max,
        TAGS: list(c.tags),
        VALUE_MIN: c.value_min,
        VALUE_MAX: c.value_max,
        OWNERS: [*c.owner_ids, *([NO_OWNER] if c.unowned else [])],
    }


def criteria_from(values: Mapping[str, Any]) -> AudienceCriteria:
    low, high = values.get(SCORE) or (0, MAX_SCORE)
    owners = list(values.get(OWNERS) or [])
    return AudienceCriteria(
        stages=tuple(values.get(STAGES) or ()),
        sources=tuple(values.get(SOURCES) or ()),
        score_min=int(low),
        score_max=int(high),
        silent_hours_min=_number(values.get(SILENT_MIN)),
        silent_hours_max=_number(values.get(SILENT_MAX)),
        tags=tuple(values.get(TAGS) or ()),
        value_min=_number(values.get(VALUE_MIN)),
        value_max=_number(values.get(VALUE_MAX)),
        owner_ids=tuple(int(o) for o in owners if o != NO_OWNER),
        unowned=NO_OWNER in owners,
    )


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def save(tenant_id: int, campaign_id: int, picked: tuple[int, ...], then: int | None) -> None:
    def store() -> object:
        if st.session_state.get(MODE) == PICKED:
            audience = Audience.of_leads(picked)
        else:
            audience = Audience(criteria=criteria_from({k: st.session_state.get(k) for k in FORM_KEYS}))
        return campaign_drafts.save_audience(
            tenant_id=tenant_id, campaign_id=campaign_id, operator_id=actions.operator(), audience=audience
        )

    if actions.submit(store, then) and st.session_state.get(MODE) == PICKED:
        st.session_state[state.HANDOFF] = None


def _options(saved: list[Any], offered: tuple[Any, ...]) -> list[Any]:
    """What a multiselect offers: the tenant's values, and any saved one no lead has any more."""
    return [*offered, *(v for v in saved if v not in offered)]


def render(tenant_id: int, draft: CampaignDraft) -> None:
    picked = picked_ids(tenant_id, draft)
    state.seed_once(draft.id, 2, lambda: seeded(draft, picked))
    if picked:
        st.radio(
            "Who",
            [CRITERIA, PICKED],
            key=MODE,
            horizontal=True,
            format_func=lambda m: "Leads matching criteria" if m == CRITERIA else f"The {len(picked)} leads picked",
        )
    else:
        st.session_state[MODE] = CRITERIA
    options = reads.audience_options(tenant_id)
    owners = {NO_OWNER: "No owner", **dict(options.owners)}
    with st.form("campaigns.w2"):
        if st.session_state.get(MODE) == PICKED:
            st.caption(f"{fmt.count(len(picked))} leads handed over from the lead map.")
        else:
            criteria_fields(options.stages, options.sources, options.tags, owners)
        back, count, nxt = st.columns(3)
        back.form_submit_button("Back", key="campaigns.w2.back", on_click=save, args=(tenant_id, draft.id, picked, 1))
        count.form_submit_button(
            "Count", key="campaigns.w2.count", on_click=save, args=(tenant_id, draft.id, picked, None)
        )
        nxt.form_submit_button(
            "Save & next", key="campaigns.w2.next", type="primary", on_click=save, args=(tenant_id, draft.id, picked, 3)
        )
    if draft.audience is not None:
        live_count(tenant_id, draft.audience, draft.channels)


def criteria_fields(
    stages: tuple[str, ...], sources: tuple[str, ...], tags: tuple[str, ...], owners: Mapping[int, str]
) -> None:
    left, right = st.columns(2)
    left.multiselect("Stage", _options(st.session_state.get(STAGES, []), stages), key=STAGES, help="Any of these.")
    right.multiselect("Source", _options(st.session_state.get(SOURCES, []), sources), key=SOURCES, help="Any of these.")
    st.slider("Intent score", 0, MAX_SCORE, key=SCORE, help="From … to, both included.")
    left, right = st.columns(2)
    left.number_input(
        "Silent at least (hours)", min_value=0.0, step=1.0, key=SILENT_MIN, help="Since the last activity."
    )
    right.number_input("Silent at most (hours)", min_value=0.0, step=1.0, key=SILENT_MAX)
    left, right = st.columns(2)
    left.number_input("Deal value from ($)", min_value=0.0, step=100.0, key=VALUE_MIN)
    right.number_input("Deal value to ($)", min_value=0.0, step=100.0, key=VALUE_MAX)
    left, right = st.columns(2)
    left.multiselect("Tags", _options(st.session_state.get(TAGS, []), tags), key=TAGS, help="Leads with any of these.")
    right.multiselect(
        "Owner",
        _options(st.session_state.get(OWNERS, []), tuple(owners)),
        key=OWNERS,
        format_func=lambda o: owners.get(o, f"operator {o}"),
    )


@st.fragment(run_every=REFRESH)
def live_count(tenant_id: int, audience: Audience, channels: tuple[str, ...]) -> None:
    """The saved audience, counted now: who matches, who can be written to, and a sample."""
    try:
        found = reads.audience_preview(tenant_id, audience, session.pinned_clock())
    except ValueError as error:
        st.error(str(error))
        return
    reach = found.reach
    used = channels or ("email", "sms")
    metric_cards(
        [
            Card("Matching leads", fmt.count(reach.matching), "Leads of this tenant matching the audience, now."),
            Card("Reachable", fmt.count(reach.reachable(used)), "Those who can be written on the campaign's channels."),
            Card("By email", fmt.count(reach.both + reach.email_only), "An email address, consent, not suppressed."),
            Card("By SMS", fmt.count(reach.both + reach.sms_only), "A phone, SMS consent, not suppressed or refused."),
        ]
    )
    left_out = reach.matching - reach.reachable(used)
    if left_out:
        st.caption(f"{fmt.count(left_out)} matching leads cannot be written to and will not be contacted.")
    sample = pd.DataFrame(
        [
            (
                lead.name,
                lead.stage,
                lead.source,
                lead.intent_score,
                float(lead.deal_value),
                round(lead.silent_hours),
                lead.email_ok,
                lead.sms_ok,
            )
            for lead in found.sample
        ],
        columns=["name", "stage", "source", "score", "value", "silent", "email", "sms"],
    )
    tables.data_table(
        sample,
        {
            "name": tables.text_column("Lead"),
            "stage": tables.text_column("Stage"),
            "source": tables.text_column("Source"),
            "score": tables.score_column(),
            "value": tables.money_column("Deal value"),
            "silent": tables.number_column("Silent (h)"),
            "email": st.column_config.CheckboxColumn("Email ok"),
            "sms": st.column_config.CheckboxColumn("SMS ok"),
        },
        empty=("Nobody matches", "Widen the criteria: every lead must match all of them."),
        key="campaigns.audience.sample",
    )
