"""What the intake API remembers: the answer it gave to each `Idempotency-Key`, per tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, Index, SmallInteger, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantOwned, one_of

INTAKE_ENDPOINTS = ("leads", "activities")


class IntakeRequest(TenantOwned, Base):
    """A request made with an `Idempotency-Key`: the body's digest and the answer, stored in the
    transaction that wrote the rows, so a retry gets the same answer and changes nothing."""

    __tablename__ = "intake_requests"
    __table_args__ = (
        UniqueConstraint("tenant_id", "endpoint", "key"),
        CheckConstraint(one_of("endpoint", INTAKE_ENDPOINTS), name="endpoint"),
        # Keys expire: the expiry deletes a tenant's old keys by age.
        Index("ix_intake_requests_tenant_created", "tenant_id", "created_at"),
    )

    endpoint: Mapped[str]
    key: Mapped[str]
    body_sha256: Mapped[str]
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[dict[str, Any]]
