"""Agents: proof the background team is working, and in which mode.

Top to bottom: which providers and AI are live; what each agent did last (the `agent_runs`
ledger, PostgreSQL); then the machinery from Redis (`pages/agent_machinery.py`): queue depths
and workers, failed jobs with a Retry, the cron schedulers; the outbox, where sandbox
messages (stored, never sent) can be read and held ones settled (`pages/held_messages.py`);
and deliverability, what the providers' webhooks brought in the last 24 hours as the applier
recorded it. Each part refreshes on its own fragment timer, so a failing worker or a growing
queue shows without touching the page.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app.settings import Settings, get_settings
from components import badges, tables
from components import format as fmt
from components.metrics import Card, metric_cards
from db.models import MESSAGE_STATUSES
from pages import agent_machinery as machinery
from pages import data, held_messages, session, sms_deliverability

HEARTBEAT_STALE = dt.timedelta(minutes=10)


def modes(settings: Settings) -> None:
    st.subheader("Providers and AI")
    cols = st.columns(3)
    with cols[0]:
        live = settings.ai_mode == "claude"
        badges.mode_badge("AI: Claude" if live else "AI: offline", live=live, help="Who writes the messages.")
        st.caption(
            f"Claude ({settings.anthropic_model}) writes the recovery messages and the lead insights."
            if live
            else "No API key: the offline writer fills templates, and insights follow rules."
        )
    with cols[1]:
        live = settings.email_provider != "sandbox"
        badges.mode_badge(f"Email: {settings.email_provider}", live=live, help="Where emails go.")
        st.caption("Emails go out through SendGrid." if live else "Emails are stored in the sandbox, never sent.")
    with cols[2]:
        live = settings.sms_provider != "sandbox"
        badges.mode_badge(f"SMS: {settings.sms_provider}", live=live, help="Where SMS go.")
        st.caption("SMS go out through Twilio." if live else "SMS are stored in the sandbox, never sent.")


def heartbeat_card(last: dt.datetime | None, now: dt.datetime) -> Card:
    stale = last is None or now - last > HEARTBEAT_STALE
    return Card(
        "Cron heartbeat",
        fmt.ago(last, now),
        "When the newest heartbeat job ran: cron enqueued it and a worker ran it. "
        f"Older than {int(HEARTBEAT_STALE.total_seconds() // 60)} min means cron or the workers are down.",
        delta="stale" if stale else None,
        alarm=True,
    )


def with_summary(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame.copy()
    shown["summary"] = [tables.compact_counts(c) for c in shown["counts"]]
    return shown


RUN_COLUMNS = {
    "agent": tables.text_column("Agent"),
    "status": tables.text_column("Status"),
    "started_at": tables.time_column("Started"),
    "seconds": tables.number_column("Seconds", format="%.1f", help="Wall-clock time of the run, start to finish."),
    "summary": tables.text_column("Did"),
    "error": tables.text_column("Error"),
    "host": tables.text_column("Host"),
}


@st.fragment(run_every="10s")
def live_runs(tenant_id: int) -> None:
    now = session.now()
    platform = session.sees_platform()
    status = data.agent_status(tenant_id, platform)
    failed = int((status["status"] == "failed").sum()) if not status.empty else 0
    metric_cards(
        [
            heartbeat_card(data.last_heartbeat(), now),
            Card(
                "Agents seen",
                fmt.count(len(status)),
                "Agents with at least one run for this tenant (admins: or for no tenant).",
            ),
            Card("Failing now", fmt.count(failed), "Agents whose latest run failed."),
        ]
    )
    empty = (
        "No agent has run yet",
        "`make run` starts the cron and the workers; the heartbeat appears within a minute. "
        "Without them, run `rq worker` and `rq cron agents/cron.py` (see the Procfile).",
    )
    st.subheader("Latest run of each agent")
    tables.data_table(with_summary(status), RUN_COLUMNS, empty=empty, key="agents.status")
    st.subheader("Recent runs")
    tables.data_table(
        with_summary(data.agent_runs_latest(tenant_id, platform)), RUN_COLUMNS, empty=empty, key="agents.runs"
    )


# --- outbox ----------------------------------------------------------------------------------

OUTBOX_COLUMNS = {
    "created_at": tables.time_column("Created"),
    "status": tables.text_column("Status"),
    "channel": tables.text_column("Channel"),
    "to_address": tables.text_column("To"),
    "lead": tables.text_column("Lead"),
    "source": tables.text_column("Source", help="ai, ai_cache (our cache), template, offline, manual."),
    "provider": tables.text_column("Provider"),
    "provider_message_id": tables.text_column("Provider id"),
    "subject": tables.text_column("Subject"),
    "body": tables.text_column("Body", width="large"),
    "attempts": tables.number_column("Attempts", help="Provider calls made for this message (retries after 429/5xx)."),
    "last_error": tables.text_column("Last error"),
    "sent_at": tables.time_column("Sent"),
}


def sandbox_note(settings: Settings) -> None:
    channels = (("email", settings.email_provider), ("SMS", settings.sms_provider))
    sandboxed = [name for name, provider in channels if provider == "sandbox"]
    if sandboxed:
        st.caption(
            f"Sandbox ({' and '.join(sandboxed)}): these messages are stored here and never leave the machine; "
            "'sent' means the sandbox provider accepted them."
        )


@st.fragment(run_every="5s")
def live_outbox(tenant_id: int) -> None:
    """The newest outbound messages, optionally of one status; bodies are shown as plain text."""
    status = st.selectbox(
        "Status",
        [None, *MESSAGE_STATUSES],
        format_func=lambda s: "All statuses" if s is None else s,
        key="agents.outbox_status",
    )
    box = data.outbox(tenant_id, status)
    if box.last_24h:
        st.caption("Last 24 h: " + " · ".join(f"{name} {fmt.count(n)}" for name, n in box.last_24h.items()))
    tables.data_table(
        box.rows,
        OUTBOX_COLUMNS,
        empty=(
            "No message yet" if status is None else f"No {status} message",
            "The writer puts a message here for each due send; the sender moves it to sent.",
        ),
        key="agents.outbox",
    )
    if status == "held":
        held_messages.section(tenant_id, any_held=len(box.rows) > 0)


# --- deliverability --------------------------------------------------------------------------

DELIVERABILITY_COLUMNS = {
    "provider": tables.text_column("Provider"),
    "endpoint": tables.text_column("Endpoint"),
    "deliveries": tables.number_column("Deliveries", help="POSTs accepted (signature and body good)."),
    "waiting": tables.number_column("Waiting", help="Accepted, not applied yet: the listener applies them."),
    "rejected": tables.number_column("Rejected", help="POSTs refused: bad or missing signature, bad body."),
    "events": tables.number_column("Events", help="Events in the applied deliveries."),
    "applied": tables.number_column("Applied", help="New events acted on (statuses, timeline, opt-outs)."),
    "duplicates": tables.number_column("Duplicates", help="Events the provider sent again: applied once."),
    "unmatched": tables.number_column("Unmatched", help="Events naming no message of ours: kept, not applied."),
    "ignored": tables.number_column("Ignored", help="Events of kinds we do not act on: kept, not applied."),
    "last_received_at": tables.time_column("Last received"),
}


def deliverability_cards(frame: pd.DataFrame) -> list[Card]:
    def total(column: str) -> str:
        return fmt.count(int(frame[column].sum()) if not frame.empty else 0)

    return [
        Card("Deliveries", total("deliveries"), "Webhook POSTs accepted in the last 24 h (all tenants)."),
        Card("Events", total("events"), "Events in the deliveries applied in the last 24 h."),
        Card("Duplicates", total("duplicates"), "Events redelivered by the provider, applied only once."),
        Card("Unmatched", total("unmatched"), "Events naming no message of ours: kept raw, never applied."),
        Card("Ignored", total("ignored"), "Events of kinds we do not act on: kept raw, never applied."),
        Card("Rejected", total("rejected"), "POSTs refused (signature or body): logged, never applied."),
    ]


@st.fragment(run_every="10s")
def deliverability_section() -> None:
    """What the providers' webhooks brought in the last 24 hours, as the applier recorded it."""
    frame = data.webhook_deliverability(session.pinned_clock())
    metric_cards(deliverability_cards(frame))
    st.caption("All tenants: a provider posts every tenant's events together. Last 24 hours.")
    tables.data_table(
        frame,
        DELIVERABILITY_COLUMNS,
        empty=(
            "No webhook delivery in the last 24 hours",
            "Providers post events here once their webhooks point at this api (see the README's api table).",
        ),
        key="agents.deliverability",
    )


def render() -> None:
    tenant = session.current_tenant()
    settings = get_settings()
    st.title("Agents")
    modes(settings)
    live_runs(tenant.id)
    queues_tab, failed_tab, cron_tab, outbox_tab, webhooks_tab = st.tabs(
        ["Queues & workers", "Failed jobs", "Scheduler", "Outbox", "Deliverability"]
    )
    with queues_tab:
        machinery.live_queues()
    with failed_tab:
        machinery.failed_section(tenant.id)
    with cron_tab:
        machinery.scheduler_section()
    with outbox_tab:
        sandbox_note(settings)
        live_outbox(tenant.id)
    with webhooks_tab:
        sms_deliverability.section(tenant.id)
        deliverability_section()


if __name__ == "__main__":
    render()
