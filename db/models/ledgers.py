"""What the product spent, earned and did: AI generations, conversions, daily rollups, agent runs."""

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
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantOwned, Timestamped, one_of

CONVERSION_METHODS = ("ai", "template", "manual", "organic")
AGENT_RUN_STATUSES = ("queued", "running", "succeeded", "failed")


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


class Conversion(TenantOwned, Base):
    """A recovered lead, with the value and what it is attributed to."""

    __tablename__ = "conversions"
    __table_args__ = (
        CheckConstraint(one_of("method", CONVERSION_METHODS), name="method"),
        CheckConstraint("value >= 0", name="value"),
        Index("ix_conversions_tenant_time", "tenant_id", "converted_at"),
        Index("ix_conversions_lead", "lead_id"),
        UniqueConstraint("tenant_id", "external_id"),
    )

    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("campaigns.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("outbound_messages.id", ondelete="SET NULL"))
    channel: Mapped[str | None]
    value: Mapped[Decimal]
    method: Mapped[str]
    attribution: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    converted_at: Mapped[dt.datetime]
    external_id: Mapped[str | None]
    """The client's own id of this conversion (the API's `id` or Idempotency-Key): a retry finds this row."""


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


AI_BATCH_STATUSES = ("queued", "submitted", "answered", "waiting", "done")
AI_BATCH_RESULTS = ("succeeded", "errored", "canceled", "expired")
UNREAD = "batch_id IS NOT NULL AND result_type IS NULL"  # requests whose result the agent has still to read


class AIBatchRequest(TenantOwned, Base):
    """A scheduled send whose draft goes through the Message Batches API (half price) before its slot.

    One row per send action. The first lead of a request key asks (a `custom_id` and the
    request); later leads with the same key wait (`waiting`) for that answer and are filled
    from our cache, as in a direct batch. `send_at` is the slot chosen when the send was
    deferred: the outbox row is written for it, by the answer or, when that is late or
    failed, by the offline writer before it.
    """

    __tablename__ = "ai_batch_requests"
    __table_args__ = (
        CheckConstraint(one_of("status", AI_BATCH_STATUSES), name="status"),
        CheckConstraint(f"result_type IS NULL OR {one_of('result_type', AI_BATCH_RESULTS)}", name="result_type"),
        CheckConstraint("(custom_id IS NULL) = (request IS NULL)", name="asks_with_a_request"),
        CheckConstraint("custom_id IS NULL OR custom_id ~ '^[A-Za-z0-9_-]{1,64}$'", name="custom_id"),
        CheckConstraint("status <> 'submitted' OR batch_id IS NOT NULL", name="submitted_in_a_batch"),
        CheckConstraint("status <> 'waiting' OR custom_id IS NULL", name="waiters_ask_nothing"),
        CheckConstraint("status NOT IN ('queued', 'submitted', 'answered') OR custom_id IS NOT NULL", name="askers"),
        UniqueConstraint("action_id"),
        UniqueConstraint("custom_id"),
        Index("ix_ai_batch_requests_open", "send_at", postgresql_where=text("status <> 'done'")),
        Index("ix_ai_batch_requests_batch", "batch_id", postgresql_where=text(UNREAD)),
    )

    action_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("scheduled_actions.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    prompt_hash: Mapped[str]
    model: Mapped[str]
    send_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(server_default="queued")
    custom_id: Mapped[str | None]
    request: Mapped[dict[str, Any] | None]
    batch_id: Mapped[str | None]
    result_type: Mapped[str | None]
    result: Mapped[dict[str, Any] | None]
