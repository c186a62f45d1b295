"""The drawer's "Mark recovered": a rep records that the lead bought, and for how much.

It goes through `app.services.conversions`, the same door as `POST /api/conversions`: the lead
is set recovered, its recovery stops with an audit row, and the sale is credited to the last
message of the 30 days before it (a rep's record keeps the method `manual`). The service checks
the operator again (viewers may not), whatever the page shows.
"""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from app.domain.conversions import ConversionError
from app.services import conversions
from components import format as fmt
from db.lead_detail import LeadHeader
from pages import data, session
from pages.leads.shared import may_act

FLASH = "leads.drawer.recovered.flash"  # (lead id, kind, message) of the last record, shown once
MANUAL = "manual"


def value_key(lead_id: int) -> str:
    return f"leads.drawer.recovered.{lead_id}.value"


def form_key(lead_id: int) -> str:
    return f"leads.drawer.recovered.{lead_id}"


def record(tenant_id: int, lead_id: int) -> None:
    """The form's submit callback: record the sale at the console's clock, and say how it went."""
    who = session.identity()
    value = st.session_state.get(value_key(lead_id))
    try:
        if who is None:
            raise PermissionError("Sign in to record a sale.")
        recorded = conversions.record_conversion(
            tenant_id=tenant_id,
            lead_id=lead_id,
            value=Decimal(str(value)),
            converted_at=session.now(),
            method=MANUAL,
            operator_id=who.operator_id,
            now=session.now(),
        )
    except (ConversionError, PermissionError) as err:
        st.session_state[FLASH] = (lead_id, "error", str(err))
        return
    data.forget_leads()
    data.forget_lead_detail()
    st.session_state[FLASH] = (lead_id, "success", f"Marked recovered: {fmt.money(recorded.value, cents=True)}.")


def flash(lead_id: int) -> None:
    outcome = st.session_state.get(FLASH)
    if isinstance(outcome, tuple) and outcome[0] == lead_id:
        st.session_state.pop(FLASH)
        _, kind, message = outcome
        (st.success if kind == "success" else st.error)(message.replace("$", "\\$"))


def mark_recovered(tenant_id: int, header: LeadHeader) -> None:
    """A value (the lead's deal value to start with) and a button; a viewer reads why not."""
    st.markdown("**Mark recovered**")
    flash(header.id)
    if not may_act():
        st.caption("Viewers can see sales but not record them.")
        return
    if header.state == "recovered":
        st.caption("Already recovered: another sale adds to what this lead brought back.")
    with st.form(form_key(header.id), border=False):
        st.number_input(
            "Sale value ($)",
            min_value=0.0,
            value=float(header.deal_value),
            step=50.0,
            format="%.2f",
            key=value_key(header.id),
            help="What the lead bought for; the lead's deal value to start with.",
        )
        st.form_submit_button("Mark recovered", icon=":material/paid:", on_click=record, args=(tenant_id, header.id))
