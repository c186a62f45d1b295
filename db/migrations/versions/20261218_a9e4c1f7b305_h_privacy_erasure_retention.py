"""h-privacy: erased leads are marked, and a tenant may set how long closed leads are kept

`leads.erased_at` says when a lead's personal data was removed (by an erasure request or by
retention): the row stays, anonymised, so counts and revenue stay right, and the retention
agent skips it. `tenants.retention_days` is how long a closed lead (recovered or lost) is kept
before the retention agent anonymises it; NULL keeps leads for good. A partial index serves
the agent's search for closed leads not yet anonymised.

Revision ID: a9e4c1f7b305
Revises: a4c9e1b7d352
Create Date: 2026-12-16 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9e4c1f7b305"
down_revision: str | None = "a4c9e1b7d352"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("leads", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tenants", sa.Column("retention_days", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_tenants_retention_days"), "tenants", "retention_days IS NULL OR retention_days BETWEEN 1 AND 36500"
    )
    op.create_index(
        "ix_leads_closed_unerased",
        "leads",
        ["tenant_id", "last_activity_at"],
        postgresql_where=sa.text("recovery_state IN ('recovered', 'lost') AND erased_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_leads_closed_unerased", table_name="leads")
    op.drop_constraint(op.f("ck_tenants_retention_days"), "tenants", type_="check")
    op.drop_column("tenants", "retention_days")
    op.drop_column("leads", "erased_at")
