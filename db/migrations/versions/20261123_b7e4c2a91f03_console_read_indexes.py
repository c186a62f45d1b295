"""console reads at a million leads: the lead map's sample, attribution's sends, the heat-map's
clicks, the hold-out's first enrollments

Measured by bench/pages.py (1 M leads, 10 M events, 333k leads in the biggest tenant). Each
index turns a full pass over the tenant's rows into a range that stops early or never visits
the heap:
- ix_leads_sample (tenant, md5(id), id): the lead map's deterministic 100,000-lead sample
  walked in hash order and stopped, instead of hashing and sorting every lead of the tenant;
- ix_outbound_messages_tenant_sent (tenant, sent_at) INCLUDE the group keys and cost:
  attribution's "sent and cost in the window", index-only, instead of a full table scan;
- ix_message_events_tenant_type_time (tenant, event_type, occurred_at) INCLUDE lead_id: the
  heat-map's clicks of the window, instead of every event of the tenant;
- ix_enrollments_tenant_lead (tenant, lead, enrolled_at, id) INCLUDE is_control, campaign,
  status: the hold-out's first enrollment per lead without a sort, and the campaign list's
  counts, both index-only.

Revision ID: b7e4c2a91f03
Revises: 5c1e0a9b7d21
Create Date: 2026-11-23 15:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e4c2a91f03"
down_revision: str | None = "5c1e0a9b7d21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_leads_sample", "leads", ["tenant_id", sa.text("md5(id::text)"), "id"], unique=False)
    op.create_index(
        "ix_outbound_messages_tenant_sent",
        "outbound_messages",
        ["tenant_id", "sent_at"],
        unique=False,
        postgresql_include=["campaign_id", "channel", "source", "cost_usd"],
    )
    op.create_index(
        "ix_message_events_tenant_type_time",
        "message_events",
        ["tenant_id", "event_type", "occurred_at"],
        unique=False,
        postgresql_include=["lead_id"],
    )
    op.create_index(
        "ix_enrollments_tenant_lead",
        "enrollments",
        ["tenant_id", "lead_id", "enrolled_at", "id"],
        unique=False,
        postgresql_include=["is_control", "campaign_id", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_enrollments_tenant_lead", table_name="enrollments")
    op.drop_index("ix_message_events_tenant_type_time", table_name="message_events")
    op.drop_index("ix_outbound_messages_tenant_sent", table_name="outbound_messages")
    op.drop_index("ix_leads_sample", table_name="leads")
