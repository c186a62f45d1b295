"""What operators did: the audit log, written by the services in the transaction of the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantOwned, one_of

AUDIT_ACTIONS = (
    "recover",
    "launch",
    "pause",
    "resume",
    "kill",
    "erase",
    "settings",
    "invite",
    "role_change",
    "deactivate",
    "export",
    "release_held",
)


class AuditEntry(TenantOwned, Base):
    """One operator action in a tenant. `operator_id` None: the command line or an agent.

    `subject` names what was acted on by id (`campaign 12`, `lead 40`, `operator 7`), never by
    personal data; `details` holds the few facts that make the entry readable (a role's before
    and after, the settings section, counts)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(one_of("action", AUDIT_ACTIONS), name="action"),
        Index("ix_audit_log_tenant", "tenant_id", "created_at"),
    )

    operator_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("operators.id", ondelete="SET NULL"))
    action: Mapped[str]
    subject: Mapped[str] = mapped_column(server_default="")
    details: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
