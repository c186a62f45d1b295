"""Settings: the rules this tenant sends by (read-only for now)."""

from __future__ import annotations

import streamlit as st

from components import format as fmt
from components import tables
from db.queries import TenantSettings
from pages import data, session


def ladder_text(hours: tuple[int, ...]) -> str:
    return " → ".join(fmt.hours(h) for h in hours)


def window(start: int, end: int) -> str:
    return f"{fmt.hour_of_day(start)}–{fmt.hour_of_day(end)}"


def rules(s: TenantSettings) -> list[tuple[str, str]]:
    return [
        ("Silence ladder", ladder_text(s.silence_ladder_hours)),
        ("Cool-down after a contact", fmt.hours(s.cooldown_hours)),
        ("Control hold-out", f"{s.holdout_percent}% of eligible leads"),
        ("Leads enrolled per scan, at most", fmt.count(s.scan_cap)),
        ("Quiet hours", f"{window(s.quiet_start_hour, s.quiet_end_hour)} ({s.timezone})"),
        ("Send window", f"{window(s.send_window_start_hour, s.send_window_end_hour)} (lead's local time)"),
    ]


def sender(s: TenantSettings) -> list[tuple[str, str]]:
    return [
        ("Sender name", s.sender_name or fmt.MISSING),
        ("Sender email", s.sender_email or fmt.MISSING),
        ("Sender phone (SMS)", s.sender_phone or fmt.MISSING),
        ("Physical address (email footer)", s.physical_address or fmt.MISSING),
        ("Monthly budget", fmt.money(s.monthly_budget)),
        ("Monthly AI budget", fmt.money(s.ai_monthly_budget)),
    ]


def facts(title: str, rows: list[tuple[str, str]]) -> None:
    """Label/value pairs as plain text, so nothing a tenant typed is interpreted as Markdown."""
    st.subheader(title)
    with st.container(border=True):
        for label, value in rows:
            left, right = st.columns([2, 3])
            left.caption(label)
            right.text(value)


def render() -> None:
    tenant = session.current_tenant()
    st.title("Settings")
    s = data.tenant_settings(tenant.id)
    if s is None:
        tables.empty_state("Tenant not found", "It may have been deleted; pick another tenant in the sidebar.")
        return
    st.caption(f"Read-only for now. Tenant `{s.slug}`, time zone {s.timezone}.")
    left, right = st.columns(2, gap="large")
    with left:
        facts("Recovery rules", rules(s))
    with right:
        facts("Sender identity", sender(s))


if __name__ == "__main__":
    render()
