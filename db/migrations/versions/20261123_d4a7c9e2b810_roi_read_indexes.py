"""ROI reads at a million leads: AI spend per day index-only, leads created before a moment

Measured at 1 M leads in 3 tenants (333k leads and ~190k AI generations in 90 days per tenant)
on the 2-core machine: the ROI page's AI cost per day read every generation's heap row
(~0.15-0.25 s) and the naive before/after counted the tenant's leads created before the
engine's start with a sequential scan of every lead (~0.3 s). With these:
- ix_ai_generations_tenant_time gains INCLUDE (cost_usd): the window's spend by day is an
  index-only range (the Leads drawer's month-to-date AI budget reads the same range);
- ix_leads_tenant_created (tenant, created_at): the before/after's lead counts, index-only.

Revision ID: d4a7c9e2b810
Revises: b7e4c2a91f03
Create Date: 2026-11-23 15:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d4a7c9e2b810"
down_revision: str | None = "b7e4c2a91f03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_ai_generations_tenant_time", table_name="ai_generations")
    op.create_index(
        "ix_ai_generations_tenant_time",
        "ai_generations",
        ["tenant_id", "created_at"],
        unique=False,
        postgresql_include=["cost_usd"],
    )
    op.create_index("ix_leads_tenant_created", "leads", ["tenant_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_leads_tenant_created", table_name="leads")
    op.drop_index("ix_ai_generations_tenant_time", table_name="ai_generations")
    op.create_index("ix_ai_generations_tenant_time", "ai_generations", ["tenant_id", "created_at"], unique=False)
