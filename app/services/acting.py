"""The server-side role check every state-changing service makes, inside its own transaction.

The operator's role, tenant and whether they are active are read from the database at the
moment of the change, never taken from the caller, and judged by `app/domain/roles.py`. A
refusal is `roles.RoleRefused` (a `PermissionError`) raised before anything is written, so the
caller's transaction rolls back whole.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain import roles
from db.models import Operator


def require(session: Session, *, operator_id: int, tenant_id: int, action: roles.Action) -> Operator:
    """The operator, when they may do `action` in `tenant_id` now; `RoleRefused` otherwise."""
    operator = session.get(Operator, operator_id)
    if operator is None:
        raise roles.RoleRefused(
            f"Only a signed-in operator may {action.value.replace('_', ' ')}: no operator {operator_id}."
        )
    roles.check(operator.role, action, own_tenant=operator.tenant_id == tenant_id, active=operator.is_active)
    return operator


def require_if(session: Session, *, operator_id: int | None, tenant_id: int, action: roles.Action) -> None:
    """`require` when an operator acts; None is the command line or an agent, trusted by the host."""
    if operator_id is not None:
        require(session, operator_id=operator_id, tenant_id=tenant_id, action=action)
