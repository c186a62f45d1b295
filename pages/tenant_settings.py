"""Settings: the rules this tenant sends by; admins and the tenant's managers may change the recovery rules.

The form saves through `app.services.tenant_settings` in its submit callback, which runs before
the page is drawn, so the facts above the form already show the saved values. Widget keys carry
the tenant id, so picking another tenant shows that tenant's values, not the last one typed.
"""

from __future__ import annotations

import streamlit as st

from app.domain.unsubscribe import MAX_VALID_DAYS, MIN_VALID_DAYS
from app.services import tenant_settings as rules_service
from components import format as fmt
from components import tables
from db.queries import TenantSettings
from pages import data, session
from pages.roi import readers as roi_readers
from pages.roi.prices import prices_section
from pages.settings.api_keys import api_keys_section
from pages.settings.messages import messages_section
from pages.settings.privacy import privacy_section

FLASH = "settings.flash"  # (kind, message) of the last save, shown once


def key(tenant_id: int, field: str) -> str:
    return f"settings.{tenant_id}.{field}"


def parse_ladder(text: str) -> list[int]:
    """`"24, 48, 72"` as hours; raises `ValueError` naming the field on anything but whole numbers."""
    parts = [p.strip() for p in text.split(",")]
    if parts == [""]:
        return []
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ValueError("Silence ladder: enter whole hours separated by commas, e.g. 24, 48, 72") from None


def save(tenant_id: int, operator_id: int) -> None:
    """The form's submit callback: save what was typed, and say how it went."""
    state = st.session_state
    try:
        rules_service.update_recovery_rules(
            tenant_id=tenant_id,
            operator_id=operator_id,
            ladder_hours=parse_ladder(str(state[key(tenant_id, "ladder")])),
            cooldown_hours=int(state[key(tenant_id, "cooldown")]),
            holdout_percent=int(state[key(tenant_id, "holdout")]),
            scan_cap=int(state[key(tenant_id, "scan_cap")]),
            send_window_start_hour=int(state[key(tenant_id, "window_start")]),
            send_window_end_hour=int(state[key(tenant_id, "window_end")]),
            unsubscribe_link_days=int(state[key(tenant_id, "unsubscribe_days")]),
        )
    except (ValueError, PermissionError, LookupError) as err:
        state[FLASH] = ("error", str(err))
        return
    data.forget_rules()
    state[FLASH] = ("success", "Recovery rules saved.")


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
        ("Unsubscribe links work for", f"{s.unsubscribe_link_days:,} days after the message"),
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


def rules_form(s: TenantSettings, operator_id: int) -> None:
    """The editable recovery rules; quiet hours and the sender identity stay read-only here.

    Each input is bounded as the service is, so a typed 9e15 never reaches the database (an
    int4 column); a bound widens (min/max) to a stored value beyond it, which would otherwise stop the page,
    and the service still names the field that is out of range.
    """
    st.subheader("Change recovery rules")
    with st.form(key(s.id, "form")):
        st.text_input(
            "Silence ladder (hours, comma-separated)",
            value=", ".join(str(h) for h in s.silence_ladder_hours),
            key=key(s.id, "ladder"),
            help="Strictly increasing positive hours of silence, e.g. 24, 48, 72 (each at most a year).",
            max_chars=200,
        )
        left, middle, right = st.columns(3)
        left.number_input(
            "Cool-down (hours)",
            value=s.cooldown_hours,
            min_value=min(0, s.cooldown_hours),
            max_value=max(rules_service.MAX_COOLDOWN_HOURS, s.cooldown_hours),
            step=1,
            key=key(s.id, "cooldown"),
            help="A lead contacted less than this long ago is not enrolled again by the scanner.",
        )
        middle.number_input(
            "Control hold-out (%)",
            value=s.holdout_percent,
            min_value=min(0, s.holdout_percent),
            max_value=max(rules_service.MAX_HOLDOUT_PERCENT, s.holdout_percent),
            step=1,
            key=key(s.id, "holdout"),
            help="Share of silent leads (0-50 %) held out at random and never contacted: the control group "
            "the ROI page measures lift against.",
        )
        right.number_input(
            "Leads enrolled per scan, at most",
            value=s.scan_cap,
            min_value=min(1, s.scan_cap),
            max_value=max(rules_service.MAX_SCAN_CAP, s.scan_cap),
            step=1,
            key=key(s.id, "scan_cap"),
            help="The most leads one scan enrolls, so a backlog reaches the outbox in steady batches.",
        )
        start, end = st.columns(2)
        start.number_input(
            "Send window starts (hour)",
            value=s.send_window_start_hour,
            min_value=min(0, s.send_window_start_hour),
            max_value=max(23, s.send_window_start_hour),
            step=1,
            key=key(s.id, "window_start"),
            help="Earliest hour (0-23, the lead's local time) a message may go out; it must be before the end.",
        )
        end.number_input(
            "Send window ends (hour)",
            value=s.send_window_end_hour,
            min_value=min(1, s.send_window_end_hour),
            max_value=max(24, s.send_window_end_hour),
            step=1,
            key=key(s.id, "window_end"),
            help="From this hour on (1-24, the lead's local time) messages wait for the next day's window.",
        )
        st.number_input(
            "Unsubscribe links work for (days)",
            value=s.unsubscribe_link_days,
            min_value=min(MIN_VALID_DAYS, s.unsubscribe_link_days),
            max_value=max(MAX_VALID_DAYS, s.unsubscribe_link_days),
            step=1,
            key=key(s.id, "unsubscribe_days"),
            help="How long the unsubscribe link of a message keeps working: at least 60 days "
            "(CAN-SPAM asks for 30), at most ten years; after that it shows a page that names nobody.",
        )
        st.form_submit_button("Save", type="primary", on_click=save, args=(s.id, operator_id))


def flash() -> None:
    outcome = st.session_state.pop(FLASH, None)
    if outcome is not None:
        kind, message = outcome
        (st.success if kind == "success" else st.error)(message)


def render() -> None:
    tenant = session.current_tenant()
    st.title("Settings")
    s = data.tenant_settings(tenant.id)
    if s is None:
        tables.empty_state("Tenant not found", "It may have been deleted; pick another tenant in the sidebar.")
        return
    st.caption(f"Tenant `{s.slug}`, time zone {s.timezone}.")
    flash()
    left, right = st.columns(2, gap="large")
    with left:
        facts("Recovery rules", rules(s))
    with right:
        facts("Sender identity", sender(s))
    who = session.identity()
    if who is not None and rules_service.may_edit(role=who.role, operator_tenant_id=who.tenant_id, tenant_id=s.id):
        rules_form(s, who.operator_id)
    else:
        role = who.role if who is not None else "signed out"
        st.caption(f"Only an admin or a manager of this tenant can change these rules (you are: {role}).")
    # The prices ROI is costed at, the fixed monthly cost (platform and seats) among them: the same
    # form as on the ROI page, so a manager finds it among the settings too.
    prices_section(s.id, roi_readers.unit_prices(s.id), roi_readers.fixed_monthly(s.id))
    messages_section(s.id)
    api_keys_section(s.id)
    privacy_section(s.id, s.retention_days)


if __name__ == "__main__":
    render()
