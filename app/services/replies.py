"""What a rep does with a reply in the inbox: mark it handled.

The service checks the operator again (active, of this tenant or an admin, not a viewer),
whatever the page shows: a page's hidden button is not a permission. Marking twice keeps the
first rep and time, so the inbox says who really took it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from app import runtime
from app.services.conversions import VIEWER_ROLE

_OPERATOR = text("SELECT role, tenant_id, is_active FROM operators WHERE id = :operator_id")

_HANDLE = text(
    """
    UPDATE inbound_messages SET handled_at = :now, handled_by = :operator_id, updated_at = now()
    WHERE id = :id AND tenant_id = :tenant_id AND handled_at IS NULL
    RETURNING id
    """
)


def mark_handled(*, tenant_id: int, inbound_message_id: int, operator_id: int, now: dt.datetime) -> bool:
    """True when this call marked it; False when it was already handled (or is not this tenant's)."""
    with runtime.session_scope() as session, session.begin():
        operator = session.execute(_OPERATOR, {"operator_id": operator_id}).first()
        allowed = (
            operator is not None
            and operator.is_active
            and operator.role != VIEWER_ROLE
            and (operator.role == "admin" or operator.tenant_id == tenant_id)
        )
        if not allowed:
            raise PermissionError("Only an admin, a manager or a rep of this tenant may handle a reply.")
        params = {"id": inbound_message_id, "tenant_id": tenant_id, "operator_id": operator_id, "now": now}
        return session.execute(_HANDLE, params).first() is not None
