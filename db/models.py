"""Typed SQLAlchemy 2 models for every table of DESIGN.md §4.

Rules that protect customers live in the database, not only in Python: unique dedupe keys
(nothing is sent twice), one suppression per address, one enrollment per lead and campaign,
checks on every status column. Every row carries `tenant_id`, `created_at` and `updated_at`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CHANNELS = ("email", "sms")
LEAD_STATES = ("active", "silent", "in_recovery", "replied", "recovered", "lost", "control")
OPERATOR_ROLES = ("admin", "manager", "rep", "viewer")
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
CAMPAIGN_KINDS = ("recovery", "sequence")
CAMPAIGN_STATUSES = ("draft", "scheduled", "running", "paused", "completed", "archived")
ENROLLMENT_STATUSES = ("active", "waiting", "completed", "stopped", "control", "failed")
ACTION_KINDS = ("send", "no_open", "no_click", "no_reply", "wait")
ACTION_STATUSES = ("pending", "running", "done", "canceled")
MESSAGE_STATUSES = ("pending", "sending", "sent", "delivered", "failed", "canceled", "suppressed", "held")
MESSAGE_SOURCES = ("ai", "ai_cache", "template", "offline", "manual")
EVENT_TYPES = (
    "processed",
    "deferred",
    "delivered",
    "open",
    "click",
    "bounce",
    "dropped",
    "spamreport",
    "unsubscribe",
    "reply",
    "failed",
    "sent",
    "undelivered",
)
SUPPRESSION_REASONS = ("unsubscribe", "bounce", "spam", "stop", "manual", "erased")
INTENTS = ("interested", "question", "not_now", "not_interested", "unsubscribe", "out_of_office", "wrong_person")
SENTIMENTS = ("positive", "neutral", "negative")
PRIORITIES = ("high", "medium", "low")
CONVERSION_METHODS = ("ai", "template", "manual", "organic")
AGENT_RUN_STATUSES = ("queued", "running", "succeeded", "failed")


def one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dict[str, Any]: JSONB,
        list[str]: ARRAY(Text),
        list[int]: ARRAY(Integer),
        Decimal: Numeric(14, 2),
        dt.datetime: DateTime(timezone=True),
        dt.date: Date,
        str: Text,
    }


class Timestamped:
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class TenantOwned(Timestamped):
    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id", ondelete="CASCADE"), index=False)


class Tenant(Timestamped, Base):
    """A business (a CRM "location") and the rules it sends by."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("holdout_percent BETWEEN 0 AND 50", name="holdout_range"),
        CheckConstraint("quiet_start_hour BETWEEN 0 AND 23 AND quiet_end_hour BETWEEN 0 AND 23", name="quiet_hours"),
        CheckConstraint("send_window_start_hour < send_window_end_hour", name="send_window"),
        CheckConstraint("cardinality(silence_ladder_hours) BETWEEN 1 AND 10", name="ladder_size"),
    )

    slug: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    timezone: Mapped[str] = mapped_column(server_default="UTC")
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
    api_key_hash: Mapped[str | None] = mapped_column(unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


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


class Template(TenantOwned, Base):
    """A reusable message body; its text lives in versions."""

    __tablename__ = "templates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", "channel"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
    )

    name: Mapped[str]
    channel: Mapped[str]
    current_version: Mapped[int] = mapped_column(server_default=text("1"))


class TemplateVersion(TenantOwned, Base):
    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    template_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("templates.id", ondelete="CASCADE"))
    version: Mapped[int]
    subject: Mapped[str | None]
    body: Mapped[str]
    variables: Mapped[list[str]] = mapped_column(server_default=text("'{}'"))


class Campaign(TenantOwned, Base):
    """A recovery or sequence campaign: who, what, when, and the plan that drives it."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(one_of("kind", CAMPAIGN_KINDS), name="kind"),
        CheckConstraint(one_of("status", CAMPAIGN_STATUSES), name="status"),
        CheckConstraint("channel IS NULL OR " + one_of("channel", CHANNELS), name="channel"),
        Index("ix_campaigns_tenant_status", "tenant_id", "status"),
    )

    name: Mapped[str]
    kind: Mapped[str] = mapped_column(server_default="recovery")
    status: Mapped[str] = mapped_column(server_default="draft")
    channel: Mapped[str | None]
    audience: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    plan: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    plan_version: Mapped[int] = mapped_column(server_default=text("1"))
    starts_at: Mapped[dt.datetime | None]
    ends_at: Mapped[dt.datetime | None]
    quiet_hours: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    budget: Mapped[Decimal] = mapped_column(server_default=text("0"))
    goal: Mapped[str | None]
    variants: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


class Enrollment(TenantOwned, Base):
    """One lead in one campaign, and where it stands in the plan."""

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("campaign_id", "lead_id"),
        CheckConstraint(one_of("status", ENROLLMENT_STATUSES), name="status"),
        Index("ix_enrollments_due", "status", "next_action_at"),
        Index("ix_enrollments_lead", "lead_id"),
        # "Is this lead in an active enrollment?", asked by the scanner for every candidate.
        Index("ix_enrollments_open_lead", "lead_id", postgresql_where=text("status IN ('active', 'waiting')")),
        Index("ix_enrollments_tenant_status", "tenant_id", "status"),
        # The hold-out comparison (each lead's first enrollment, in lead order without a sort)
        # and the campaign list's counts, both index-only.
        Index(
            "ix_enrollments_tenant_lead",
            "tenant_id",
            "lead_id",
            "enrolled_at",
            "id",
            postgresql_include=["is_control", "campaign_id", "status"],
        ),
    )

    campaign_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaigns.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    current_node: Mapped[str | None]
    variant: Mapped[str | None]
    rung: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    is_control: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    status: Mapped[str] = mapped_column(server_default="active")
    state: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    next_action_at: Mapped[dt.datetime | None]
    enrolled_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    completed_at: Mapped[dt.datetime | None]


class ScheduledAction(TenantOwned, Base):
    """A due send or a timer; the dedupe key makes scheduling idempotent."""

    __tablename__ = "scheduled_actions"
    __table_args__ = (
        CheckConstraint(one_of("kind", ACTION_KINDS), name="kind"),
        CheckConstraint(one_of("status", ACTION_STATUSES), name="status"),
        Index("ix_scheduled_actions_due", "status", "due_at"),
    )

    enrollment_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("enrollments.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str]
    node: Mapped[str | None]
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(server_default="pending")
    dedupe_key: Mapped[str] = mapped_column(unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


class AIGeneration(TenantOwned, Base):
    """One model output (or cache hit, or offline fallback) with what it cost."""

    __tablename__ = "ai_generations"
    __table_args__ = (
        # AI spend in a window (the ROI page's cost per day, the month's AI budget), index-only.
        Index("ix_ai_generations_tenant_time", "tenant_id", "created_at", postgresql_include=["cost_usd"]),
        # The writer's response cache: the servable answers of a request key, newest first.
        Index(
            "ix_ai_generations_cache",
            "tenant_id",
            "prompt_hash",
            text("id DESC"),
            postgresql_where=text("NOT served_from_cache"),
        ),
    )

    purpose: Mapped[str]
    model: Mapped[str]
    prompt_hash: Mapped[str] = mapped_column(index=True)
    lead_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="SET NULL"))
    output: Mapped[str]
    tokens_in: Mapped[int] = mapped_column(server_default=text("0"))
    tokens_out: Mapped[int] = mapped_column(server_default=text("0"))
    tokens_cache_read: Mapped[int] = mapped_column(server_default=text("0"))
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), server_default=text("0"))
    served_from_cache: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    latency_ms: Mapped[int] = mapped_column(server_default=text("0"))


class OutboundMessage(TenantOwned, Base):
    """The outbox. The dedupe key `tenant:campaign:lead:node:channel` is why nothing is sent twice."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(one_of("status", MESSAGE_STATUSES), name="status"),
        CheckConstraint(one_of("source", MESSAGE_SOURCES), name="source"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_outbound_messages_dedupe_key", "dedupe_key", unique=True),
        Index("ix_outbound_messages_claim", "status", "scheduled_for"),
        Index("ix_outbound_messages_lead", "lead_id"),
        Index("ix_outbound_messages_tenant_time", "tenant_id", "created_at"),
        # ROI attribution: the window's sends and their cost by campaign, channel and method, index-only.
        Index(
            "ix_outbound_messages_tenant_sent",
            "tenant_id",
            "sent_at",
            postgresql_include=["campaign_id", "channel", "source", "cost_usd"],
        ),
        Index("ix_outbound_messages_provider_id", "provider_message_id"),
    )

    campaign_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("campaigns.id", ondelete="SET NULL"))
    enrollment_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("enrollments.id", ondelete="SET NULL"))
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    node: Mapped[str | None]
    channel: Mapped[str]
    to_address: Mapped[str]
    subject: Mapped[str | None]
    body: Mapped[str]
    source: Mapped[str] = mapped_column(server_default="template")
    template_version_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("template_versions.id", ondelete="SET NULL")
    )
    ai_generation_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("ai_generations.id", ondelete="SET NULL")
    )
    variant: Mapped[str | None]
    status: Mapped[str] = mapped_column(server_default="pending")
    provider: Mapped[str | None]
    provider_message_id: Mapped[str | None]
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    last_error: Mapped[str | None]
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), server_default=text("0"))
    scheduled_for: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    claimed_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    dedupe_key: Mapped[str]


class MessageEvent(TenantOwned, Base):
    """What happened to a message, deduplicated by the provider's id or a natural key."""

    __tablename__ = "message_events"
    __table_args__ = (
        CheckConstraint(one_of("event_type", EVENT_TYPES), name="event_type"),
        Index("ix_message_events_message", "message_id"),
        Index("ix_message_events_tenant_time", "tenant_id", text("occurred_at DESC")),
        # One kind of event in a window (the best-time heat-map's clicks), index-only.
        Index(
            "ix_message_events_tenant_type_time",
            "tenant_id",
            "event_type",
            "occurred_at",
            postgresql_include=["lead_id"],
        ),
    )

    message_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("outbound_messages.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    channel: Mapped[str | None]
    event_type: Mapped[str]
    occurred_at: Mapped[dt.datetime]
    provider_event_id: Mapped[str | None] = mapped_column(unique=True)
    natural_key: Mapped[str] = mapped_column(unique=True)
    url: Mapped[str | None]
    payload: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


class WebhookDelivery(Timestamped, Base):
    """Every raw webhook body, whether or not it was trusted; tenant is known only after parsing."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_time", "received_at"),)

    tenant_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("tenants.id", ondelete="CASCADE"))
    provider: Mapped[str]
    endpoint: Mapped[str]
    headers: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    body: Mapped[str]
    signature_valid: Mapped[bool | None] = mapped_column(Boolean)
    result: Mapped[str] = mapped_column(server_default="received")
    error: Mapped[str | None]
    received_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class InboundMessage(TenantOwned, Base):
    """A reply, with the triage verdict and who handled it."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint("intent IS NULL OR " + one_of("intent", INTENTS), name="intent"),
        CheckConstraint("sentiment IS NULL OR " + one_of("sentiment", SENTIMENTS), name="sentiment"),
        CheckConstraint("priority IS NULL OR " + one_of("priority", PRIORITIES), name="priority"),
        Index("ix_inbound_messages_inbox", "tenant_id", "handled_at", "received_at"),
        Index("ix_inbound_messages_lead", "lead_id"),
    )

    lead_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("outbound_messages.id", ondelete="SET NULL"))
    channel: Mapped[str]
    from_address: Mapped[str]
    body: Mapped[str]
    provider_message_id: Mapped[str | None] = mapped_column(unique=True)
    intent: Mapped[str | None]
    sentiment: Mapped[str | None]
    priority: Mapped[str | None]
    suggested_reply: Mapped[str | None]
    received_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    handled_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("operators.id", ondelete="SET NULL"))
    handled_at: Mapped[dt.datetime | None]


class Suppression(TenantOwned, Base):
    """An address we must never contact again on a channel."""

    __tablename__ = "suppressions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "channel", "address"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(one_of("reason", SUPPRESSION_REASONS), name="reason"),
    )

    channel: Mapped[str]
    address: Mapped[str]
    reason: Mapped[str]
    note: Mapped[str | None]


class CampaignTransition(TenantOwned, Base):
    """Append-only audit of every enrollment move."""

    __tablename__ = "campaign_transitions"
    __table_args__ = (Index("ix_campaign_transitions_enrollment", "enrollment_id", "at"),)

    enrollment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("enrollments.id", ondelete="CASCADE"))
    from_node: Mapped[str | None]
    to_node: Mapped[str | None]
    event: Mapped[str]
    reason: Mapped[str] = mapped_column(server_default="")
    at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class Conversion(TenantOwned, Base):
    """A recovered lead, with the value and what it is attributed to."""

    __tablename__ = "conversions"
    __table_args__ = (
        CheckConstraint(one_of("method", CONVERSION_METHODS), name="method"),
        CheckConstraint("value >= 0", name="value"),
        Index("ix_conversions_tenant_time", "tenant_id", "converted_at"),
        Index("ix_conversions_lead", "lead_id"),
    )

    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("campaigns.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("outbound_messages.id", ondelete="SET NULL"))
    channel: Mapped[str | None]
    value: Mapped[Decimal]
    method: Mapped[str]
    attribution: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    converted_at: Mapped[dt.datetime]


class MetricsDaily(TenantOwned, Base):
    """Rollups per tenant × campaign × channel × day, so pages never scan the raw tables."""

    __tablename__ = "metrics_daily"
    __table_args__ = (
        UniqueConstraint("tenant_id", "campaign_id", "channel", "day", postgresql_nulls_not_distinct=True),
        Index("ix_metrics_daily_tenant_day", "tenant_id", "day"),
    )

    campaign_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("campaigns.id", ondelete="CASCADE"))
    channel: Mapped[str]
    day: Mapped[dt.date]
    sent: Mapped[int] = mapped_column(server_default=text("0"))
    delivered: Mapped[int] = mapped_column(server_default=text("0"))
    opened: Mapped[int] = mapped_column(server_default=text("0"))
    clicked: Mapped[int] = mapped_column(server_default=text("0"))
    replied: Mapped[int] = mapped_column(server_default=text("0"))
    bounced: Mapped[int] = mapped_column(server_default=text("0"))
    unsubscribed: Mapped[int] = mapped_column(server_default=text("0"))
    conversions: Mapped[int] = mapped_column(server_default=text("0"))
    revenue: Mapped[Decimal] = mapped_column(server_default=text("0"))
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), server_default=text("0"))


class AgentRun(Timestamped, Base):
    """The ledger of agent jobs, keyed by RQ job id, that the Agents page reads."""

    __tablename__ = "agent_runs"
    __table_args__ = (
        CheckConstraint(one_of("status", AGENT_RUN_STATUSES), name="status"),
        Index("ix_agent_runs_agent_time", "agent", text("started_at DESC")),
    )

    tenant_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("tenants.id", ondelete="CASCADE"))
    job_id: Mapped[str] = mapped_column(String(128), unique=True)
    agent: Mapped[str]
    status: Mapped[str] = mapped_column(server_default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    error: Mapped[str | None]
    started_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[dt.datetime | None]
    host: Mapped[str | None]


TENANT_TABLES = [table for table in Base.metadata.sorted_tables if "tenant_id" in table.c]
