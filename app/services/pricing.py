"""Changing the unit prices the ROI page costs messages at, and the tenant's fixed monthly cost.

The prices are checked by the domain (`UnitPrices.parse`, `parse_fixed_monthly`) before a
transaction opens, so a bad value raises `ValueError` naming the field and writes nothing.
They are stored in the tenant's `settings` jsonb next to whatever else is kept there (the
other keys are left as they are), under a row lock so two saves at once cannot drop each
other's keys. Who may change them is who may change the recovery rules: an admin, or a
manager of that tenant.
"""

from __future__ import annotations

from decimal import Decimal

from app import runtime
from app.domain.pricing import (
    FIXED_COST_KEY,
    SETTINGS_KEY,
    UnitPrices,
    fixed_monthly_to_settings,
    parse_fixed_monthly,
)
from app.services.tenant_settings import editable_tenant


def update_unit_prices(
    *, tenant_id: int, operator_id: int, email: str, sms: str, fixed_monthly: str | None = None
) -> UnitPrices:
    """Save the prices as typed (and the fixed monthly cost, unless None: left as it is); return the prices.

    Raises `ValueError` (nothing written) on a bad price, `PermissionError` when the operator is
    not an active admin or a manager of this tenant, `LookupError` when the tenant does not exist.
    """
    prices = UnitPrices.parse(email=email, sms=sms)
    fixed: Decimal | None = None if fixed_monthly is None else parse_fixed_monthly(fixed_monthly)
    with runtime.session_scope() as session, session.begin():
        tenant = editable_tenant(session, tenant_id=tenant_id, operator_id=operator_id, what="unit prices")
        saved = {**(tenant.settings or {}), SETTINGS_KEY: prices.to_settings()}
        if fixed is not None:
            saved[FIXED_COST_KEY] = fixed_monthly_to_settings(fixed)
        tenant.settings = saved
    return prices
