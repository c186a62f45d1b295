"""Changing a tenant's recovery rules: the silence ladder, cool-down, hold-out, scan cap and send window.

The rules are checked by the domain (`Ladder`, `Window`) and against the bounds the database
enforces, before anything is written; a bad value raises `ValueError` naming the field, so the
Settings page can say which one to fix. Only an owner, admin or manager of that tenant (or the
superuser) may change them: the operator's role and tenant are read from the database, never taken from the caller.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import runtime
from app.domain import roles
from app.domain.sending_window import Window
from app.domain.silence import Ladder
from app.domain.unsubscribe import MAX_VALID_DAYS, MIN_VALID_DAYS
from app.services import acting, audit
from db.models import Tenant

MAX_RUNGS = 10  # the database's `ladder_size` check
MAX_HOLDOUT_PERCENT = 50  # the database's `holdout_range` check
MAX_SCAN_CAP = 100_000
MAX_SILENCE_HOURS = 24 * 365  # a rung a year out is the longest silence worth a message
MAX_COOLDOWN_HOURS = 24 * 365


def may_edit(*, role: str, operator_tenant_id: int, tenant_id: int) -> bool:
    """An owner, admin or manager of this tenant (or the superuser) may change its settings."""
    return roles.may(role, roles.Action.SETTINGS, own_tenant=operator_tenant_id == tenant_id)


def editable_tenant(session: Session, *, tenant_id: int, operator_id: int, what: str) -> Tenant:
    """The tenant row, locked for update, when this operator may change its `what`.

    `PermissionError` unless the operator is an active owner, admin or manager of this tenant
    (or the superuser); `LookupError` when the tenant does not exist. Runs inside the caller's
    transaction.
    """
    try:
        acting.require(session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.SETTINGS)
    except roles.RoleRefused:
        raise roles.RoleRefused(
            f"Only {roles.who_may(roles.Action.SETTINGS)} of this tenant may change its {what}."
        ) from None
    tenant = session.get(Tenant, tenant_id, with_for_update=True)
    if tenant is None:
        raise LookupError(f"tenant {tenant_id} does not exist")
    audit.record(session, tenant_id=tenant_id, operator_id=operator_id, action="settings", subject=what)
    return tenant


def _checked_ladder(ladder_hours: list[int]) -> Ladder:
    try:
        ladder = Ladder.parse(ladder_hours)
    except ValueError as err:
        raise ValueError(f"Silence ladder: {err}") from None
    if ladder.top > MAX_RUNGS:
        raise ValueError(f"Silence ladder: at most {MAX_RUNGS} rungs")
    if max(ladder_hours) > MAX_SILENCE_HOURS:
        raise ValueError(f"Silence ladder: each rung at most {MAX_SILENCE_HOURS:,} hours (a year)")
    return ladder


def check_recovery_rules(
    *,
    ladder_hours: list[int],
    cooldown_hours: int,
    holdout_percent: int,
    scan_cap: int,
    send_window_start_hour: int,
    send_window_end_hour: int,
) -> Ladder:
    """The validated ladder; raises `ValueError` naming the first field that is out of bounds."""
    ladder = _checked_ladder(ladder_hours)
    if not 0 <= cooldown_hours <= MAX_COOLDOWN_HOURS:
        raise ValueError(f"Cool-down: must be between 0 and {MAX_COOLDOWN_HOURS:,} hours (a year)")
    if not 0 <= holdout_percent <= MAX_HOLDOUT_PERCENT:
        raise ValueError(f"Hold-out: must be between 0 and {MAX_HOLDOUT_PERCENT} percent")
    if not 1 <= scan_cap <= MAX_SCAN_CAP:
        raise ValueError(f"Scan cap: must be between 1 and {MAX_SCAN_CAP:,} leads")
    try:
        Window(send_window_start_hour, send_window_end_hour)
    except ValueError:
        raise ValueError("Send window: needs 0 <= start < end <= 24 (hours of the lead's day)") from None
    return ladder


def check_unsubscribe_link_days(days: int) -> None:
    """Links work at least `MIN_VALID_DAYS` (the database's check says the same)."""
    if not MIN_VALID_DAYS <= days <= MAX_VALID_DAYS:
        raise ValueError(f"Unsubscribe links: must work between {MIN_VALID_DAYS} and {MAX_VALID_DAYS:,} days")


def update_recovery_rules(
    *,
    tenant_id: int,
    operator_id: int,
    ladder_hours: list[int],
    cooldown_hours: int,
    holdout_percent: int,
    scan_cap: int,
    send_window_start_hour: int,
    send_window_end_hour: int,
    unsubscribe_link_days: int | None = None,
) -> None:
    """Save the tenant's recovery rules in one transaction (`unsubscribe_link_days` None: unchanged).

    Raises `ValueError` (nothing written) on a bad value, `PermissionError` when the operator is
    not an active admin or a manager of this tenant, `LookupError` when the tenant does not exist.
    """
    ladder = check_recovery_rules(
        ladder_hours=ladder_hours,
        cooldown_hours=cooldown_hours,
        holdout_percent=holdout_percent,
        scan_cap=scan_cap,
        send_window_start_hour=send_window_start_hour,
        send_window_end_hour=send_window_end_hour,
    )
    if unsubscribe_link_days is not None:
        check_unsubscribe_link_days(unsubscribe_link_days)
    with runtime.session_scope() as session, session.begin():
        tenant = editable_tenant(session, tenant_id=tenant_id, operator_id=operator_id, what="recovery rules")
        tenant.silence_ladder_hours = list(ladder.hours)
        tenant.cooldown_hours = cooldown_hours
        tenant.holdout_percent = holdout_percent
        tenant.scan_cap = scan_cap
        tenant.send_window_start_hour = send_window_start_hour
        tenant.send_window_end_hour = send_window_end_hour
        if unsubscribe_link_days is not None:
            tenant.unsubscribe_link_days = unsubscribe_link_days
