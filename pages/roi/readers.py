"""The ROI page's reads, behind `st.cache_data` like those of `pages/data.py`.

Prices come as strings: exact, and hashed alike however the Decimal was written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import streamlit as st

from app import runtime
from app.domain import pricing
from app.domain.pricing import UnitPrices
from db import attribution as attr
from db import roi
from pages import data


@st.cache_data(ttl=data.SLOW, show_spinner=False, max_entries=data.MANY)
def attribution(tenant_id: int, days: int, touch: attr.Touch, by: tuple[attr.AttributionKey, ...]) -> pd.DataFrame:
    """`db.attribution.attribution` behind the cache, like the reads of `pages/data.py`."""
    return attr.attribution(runtime.engine(), tenant_id, days=days, touch=touch, by=by)


@st.cache_data(ttl=data.SLOW, show_spinner=False)
def unit_prices(tenant_id: int) -> UnitPrices:
    return UnitPrices.from_settings(roi.unit_price_settings(runtime.engine(), tenant_id))


@st.cache_data(ttl=data.SLOW, show_spinner=False)
def fixed_monthly(tenant_id: int) -> Decimal:
    """The tenant's fixed monthly cost (platform and seats), 0 when never set."""
    return pricing.fixed_monthly_from_settings(roi.unit_price_settings(runtime.engine(), tenant_id))


def forget_prices() -> None:
    """After a save on the price form: the figures must use the new prices at once."""
    unit_prices.clear()
    fixed_monthly.clear()


@st.cache_data(ttl=data.SLOW, show_spinner=False, max_entries=data.MANY)
def over_time(
    tenant_id: int, days: int, grain: roi.Grain, email_price: str, sms_price: str, fixed_daily: str
) -> pd.DataFrame:
    """Prices come as strings: exact, and hashed alike however the Decimal was written."""
    return roi.roi_over_time(
        runtime.engine(),
        tenant_id,
        days=days,
        grain=grain,
        email_price=Decimal(email_price),
        sms_price=Decimal(sms_price),
        fixed_daily=Decimal(fixed_daily),
    )


@st.cache_data(ttl=data.SLOW, show_spinner=False, max_entries=data.MANY)
def by_channel(tenant_id: int, days: int, email_price: str, sms_price: str) -> pd.DataFrame:
    return roi.roi_by_channel(
        runtime.engine(), tenant_id, days=days, email_price=Decimal(email_price), sms_price=Decimal(sms_price)
    )


@st.cache_data(ttl=data.SLOW, show_spinner=False)
def recovered_leads(tenant_id: int, days: int) -> int:
    return roi.recovered_leads(runtime.engine(), tenant_id, days=days)


# The before/after compares periods around a start date that, once the engine is older than the
# period, lie wholly in the past: it can be kept longer than the live figures.
AROUND_START = dt.timedelta(minutes=30)


@st.cache_data(ttl=AROUND_START, show_spinner=False)
def before_after(tenant_id: int, days: int) -> roi.BeforeAfter:
    return roi.before_after(runtime.engine(), tenant_id, days=days)


def priced(tenant_id: int, days: int, grain: roi.Grain, prices: UnitPrices, monthly: Decimal) -> pd.DataFrame:
    """The window at these prices, each day carrying its share of the fixed monthly cost."""
    daily = pricing.prorated_fixed_cost(monthly, 1)
    stored = prices.to_settings()
    return over_time(tenant_id, days, grain, stored["email"], stored["sms"], format(daily, "f"))
