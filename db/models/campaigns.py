"""Campaigns, their enrollments, the sends and timers they schedule, and the append-only audit of every move."""

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
    SmallInteger,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import CHANNELS, Base, TenantOwned, one_of

CAMPAIGN_KINDS = ("recovery", "sequence")
CAMPAIGN_STATUSES = ("draft", "scheduled", "running", "paused", "completed", "archived", "killed")
ENROLLMENT_STATUSES = ("active", "waiting", "completed", "stopped", "control", "failed")
ACTION_KINDS = ("send", "no_open", "no_click", "no_reply", "wait", "event")
ACTION_STATUSES = ("pending", "running", "done", "canceled")
CAMPAIGN_EVENTS = ("created", "launched", "started", "paused", "resumed", "killed")
DECISION_OUTCOMES = ("winner", "no_difference")


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
        CheckConstraint("episode >= 1", name="episode"),
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
    episode: Mapped[int] = mapped_column(server_default=text("1"))
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
        # The interpreter's due timers and events, per tenant, in the order it claims them.
        Index(
            "ix_scheduled_actions_pending_interpreter",
            "tenant_id",
            "due_at",
            "id",
            postgresql_where=text("status = 'pending' AND kind <> 'send'"),
        ),
        Index("ix_scheduled_actions_enrollment", "enrollment_id"),
    )

    enrollment_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("enrollments.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str]
    node: Mapped[str | None]
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(server_default="pending")
    dedupe_key: Mapped[str] = mapped_column(unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


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


class CampaignEvent(TenantOwned, Base):
    """Append-only audit of the campaign as a whole: who created, launched, paused, resumed or killed it.

    `campaign_transitions` audits enrollments and needs one; a draft has none, and a pause
    concerns every enrollment at once. `details` keeps what the move did (leads enrolled, rows
    canceled by a kill).
    """

    __tablename__ = "campaign_events"
    __table_args__ = (
        CheckConstraint(one_of("event", CAMPAIGN_EVENTS), name="event"),
        CheckConstraint(one_of("to_status", CAMPAIGN_STATUSES), name="to_status"),
        Index("ix_campaign_events_campaign", "campaign_id", "at"),
    )

    campaign_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaigns.id", ondelete="CASCADE"))
    operator_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("operators.id", ondelete="SET NULL"))
    event: Mapped[str]
    from_status: Mapped[str | None]
    to_status: Mapped[str]
    details: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    at: Mapped[dt.datetime]


class CampaignDecision(TenantOwned, Base):
    """Append-only audit of a campaign's A/B verdict, with the figures it was made on.

    One per campaign (unique), so deciding twice records once whatever the callers race. The
    plan as it was before a winner was promoted is kept, so the promotion can be read back or undone.
    """

    __tablename__ = "campaign_decisions"
    __table_args__ = (
        UniqueConstraint("campaign_id"),
        CheckConstraint(one_of("outcome", DECISION_OUTCOMES), name="outcome"),
        CheckConstraint("(outcome = 'winner') = (winner IS NOT NULL)", name="winner"),
        Index("ix_campaign_decisions_tenant_time", "tenant_id", "decided_at"),
    )

    campaign_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaigns.id", ondelete="CASCADE"))
    outcome: Mapped[str]
    winner: Mapped[str | None]
    stats: Mapped[dict[str, Any]]
    """The verdict as `app.domain.ab_test.decision_to_json` writes it: settings, rule, per-variant figures."""
    rule: Mapped[str]
    decided_at: Mapped[dt.datetime]
    plan_before: Mapped[dict[str, Any] | None]
