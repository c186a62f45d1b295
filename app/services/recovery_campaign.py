"""The tenant's recovery campaign: the running campaign the silence scan enrolls leads in.

Apart from the scan (`scan.py`) because it decides something else: which campaign the scan
uses, and the plan it gets when none exists yet (the tenant's silence ladder as a plan, with
the tenant's time zone, quiet hours and send window).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.plan import default_recovery_plan_json

RECOVERY_CAMPAIGN_NAME = "Win back silent leads"

_TENANT = text(
    """
    SELECT silence_ladder_hours, timezone, quiet_start_hour, quiet_end_hour,
           send_window_start_hour, send_window_end_hour
    FROM tenants WHERE id = :tenant_id
    """
)

_FIND_CAMPAIGN = text(
    """
    SELECT id, plan FROM campaigns
    WHERE tenant_id = :tenant_id AND kind = 'recovery' AND status = 'running'
    ORDER BY created_at, id
    LIMIT 1
    """
)

_FILL_PLAN = text("UPDATE campaigns SET plan = CAST(:plan AS jsonb), updated_at = now() WHERE id = :campaign_id")

_CREATE_CAMPAIGN = text(
    """
    INSERT INTO campaigns (tenant_id, name, kind, status, plan, starts_at, goal)
    VALUES (:tenant_id, :name, 'recovery', 'running', CAST(:plan AS jsonb), now(),
            'Win back leads who went quiet')
    RETURNING id
    """
)


def ensure_recovery_campaign(session: Session, tenant_id: int) -> int:
    """The tenant's oldest running recovery campaign, created (running, one node per rung) if none.

    Call it under the tenant's scan lock (as the scan does) so two callers never create two.
    """
    found = session.execute(_FIND_CAMPAIGN, {"tenant_id": tenant_id}).one_or_none()
    if found is not None:
        if not found.plan:  # made without a plan (by hand, or before plans were read): the ladder's
            filled = _json(_default_plan(session, tenant_id))
            session.execute(_FILL_PLAN, {"campaign_id": found.id, "plan": filled})
        return int(found.id)
    plan = _default_plan(session, tenant_id)
    created = session.execute(
        _CREATE_CAMPAIGN, {"tenant_id": tenant_id, "name": RECOVERY_CAMPAIGN_NAME, "plan": _json(plan)}
    )
    return int(created.scalar_one())


def _default_plan(session: Session, tenant_id: int) -> dict[str, Any]:
    tenant = session.execute(_TENANT, {"tenant_id": tenant_id}).one_or_none()
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id}")
    return default_recovery_plan_json(
        tenant.silence_ladder_hours,
        timezone=tenant.timezone,
        quiet_hours=(tenant.quiet_start_hour, tenant.quiet_end_hour),
        send_window=(tenant.send_window_start_hour, tenant.send_window_end_hour),
    )


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))
