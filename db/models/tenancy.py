"""Who uses the product: tenants (a business, its rules and sender identity) and the operators who sign in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, SmallInteger, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantOwned, Timestamped, one_of

OPERATOR_ROLES = ("superuser", "owner", "admin", "manager", "rep", "viewer")
"""`app/domain/roles.py` says what each may do (the data layer imports nothing of the app)."""


class Tenant(Timestamped, Base):
    """A business (a CRM "location") and the rules it sends by."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("holdout_percent BETWEEN 0 AND 50", name="holdout_range"),
        CheckConstraint("quiet_start_hour BETWEEN 0 AND 23 AND quiet_end_hour BETWEEN 0 AND 23", name="quiet_hours"),
        CheckConstraint("send_window_start_hour < send_window_end_hour", name="send_window"),
        CheckConstraint("cardinality(silence_ladder_hours) BETWEEN 1 AND 10", name="ladder_size"),
        CheckConstraint("country IS NULL OR country ~ '^[A-Z]{2}$'", name="country"),
        CheckConstraint("unsubscribe_link_days BETWEEN 60 AND 3650", name="unsubscribe_link_days"),
        CheckConstraint("retention_days IS NULL OR retention_days BETWEEN 1 AND 36500", name="retention_days"),
    )

    slug: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    timezone: Mapped[str] = mapped_column(server_default="UTC")
    country: Mapped[str | None]
    """ISO 3166-1 alpha-2 code: the region an imported phone without a country code is read in (None: US)."""
    silence_ladder_hours: Mapped[list[int]] = mapped_column(server_default=text("'{24,48,72}'"))
    cooldown_hours: Mapped[int] = mapped_column(server_default=text("24"))
    holdout_percent: Mapped[int] = mapped_column(SmallInteger, server_default=text("10"))
    scan_cap: Mapped[int] = mapped_column(server_default=text("500"))
    quiet_start_hour: Mapped[int] = mapped_column(SmallInteger, server_default=text("21"))
    quiet_end_hour: Mapped[int] = mapped_column(SmallInteger, server_default=text("8"))
    send_window_start_hour: Mapped[int] = mapped_column(SmallInteger, server_default=text("8"))
    send_window_end_hour: Mapped[int] = mapped_column(SmallInteger, server_default=text("20"))
    sender_name: Mapped[str] = mapped_column(server_default="")
    sender_email: Mapped[str] = mapped_column(server_default="")
    sender_phone: Mapped[str | None]
    physical_address: Mapped[str] = mapped_column(server_default="")
    monthly_budget: Mapped[Decimal] = mapped_column(server_default=text("0"))
    ai_monthly_budget: Mapped[Decimal] = mapped_column(server_default=text("0"))
    settings: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    unsubscribe_link_days: Mapped[int] = mapped_column(server_default=text("365"))
    """How long this tenant's unsubscribe links work after the message (60 to 3650 days)."""
    retention_days: Mapped[int | None]
    """Days a closed (recovered or lost) lead is kept before the retention agent anonymises it; None: for good."""


class Operator(TenantOwned, Base):
    """A console user and the tenant they work for."""

    __tablename__ = "operators"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        CheckConstraint(one_of("role", OPERATOR_ROLES), name="role"),
    )

    email: Mapped[str]
    name: Mapped[str]
    role: Mapped[str] = mapped_column(server_default="rep")
    password_hash: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


INVITE_ROLES = ("owner", "admin", "manager", "rep", "viewer")


class OperatorInvite(TenantOwned, Base):
    """A one-time link to join a tenant with a role. Only the token's SHA-256 is stored (the token
    is 256 random bits, shown once in the link); it works once, until `expires_at`."""

    __tablename__ = "operator_invites"
    __table_args__ = (
        CheckConstraint(one_of("role", INVITE_ROLES), name="role"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        Index("ix_operator_invites_tenant", "tenant_id", "created_at"),
    )

    email: Mapped[str]
    role: Mapped[str]
    token_hash: Mapped[str] = mapped_column(unique=True)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("operators.id", ondelete="SET NULL"))


class ApiKey(TenantOwned, Base):
    """A bearer key of the intake API. Only its SHA-256 is stored: the key is shown once, at creation.

    Keys are 256 random bits, so a plain digest is as strong as a slow password hash here and
    lets every request find its key with one index probe.
    """

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant", "tenant_id", "created_at"),)

    name: Mapped[str]
    prefix: Mapped[str]
    key_hash: Mapped[str] = mapped_column(unique=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("operators.id", ondelete="SET NULL"))
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
