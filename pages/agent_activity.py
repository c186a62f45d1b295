"""Agents: proof the background team is working, and in which mode."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app.settings import Settings, get_settings
from components import badges, tables
from components import format as fmt
from components.metrics import Card, metric_cards
from pages import data, session

HEARTBEAT_STALE = dt.timedelta(minutes=10)


def modes(settings: Settings) -> None:
    st.subheader("Mode")
    cols = st.columns(3)
    with cols[0]:
        live = settings.ai_mode == "claude"
        badges.mode_badge("AI: Claude" if live else "AI: offline", live=live, help="Who writes and triages.")
        st.caption(
            f"Claude ({settings.anthropic_model}) writes messages and triages replies."
            if live
            else "No API key: the offline writer fills templates and rules triage replies."
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
    )


def with_summary(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame.copy()
    shown["summary"] = [tables.compact_counts(c) for c in shown["counts"]]
    return shown


RUN_COLUMNS = {
    "agent": tables.text_column("Agent"),
    "status": tables.text_column("Status"),
    "started_at": tables.time_column("Started"),
    "seconds": tables.number_column("Seconds", format="%.1f"),
    "summary": tables.text_column("Did"),
    "error": tables.text_column("Error"),
    "host": tables.text_column("Host"),
}


@st.fragment(run_every="10s")
def live_runs(tenant_id: int) -> None:
    now = dt.datetime.now(dt.UTC)
    status = data.agent_status(tenant_id)
    failed = int((status["status"] == "failed").sum()) if not status.empty else 0
    metric_cards(
        [
            heartbeat_card(data.last_heartbeat(), now),
            Card(
                "Agents seen", fmt.count(len(status)), "Agents with at least one run for this tenant (or all tenants)."
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
    tables.data_table(with_summary(data.agent_runs_latest(tenant_id)), RUN_COLUMNS, empty=empty, key="agents.runs")


def render() -> None:
    tenant = session.current_tenant()
    st.title("Agents")
    modes(get_settings())
    live_runs(tenant.id)


if __name__ == "__main__":
    render()
