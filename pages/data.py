"""The console's reads: `db/queries.py` behind `st.cache_data`, one TTL per kind of figure.

Every cached read takes plain, hashable arguments (the tenant id first) and builds no SQL:
it passes the process's engine to the query function that defines the figure. TTLs follow
how fast a figure moves and how much a stale one matters: the live counts refresh in
seconds, the daily rollups in minutes.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app import runtime
from app.ai import health as ai_health
from app.ai import insight
from app.domain import priority
from app.services import ab_decisions, operators
from app.services import agent_status as machinery
from app.services import api_keys as api_keys_service
from app.services import insight as insight_service
from db import (
    agent_reads,
    dashboard,
    deliverability,
    lead_detail,
    outbox_reads,
    queries,
    sms_deliverability,
    suppressions,
)
from db import campaigns as campaign_reads
from db import holdout as holdout_reads
from db import recovery_progress as progress_reads
from db import replies as db_replies
from db import replies as reply_reads

PULSE = dt.timedelta(seconds=2)  # what a rep just set in motion, and the queues: read at every 3-5 s refresh
LIVE = dt.timedelta(seconds=10)
FRESH = dt.timedelta(seconds=30)
SLOW = dt.timedelta(minutes=5)
MANY = 256  # reads keyed by free-form filters keep at most this many results (memory per server)


@st.cache_data(ttl=FRESH, show_spinner=False)
def tenants() -> list[queries.TenantRow]:
    return queries.list_tenants(runtime.engine())


@st.cache_data(ttl=SLOW, show_spinner=False)
def demo_sign_in() -> str | None:
    return operators.demo_sign_in()


@st.cache_data(ttl=LIVE, show_spinner=False)
def recovery_summary(tenant_id: int, now: dt.datetime | None = None) -> queries.RecoverySummary:
    """`now`: the console's pinned clock (`session.pinned_clock()`), None for the real one."""
    return queries.recovery_summary(runtime.engine(), tenant_id, now=now)


@st.cache_data(ttl=FRESH, show_spinner=False, max_entries=MANY)
def leads_page(tenant_id: int, lead_filter: queries.LeadFilter, limit: int, offset: int) -> queries.LeadsPage:
    return queries.leads_page(runtime.engine(), tenant_id, lead_filter, limit=limit, offset=offset)


@st.cache_data(ttl=FRESH, show_spinner=False, max_entries=MANY)
def score_distribution(tenant_id: int, states: tuple[str, ...]) -> pd.DataFrame:
    return queries.score_distribution(runtime.engine(), tenant_id, states)


@st.cache_data(ttl=FRESH, show_spinner=False)
def lead_scatter(tenant_id: int, now: dt.datetime | None = None) -> tuple[pd.DataFrame, int]:
    return queries.lead_scatter(runtime.engine(), tenant_id, now=now)


@st.cache_data(ttl=FRESH, show_spinner=False)
def campaigns(tenant_id: int) -> pd.DataFrame:
    return campaign_reads.campaigns(runtime.engine(), tenant_id)


@st.cache_data(ttl=LIVE, show_spinner=False, max_entries=MANY)
def ab_report(tenant_id: int, campaign_id: int) -> ab_decisions.AbReport:
    """A campaign's A/B test (raises LookupError, uncached, for a campaign the tenant does not have)."""
    return ab_decisions.ab_report(tenant_id=tenant_id, campaign_id=campaign_id)


@st.cache_data(ttl=LIVE, show_spinner=False)
def replies_inbox(tenant_id: int, include_handled: bool) -> reply_reads.Inbox:
    return reply_reads.replies_inbox(runtime.engine(), tenant_id, include_handled=include_handled)


@st.cache_data(ttl=SLOW, show_spinner=False)
def engagement_heatmap(tenant_id: int, days: int) -> pd.DataFrame:
    return outbox_reads.engagement_heatmap(runtime.engine(), tenant_id, days=days)


@st.cache_data(ttl=SLOW, show_spinner=False)
def holdout_comparison(tenant_id: int, days: int, now: dt.datetime | None = None) -> holdout_reads.HoldoutComparison:
    return holdout_reads.holdout_comparison(runtime.engine(), tenant_id, days=days, now=now)


@st.cache_data(ttl=LIVE, show_spinner=False)
def agent_runs_latest(tenant_id: int, platform: bool) -> pd.DataFrame:
    return agent_reads.agent_runs_latest(runtime.engine(), tenant_id, platform=platform)


@st.cache_data(ttl=LIVE, show_spinner=False)
def agent_status(tenant_id: int, platform: bool) -> pd.DataFrame:
    return agent_reads.agent_status(runtime.engine(), tenant_id, platform=platform)


@st.cache_data(ttl=LIVE, show_spinner=False)
def last_heartbeat() -> dt.datetime | None:
    return agent_reads.last_heartbeat(runtime.engine())


@st.cache_data(ttl=SLOW, show_spinner=False)
def tenant_settings(tenant_id: int) -> queries.TenantSettings | None:
    return queries.tenant_settings(runtime.engine(), tenant_id)


@st.cache_data(ttl=PULSE, show_spinner=False, max_entries=MANY)
def recovery_progress(tenant_id: int, lead_ids: tuple[int, ...]) -> pd.DataFrame:
    return progress_reads.recovery_progress(runtime.engine(), tenant_id, lead_ids)


@st.cache_data(ttl=PULSE, show_spinner=False, max_entries=MANY)
def outbox(tenant_id: int, status: str | None) -> outbox_reads.Outbox:
    return outbox_reads.outbox(runtime.engine(), tenant_id, status=status)


@st.cache_data(ttl=FRESH, show_spinner=False)
def carrier_filtered(tenant_id: int, now: dt.datetime | None = None) -> int:
    """Texts a carrier filtered (Twilio 30007) in the last 24 h; `now` is the console's pinned clock."""
    return sms_deliverability.carrier_filtered(runtime.engine(), tenant_id, now=now)


@st.cache_data(ttl=LIVE, show_spinner=False)
def webhook_deliverability(now: dt.datetime | None = None) -> pd.DataFrame:
    """The last 24 h of provider webhooks, per endpoint (all tenants: a delivery mixes them)."""
    return deliverability.webhook_deliverability(runtime.engine(), now=now)


@st.cache_data(ttl=PULSE, show_spinner=False)
def ai_degraded(now: dt.datetime | None = None) -> ai_health.Degraded | None:
    """Claude's recent trouble (a Redis marker, all tenants: it is about the API); `now` is the
    console's pinned clock."""
    return ai_health.degraded(now=(now or dt.datetime.now(dt.UTC)).timestamp())


# Redis, through app/services/machinery.py (pages never import rq or redis).


@st.cache_data(ttl=PULSE, show_spinner=False)
def queue_overview() -> list[machinery.QueueDepth]:
    return machinery.queue_overview()


@st.cache_data(ttl=PULSE, show_spinner=False)
def workers() -> list[machinery.WorkerStatus]:
    return machinery.workers()


@st.cache_data(ttl=PULSE, show_spinner=False)
def failed_jobs(tenant_id: int, limit: int, platform: bool) -> list[machinery.FailedJob]:
    return machinery.failed_jobs(limit, tenant_id=tenant_id, platform=platform)


@st.cache_data(ttl=LIVE, show_spinner=False)
def cron_schedulers() -> list[machinery.CronSchedulerStatus]:
    return machinery.cron_schedulers()


def forget_queues() -> None:
    """After a retry: the queue and failed-job figures must show the move at once."""
    queue_overview.clear()
    failed_jobs.clear()


def forget_leads() -> None:
    """After a Recover now: the silent list, the counts and the leads table must show the leads moved.

    Whole functions are cleared, every tenant's entries with them: an entry's key depends on how
    its arguments were passed, and a re-read of the others costs milliseconds.
    """
    recovery_summary.clear()
    period_figures.clear()
    filtered_silent_leads.clear()
    leads_page.clear()
    score_distribution.clear()
    lead_scatter.clear()
    priority_queue.clear()


def forget_rules() -> None:
    """After a Settings save: the rules, and the figures the silence ladder defines, must show the change."""
    tenant_settings.clear()
    recovery_summary.clear()
    period_figures.clear()
    filtered_silent_leads.clear()
    leads_page.clear()


@st.cache_data(ttl=FRESH, show_spinner=False)
def api_keys(tenant_id: int) -> list[api_keys_service.KeyInfo]:
    """The tenant's API keys as a list shows them (prefixes, never the keys)."""
    return api_keys_service.list_keys(tenant_id=tenant_id)


def forget_api_keys() -> None:
    """After a key was made or revoked: the list must show it at once."""
    api_keys.clear()


# --- Leads page: the call list and the lead drawer (db/lead_detail.py, app/services/insight.py) ---


@st.cache_data(ttl=FRESH, show_spinner=False)
def priority_queue(tenant_id: int, limit: int = 10) -> pd.DataFrame:
    return lead_detail.priority_queue(
        runtime.engine(),
        tenant_id,
        states=priority.QUEUED_STATES,
        half_life_days=priority.RECENCY_HALF_LIFE_DAYS,
        limit=limit,
    )


@st.cache_data(ttl=LIVE, show_spinner=False, max_entries=MANY)
def lead_header(tenant_id: int, lead_id: int) -> lead_detail.LeadHeader | None:
    return lead_detail.lead_header(runtime.engine(), tenant_id, lead_id)


@st.cache_data(ttl=LIVE, show_spinner=False, max_entries=MANY)
def lead_timeline(tenant_id: int, lead_id: int, zone: str) -> pd.DataFrame:
    return lead_detail.lead_timeline(runtime.engine(), tenant_id, lead_id, zone=zone)


@st.cache_data(ttl=LIVE, show_spinner=False, max_entries=MANY)
def lead_suppressions(tenant_id: int, lead_id: int) -> list[suppressions.LeadSuppression]:
    """Live: an unsubscribe or a STOP arrives through the api at any moment."""
    return suppressions.lead_suppressions(runtime.engine(), tenant_id, lead_id)


@st.cache_data(ttl=LIVE, show_spinner=False, max_entries=MANY)
def stored_insight(tenant_id: int, lead_id: int) -> insight.Insight | None:
    return insight_service.stored_insight(tenant_id=tenant_id, lead_id=lead_id)


def forget_lead_detail() -> None:
    """After a sale was recorded in the drawer: its header and timeline must show it at once."""
    lead_header.clear()
    lead_timeline.clear()


def forget_all() -> None:
    """After an erasure or a retention change: any cached read of any page may hold the lead, so
    this console process keeps none of it."""
    st.cache_data.clear()


def forget_insight() -> None:
    """After an insight was written: the drawer must show it, not the cached 'none yet'."""
    stored_insight.clear()


# The Recovery dashboard's period figures, filtered worklist and live feed (db/dashboard.py).
# Each takes `now`, the console's pinned clock (`session.pinned_clock()`): None in production,
# so one cache entry per figure; a test that pins the clock gets the figures of that instant.


@st.cache_data(ttl=FRESH, show_spinner=False)
def period_figures(tenant_id: int, days: int, now: dt.datetime | None = None) -> dashboard.PeriodFigures:
    return dashboard.period_figures(runtime.engine(), tenant_id, days=days, now=now)


@st.cache_data(ttl=FRESH, show_spinner=False, max_entries=MANY)
def filtered_silent_leads(
    tenant_id: int, silent_filter: dashboard.SilentFilter, limit: int, round_: int, now: dt.datetime | None = None
) -> pd.DataFrame:
    """`round_` is the dashboard's Recover round: a Recover now starts a new one, so the list
    is read afresh and shows the enrolled leads gone."""
    return dashboard.silent_leads(runtime.engine(), tenant_id, silent_filter, limit=limit, now=now)


@st.cache_data(ttl=SLOW, show_spinner=False)
def lead_owners(tenant_id: int) -> list[dashboard.Owner]:
    return dashboard.owners(runtime.engine(), tenant_id)


@st.cache_data(ttl=PULSE, show_spinner=False)
def activity_feed(tenant_id: int, limit: int, now: dt.datetime | None = None) -> pd.DataFrame:
    return dashboard.activity_feed(runtime.engine(), tenant_id, limit=limit, now=now)


@st.cache_data(ttl=dt.timedelta(seconds=4), show_spinner=False, max_entries=MANY)
def replies_since(tenant_id: int, since: dt.datetime | None) -> int:
    """Polled by every open inbox: cached briefly, so tabs on one tenant share a read."""
    return reply_reads.unhandled_since(runtime.engine(), tenant_id, since)


def forget_replies() -> None:
    """After an inbox action: the reply must move (handled) and the counts follow at once."""
    replies_inbox.clear()
    reply_thread.clear()
    replies_since.clear()


@st.cache_data(ttl=LIVE, show_spinner=False)
def reply_thread(tenant_id: int, lead_id: int) -> pd.DataFrame:
    return db_replies.thread(runtime.engine(), tenant_id, lead_id)


@st.cache_data(ttl=LIVE, show_spinner=False)
def reply_lead_owners(tenant_id: int, lead_ids: tuple[int, ...]) -> dict[int, str | None]:
    return db_replies.lead_owners(runtime.engine(), tenant_id, list(lead_ids))
