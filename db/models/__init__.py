"""Typed SQLAlchemy 2 models for every table (docs/architecture.md), one module per concern.

Rules that protect customers live in the database, not only in Python: unique dedupe keys
(nothing is sent twice), one suppression per address, one enrollment per lead and campaign,
checks on every status column. Every row carries `tenant_id`, `created_at` and `updated_at`.
"""

from __future__ import annotations

from .audit import AUDIT_ACTIONS, AuditEntry
from .base import CHANNELS, NAMING, Base, TenantOwned, Timestamped, one_of
from .campaigns import (
    ACTION_KINDS,
    ACTION_STATUSES,
    CAMPAIGN_EVENTS,
    CAMPAIGN_KINDS,
    CAMPAIGN_STATUSES,
    DECISION_OUTCOMES,
    ENROLLMENT_STATUSES,
    Campaign,
    CampaignDecision,
    CampaignEvent,
    CampaignTransition,
    Enrollment,
    ScheduledAction,
    Template,
    TemplateVersion,
)
from .intake import INTAKE_ENDPOINTS, IntakeRequest
from .leads import ACTIVITY_KINDS, LEAD_STATES, SAMPLE_POINT_COLUMNS, Activity, Lead
from .ledgers import (
    AGENT_RUN_STATUSES,
    AI_BATCH_RESULTS,
    AI_BATCH_STATUSES,
    CONVERSION_METHODS,
    AgentRun,
    AIBatchRequest,
    AIGeneration,
    Conversion,
    MetricsDaily,
)
from .messaging import (
    DELIVERY_RESULTS,
    EVENT_TYPES,
    INTENTS,
    MESSAGE_SOURCES,
    MESSAGE_STATUSES,
    PRIORITIES,
    SENTIMENTS,
    SUPPRESSION_REASONS,
    InboundMessage,
    MessageEvent,
    OutboundMessage,
    Suppression,
    WebhookDelivery,
)
from .replies import ReplyLabel
from .tenancy import INVITE_ROLES, OPERATOR_ROLES, ApiKey, Operator, OperatorInvite, Tenant

TENANT_TABLES = [table for table in Base.metadata.sorted_tables if "tenant_id" in table.c]

__all__ = [
    "ACTION_KINDS",
    "ACTION_STATUSES",
    "ACTIVITY_KINDS",
    "AGENT_RUN_STATUSES",
    "AI_BATCH_RESULTS",
    "AI_BATCH_STATUSES",
    "AUDIT_ACTIONS",
    "CAMPAIGN_EVENTS",
    "CAMPAIGN_KINDS",
    "CAMPAIGN_STATUSES",
    "CHANNELS",
    "CONVERSION_METHODS",
    "DECISION_OUTCOMES",
    "DELIVERY_RESULTS",
    "ENROLLMENT_STATUSES",
    "EVENT_TYPES",
    "INTAKE_ENDPOINTS",
    "INTENTS",
    "INVITE_ROLES",
    "LEAD_STATES",
    "MESSAGE_SOURCES",
    "MESSAGE_STATUSES",
    "NAMING",
    "OPERATOR_ROLES",
    "PRIORITIES",
    "SAMPLE_POINT_COLUMNS",
    "SENTIMENTS",
    "SUPPRESSION_REASONS",
    "TENANT_TABLES",
    "AIBatchRequest",
    "AIGeneration",
    "Activity",
    "AgentRun",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignDecision",
    "CampaignEvent",
    "CampaignTransition",
    "Conversion",
    "Enrollment",
    "InboundMessage",
    "IntakeRequest",
    "Lead",
    "MessageEvent",
    "MetricsDaily",
    "Operator",
    "OperatorInvite",
    "OutboundMessage",
    "ReplyLabel",
    "ScheduledAction",
    "Suppression",
    "Template",
    "TemplateVersion",
    "Tenant",
    "TenantOwned",
    "Timestamped",
    "WebhookDelivery",
    "one_of",
]
