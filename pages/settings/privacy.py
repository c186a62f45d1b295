"""Settings → Privacy: how long closed leads are kept, and erasing one lead on request.

Only an owner or an admin of the tenant sees this section; the services check the same rule
again, reading the operator's role from the database (`app.services.erasure.check_eraser`),
so a tampered session gains nothing. Erasing asks for the lead id twice: once to pick it, once
typed again to confirm, since it cannot be undone.
"""

from __future__ import annotations

import streamlit as st

from app.services import erasure, retention
from pages import data, session

FLASH = "settings.privacy.flash"  # (kind, message) of the last save or erasure, shown once
KEEP_FOREVER = 0


def key(tenant_id: int, field: str) -> str:
    return f"settings.{tenant_id}.privacy.{field}"


def save_retention(tenant_id: int, operator_id: int) -> None:
    """The retention form's callback: 0 days means keep for good."""
    days = int(st.session_state.get(key(tenant_id, "retention_days")) or KEEP_FOREVER)
    try:
        retention.set_retention(tenant_id=tenant_id, operator_id=operator_id, days=days or None)
    except (ValueError, PermissionError, LookupError) as err:
        st.session_state[FLASH] = ("error", str(err))
        return
    data.forget_all()
    kept = f"{days:,} days after they close" if days else "for good"
    st.session_state[FLASH] = ("success", f"Closed leads are now kept {kept}.")


def erase(tenant_id: int, operator_id: int) -> None:
    """The erase button's callback: only when the typed confirmation is the lead id itself."""
    lead_id = st.session_state.get(key(tenant_id, "lead_id"))
    typed = str(st.session_state.get(key(tenant_id, "confirm"), "")).strip()
    if not isinstance(lead_id, int) or lead_id <= 0:
        st.session_state[FLASH] = ("error", "lead id: enter the id of the lead to erase")
        return
    if typed != str(lead_id):
        st.session_state[FLASH] = ("error", f"confirm: type {lead_id} to confirm the erasure; nothing was erased")
        return
    try:
        report = erasure.erase_lead(tenant_id=tenant_id, lead_id=lead_id, operator_id=operator_id)
    except PermissionError as err:
        st.session_state[FLASH] = ("error", str(err))
        return
    except LookupError as err:  # no such lead in this tenant: the field to correct is the lead id
        st.session_state[FLASH] = ("error", f"lead id: {err}")
        return
    data.forget_all()
    st.session_state[key(tenant_id, "confirm")] = ""
    st.session_state[FLASH] = ("success", f"Lead {lead_id}: {report.summary()}. It will not be contacted again.")


def flash() -> None:
    outcome = st.session_state.pop(FLASH, None)
    if outcome is not None:
        kind, message = outcome
        (st.success if kind == "success" else st.error)(message)


def privacy_section(tenant_id: int, retention_days: int | None) -> None:
    """The section, for an owner or an admin of this tenant; others are told who may use it."""
    st.subheader("Privacy")
    who = session.identity()
    if who is None or not erasure.may_erase(role=who.role, operator_tenant_id=who.tenant_id, tenant_id=tenant_id):
        role = who.role if who is not None else "signed out"
        st.caption(f"Only an owner or an admin of this tenant can set retention and erase leads (you are: {role}).")
        return
    flash()
    with st.form(key(tenant_id, "retention")):
        st.number_input(
            "Keep closed leads for (days, 0 = for good)",
            min_value=0,
            max_value=retention.MAX_RETENTION_DAYS,
            value=retention_days or KEEP_FOREVER,
            step=1,
            key=key(tenant_id, "retention_days"),
            help="Recovered and lost leads untouched this long are anonymised every hour; their counts and "
            "revenue stay.",
        )
        st.form_submit_button("Save retention", on_click=save_retention, args=(tenant_id, who.operator_id))
    st.markdown("**Erase a lead**")
    st.caption(
        "Removes the lead's name, email, phone and every word they wrote or were sent, everywhere; counts "
        "and revenue stay. The address is remembered only as a fingerprint, so the lead is never contacted "
        "again, even if imported again. This cannot be undone."
    )
    left, right = st.columns(2)
    left.number_input("Lead id", min_value=1, step=1, value=None, key=key(tenant_id, "lead_id"))
    right.text_input("Type the lead id again to confirm", key=key(tenant_id, "confirm"), max_chars=20)
    st.button(
        "Erase lead", type="primary", key=key(tenant_id, "erase"), on_click=erase, args=(tenant_id, who.operator_id)
    )
