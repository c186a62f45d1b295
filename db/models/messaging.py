"""Messages out (the outbox), what providers report back, replies in, and who must never be written to again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import CHANNELS, Base, TenantOwned, Timestamped, one_of

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
DELIVERY_RESULTS = ("received", "applied", "rejected")
"""received: trusted and waiting for the applier; applied: done; rejected: bad signature or body, never applied."""
SUPPRESSION_REASONS = ("unsubscribe", "bounce", "spam", "stop", "manual", "erased")
INTENTS = ("interested", "question", "not_now", "not_interested", "unsubscribe", "out_of_office", "wrong_person")
SENTIMENTS = ("positive", "neutral", "negative")
PRIORITIES = ("high", "medium", "low")


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
    error_code: Mapped[str | None]
    """The provider's code for a failure (Twilio 30007 carrier filtered, a SendGrid bounce's status)."""


class MessageEvent(TenantOwned, Base):
    """What happened to a message, deduplicated by the provider's id or a natural key."""

    __tablename__ = "message_events"
    __table_args__ = (
        CheckConstraint(one_of("event_type", EVENT_TYPES), name="event_type"),
        Index("ix_message_events_message", "message_id"),
        # One kind of event in a window (the best-time heat-map's clicks), index-only; the live
        # feed's newest events are its newest of each kind (no index of its own: see db/dashboard.py).
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
    __table_args__ = (
        CheckConstraint(one_of("result", DELIVERY_RESULTS), name="result"),
        Index("ix_webhook_deliveries_time", "received_at"),
        # The applier's queue: deliveries accepted and not yet applied, oldest first.
        Index("ix_webhook_deliveries_pending", "id", postgresql_where=text("result = 'received'")),
    )

    tenant_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("tenants.id", ondelete="CASCADE"))
    provider: Mapped[str]
    endpoint: Mapped[str]
    headers: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    body: Mapped[str]
    signature_valid: Mapped[bool | None] = mapped_column(Boolean)
    result: Mapped[str] = mapped_column(server_default="received")
    error: Mapped[str | None]
    received_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    applied_at: Mapped[dt.datetime | None]
    event_count: Mapped[int] = mapped_column(server_default=text("0"))
    applied_count: Mapped[int] = mapped_column(server_default=text("0"))
    duplicate_count: Mapped[int] = mapped_column(server_default=text("0"))
    unmatched_count: Mapped[int] = mapped_column(server_default=text("0"))
    """Events naming no message of ours: stored, counted on the Agents page, never applied."""
    ignored_count: Mapped[int] = mapped_column(server_default=text("0"))
    """Events of a type we do not act on (stored in the raw body, nothing else)."""


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
        Index(
            "ix_inbound_messages_alerts",
            "tenant_id",
            "lead_id",
            postgresql_where=text("alert AND alerted_at IS NULL AND handled_at IS NULL"),
        ),
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
    triage_reason: Mapped[str | None]
    triage_until: Mapped[dt.date | None]
    alert: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    received_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    handled_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("operators.id", ondelete="SET NULL"))
    handled_at: Mapped[dt.datetime | None]
    alerted_at: Mapped[dt.datetime | None]
    """When the owner alert (a console toast) was shown: it is shown once."""
    alerted_to: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("operators.id", ondelete="SET NULL"))


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
