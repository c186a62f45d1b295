"""campaign_events: the audit of a campaign as a whole (created, launched, started, paused, resumed, killed)

`campaign_transitions` records enrollment moves and needs an enrollment; a draft has none,
and a pause or a kill concerns every enrollment at once. Each row says who moved the campaign
from which status to which, when, and what the move did (`details`: leads enrolled, rows a
kill canceled).

Revision ID: d8b4f2a61c93
Revises: c5e2a9d4f716
Create Date: 2026-12-10 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d8b4f2a61c93"
down_revision: str | None = "c5e2a9d4f716"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENTS = "event IN ('created', 'launched', 'started', 'paused', 'resumed', 'killed')"
_STATUSES = "to_status IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'archived', 'killed')"


def upgrade() -> None:
    op.create_table(
        "campaign_events",
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(_EVENTS, name=op.f("ck_campaign_events_event")),
        sa.CheckConstraint(_STATUSES, name=op.f("ck_campaign_events_to_status")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_events_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_campaign_events_operator_id_operators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaign_events_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_events")),
    )
    op.create_index("ix_campaign_events_campaign", "campaign_events", ["campaign_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_campaign_events_campaign", table_name="campaign_events")
    op.drop_table("campaign_events")
