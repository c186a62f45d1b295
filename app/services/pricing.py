"""Changing the unit prices the ROI page costs messages at.

The prices are checked by the domain (`UnitPrices.parse`) before a transaction opens, so a bad
value raises `ValueError` naming the channel and writes nothing. They are stored in the
tenant's `settings` jsonb next to whatever else is kept there (the other keys are left as
they are), under a row lock so two saves at once cannot drop each other's keys. Who may change
them is who may change the recovery rules: an admin, or a manager of that tenant.
"""

from __future__ import annotations

from app import runtime
from app.domain.pricing import SETTINGS_KEY, UnitPrices
from app.services.tenant_settings import editable_tenant


def update_unit_prices(*, tenant_id: int, operator_id: int, email: str, sms: str) -> UnitPrices:
    """Save the prices as typed and return them as stored.

    Raises `ValueError` (nothing written) on a bad price, `PermissionError` when the operator is
    not an active admin or a manager of this tenant, `LookupError` when the tenant does not exist.
    """
    prices = UnitPrices.parse(email=email, sms=sms)
    with runtime.session_scope() as session, session.begin():
        tenant = editable_tenant(session, tenant_id=tenant_id, operator_id=operator_id, what="unit prices")
        tenant.settings = {**(tenant.settings or {}), SETTINGS_KEY: prices.to_settings()}
    return prices
