"""campaign_decisions: the audit of each campaign's A/B verdict, one per campaign

A verdict belongs to the campaign, not to an enrollment, so it cannot be a
`campaign_transitions` row (whose enrollment is required). It keeps the figures the verdict was
made on (`stats`, as `app.domain.ab_test.decision_to_json` writes them), the rule's sentence,
and the plan as it was before a winner was promoted. Unique per campaign: deciding twice
records once.

Revision ID: c5e2a9d4f716
Revises: c5d2e8a4f610
Create Date: 2026-12-08 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c5e2a9d4f716"
down_revision: str | None = "c5d2e8a4f610"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_decisions",
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("winner", sa.Text(), nullable=True),
        sa.Column("stats", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan_before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("outcome IN ('winner', 'no_difference')", name=op.f("ck_campaign_decisions_outcome")),
        sa.CheckConstraint("(outcome = 'winner') = (winner IS NOT NULL)", name=op.f("ck_campaign_decisions_winner")),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_decisions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaign_decisions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_decisions")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_campaign_decisions_campaign_id")),
    )
    op.create_index(
        "ix_campaign_decisions_tenant_time", "campaign_decisions", ["tenant_id", "decided_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_decisions_tenant_time", table_name="campaign_decisions")
    op.drop_table("campaign_decisions")
