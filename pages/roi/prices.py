"""The unit-price form: who may change the prices the ROI page costs messages at, and the save."""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from app.domain.pricing import UnitPrices
from app.services import pricing as pricing_service
from app.services import tenant_settings as rules_service
from pages import session
from pages.roi import readers
from pages.roi.headline import fixed_note, md, price_note

PRICES_FLASH = "roi.prices_flash"  # (kind, message) of the last price save, shown once


def price_key(tenant_id: int, field: str) -> str:
    return f"roi.{tenant_id}.{field}"


def save_prices(tenant_id: int, operator_id: int) -> None:
    """The form's submit callback: save what was typed, and say how it went."""
    state = st.session_state
    try:
        saved = pricing_service.update_unit_prices(
            tenant_id=tenant_id,
            operator_id=operator_id,
            email=str(state[price_key(tenant_id, "email")]),
            sms=str(state[price_key(tenant_id, "sms")]),
            fixed_monthly=str(state[price_key(tenant_id, "fixed")]),
        )
    except (ValueError, PermissionError, LookupError) as err:
        state[PRICES_FLASH] = ("error", str(err))
        return
    readers.forget_prices()
    saved_fixed = readers.fixed_monthly(tenant_id)
    state[PRICES_FLASH] = ("success", f"Prices saved: {price_note(saved)}; {fixed_note(saved_fixed)}.")


def prices_section(tenant_id: int, prices: UnitPrices, monthly: Decimal) -> None:
    outcome = st.session_state.pop(PRICES_FLASH, None)
    defaults = " (default unit prices)" if prices.is_default else ""
    label = f"Prices: {price_note(prices)}{defaults}; {fixed_note(monthly)}"
    with st.expander(md(label), icon=":material/sell:", expanded=outcome is not None):
        if outcome is not None:
            kind, message = outcome
            (st.success if kind == "success" else st.error)(md(message))
        who = session.identity()
        if who is None or not rules_service.may_edit(
            role=who.role, operator_tenant_id=who.tenant_id, tenant_id=tenant_id
        ):
            role = who.role if who is not None else "signed out"
            st.caption(f"Only an admin or a manager of this tenant can change the prices (you are: {role}).")
            return
        with st.form(price_key(tenant_id, "prices")):
            st.caption(
                md(
                    "Dollars per message sent. Defaults: SendGrid's list price (about $0.001 per email) and "
                    "Twilio's (about $0.0079 per US SMS segment); enter the rates this account pays. The fixed "
                    "cost is what the platform and its seats cost a month, whatever is sent; the report counts "
                    "each day's share (a month is 365.25 ÷ 12 days)."
                )
            )
            left, middle, right = st.columns(3)
            left.text_input("Email, $ per message", value=f"{prices.email:f}", key=price_key(tenant_id, "email"))
            middle.text_input("SMS, $ per segment", value=f"{prices.sms:f}", key=price_key(tenant_id, "sms"))
            right.text_input(
                "Fixed cost, $ per month",
                value=f"{monthly:f}",
                key=price_key(tenant_id, "fixed"),
                help="Platform and seats: what the business pays a month for recovery whatever is sent.",
            )
            st.form_submit_button(
                "Save prices", type="primary", on_click=save_prices, args=(tenant_id, who.operator_id)
            )
