"""Changing what a tenant's messages may say: its offer, its own domains, and how many SMS segments a text may take.

Checked by the domain (`message_settings.parse`) before a transaction opens, so a bad value
raises `ValueError` naming the field and writes nothing. Stored in the tenant's `settings` jsonb
under `messages`, next to whatever else is kept there (the other keys are left as they are),
under a row lock. Who may change them is who may change the recovery rules: an admin, or a
manager of that tenant. The writer reads them with every batch (`write_reads.tenant_voice`).
"""

from __future__ import annotations

from app import runtime
from app.domain.message_settings import SETTINGS_KEY, MessageSettings, parse
from app.services.tenant_settings import editable_tenant


def update_message_settings(
    *, tenant_id: int, operator_id: int, offer: str, domains: str, sms_max_segments: int
) -> MessageSettings:
    """Save the settings as typed; return them as stored.

    Raises `ValueError` (nothing written) on a bad value, `PermissionError` when the operator is
    not an active admin or a manager of this tenant, `LookupError` when the tenant does not exist.
    """
    chosen = parse(offer=offer, domains=domains, sms_max_segments=sms_max_segments)
    with runtime.session_scope() as session, session.begin():
        tenant = editable_tenant(session, tenant_id=tenant_id, operator_id=operator_id, what="message settings")
        tenant.settings = {**(tenant.settings or {}), SETTINGS_KEY: chosen.to_settings()}
    return chosen
