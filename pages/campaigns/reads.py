"""The Campaigns page's reads, behind `st.cache_data` like those of `pages/data.py`.

The audience preview and the review are read live (a few seconds): the counts move as leads
go silent, answer or opt out, and an operator about to launch wants today's figures. A draft
itself is read uncached (`campaign_drafts.load_draft`): the wizard shows what was just saved.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app import runtime
from app.domain.audience import Audience
from app.services import audiences, campaign_estimates
from db import campaigns as campaign_reads
from pages import data


@st.cache_data(ttl=data.LIVE, show_spinner=False)
def queues(tenant_id: int) -> pd.DataFrame:
    return campaign_reads.campaign_queues(runtime.engine(), tenant_id)


@st.cache_data(ttl=data.FRESH, show_spinner=False, max_entries=data.MANY)
def events(tenant_id: int, campaign_id: int) -> pd.DataFrame:
    return campaign_reads.campaign_events(runtime.engine(), tenant_id, campaign_id)


@st.cache_data(ttl=data.SLOW, show_spinner=False)
def audience_options(tenant_id: int) -> campaign_reads.AudienceOptions:
    return campaign_reads.audience_options(runtime.engine(), tenant_id)


@st.cache_data(ttl=data.FRESH, show_spinner=False)
def template_library(tenant_id: int) -> list[campaign_reads.LibraryTemplate]:
    return campaign_reads.template_library(runtime.engine(), tenant_id)


@st.cache_data(ttl=data.LIVE, show_spinner=False, max_entries=data.MANY)
def audience_preview(tenant_id: int, audience: Audience, now: dt.datetime | None) -> audiences.AudiencePreview:
    """`now`: the console's pinned clock, None for the real one (silence is counted from it)."""
    return audiences.preview(tenant_id=tenant_id, audience=audience, now=now or dt.datetime.now(dt.UTC))


@st.cache_data(ttl=data.PULSE, show_spinner=False, max_entries=data.MANY)
def review(tenant_id: int, campaign_id: int, now: dt.datetime | None) -> campaign_estimates.Review:
    return campaign_estimates.review(tenant_id=tenant_id, campaign_id=campaign_id, now=now or dt.datetime.now(dt.UTC))


def forget_campaigns() -> None:
    """After a save, a launch, a pause or a kill: the list, the queues and the review show it at once."""
    data.campaigns.clear()
    queues.clear()
    events.clear()
    review.clear()
    template_library.clear()
