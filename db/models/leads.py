"""The prospects, and everything they did or was done to them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, SmallInteger, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantOwned, one_of

LEAD_STATES = ("active", "silent", "in_recovery", "replied", "recovered", "lost", "control")
ACTIVITY_KINDS = (
    "form",
    "call",
    "meeting",
    "page_view",
    "email_in",
    "email_out",
    "sms_in",
    "sms_out",
    "open",
    "click",
    "note",
    "stage_change",
)
SAMPLE_POINT_COLUMNS = ["first_name", "last_name", "last_activity_at", "intent_score", "deal_value", "recovery_state"]
"""What a point of the lead map shows (db/queries.lead_scatter), carried by ix_leads_sample."""


class Lead(TenantOwned, Base):
    """A prospect, with what the scanner and the scores need on the row itself."""

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        CheckConstraint(one_of("recovery_state", LEAD_STATES), name="recovery_state"),
        CheckConstraint("intent_score BETWEEN 0 AND 100", name="intent_score"),
        CheckConstraint("silence_level >= 0", name="silence_level"),
        CheckConstraint("deal_value >= 0", name="deal_value"),
        CheckConstraint("phone IS NULL OR phone ~ '^\\+[1-9][0-9]{6,14}$'", name="phone_e164"),
        # The silence scan: leads of a tenant by state and silence, oldest activity first.
        Index("ix_leads_silence_scan", "tenant_id", "recovery_state", "last_activity_at"),
        # The scanner's rung ranges: per rung, the open leads one level below it and silent long
        # enough (app/services/scan.py); leads already at their rung are never read.
        Index(
            "ix_leads_silence_rung",
            "tenant_id",
            "silence_level",
            "last_activity_at",
            postgresql_where=text("recovery_state IN ('active', 'silent', 'in_recovery', 'control')"),
        ),
        # The score views: the best leads of a tenant first.
        Index("ix_leads_score", "tenant_id", text("intent_score DESC"), postgresql_include=["last_activity_at"]),
        # The lead map's deterministic sample (the leads with the smallest md5(id)): an ordered
        # range that stops after the sample instead of hashing and sorting every lead, carrying
        # every column a point needs so the sample never visits the table (index-only).
        Index(
            "ix_leads_sample",
            "tenant_id",
            text("md5(id::text)"),
            "id",
            postgresql_include=SAMPLE_POINT_COLUMNS,
        ),
        # The ROI page's naive before/after: the tenant's leads created before a moment, index-only.
        Index("ix_leads_tenant_created", "tenant_id", "created_at"),
        Index("ix_leads_tenant_email", "tenant_id", "email"),
        Index("ix_leads_tenant_phone", "tenant_id", "phone"),
        # The retention agent: a tenant's closed leads not yet anonymised, oldest activity first.
        Index(
            "ix_leads_closed_unerased",
            "tenant_id",
            "last_activity_at",
            postgresql_where=text("recovery_state IN ('recovered', 'lost') AND erased_at IS NULL"),
        ),
    )

    external_id: Mapped[str]
    first_name: Mapped[str]
    last_name: Mapped[str] = mapped_column(server_default="")
    company: Mapped[str | None]
    title: Mapped[str | None]
    email: Mapped[str | None]
    phone: Mapped[str | None]
    timezone: Mapped[str] = mapped_column(server_default="UTC")
    source: Mapped[str] = mapped_column(server_default="unknown")
    owner_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("operators.id", ondelete="SET NULL"))
    stage: Mapped[str] = mapped_column(server_default="new")
    deal_value: Mapped[Decimal] = mapped_column(server_default=text("0"))
    intent_score: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    last_activity_at: Mapped[dt.datetime]
    last_contacted_at: Mapped[dt.datetime | None]
    silence_level: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    recovery_state: Mapped[str] = mapped_column(server_default="active")
    tags: Mapped[list[str]] = mapped_column(server_default=text("'{}'"))
    attributes: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    consent_email: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    consent_sms: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    recovered_at: Mapped[dt.datetime | None]
    recovered_value: Mapped[Decimal | None]
    phone_unreachable: Mapped[str | None]
    snoozed_until: Mapped[dt.datetime | None]
    resume_at: Mapped[dt.datetime | None]
    wrong_person: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    """Why texts cannot reach this phone (a carrier's 'invalid number' or 'not a mobile'); None when they can."""
    erased_at: Mapped[dt.datetime | None]
    """When the lead's personal data was removed (erasure or retention); the row stays for the counts."""


class Activity(TenantOwned, Base):
    """Everything a lead did or was done to it."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint(one_of("kind", ACTIVITY_KINDS), name="kind"),
        Index("ix_activities_lead_time", "lead_id", text("occurred_at DESC")),
        Index("ix_activities_tenant_time", "tenant_id", text("occurred_at DESC")),
    )

    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str]
    channel: Mapped[str | None]
    occurred_at: Mapped[dt.datetime]
    summary: Mapped[str] = mapped_column(server_default="")
    details: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
