"""silence scan: partial indexes for its per-rung ranges and its active-enrollment check

The scanner reads, per rung of the ladder, the open leads one level below that rung whose
last activity is older than the rung's threshold: an index range on (tenant, level, time).
Leads that already reached their rung, and closed ones, are never read. For each candidate it
asks whether the lead has an active or waiting enrollment: a probe of a small partial index
(without it the planner combined two large bitmaps per candidate, seconds per scan at 100k
leads a tenant; bench/scan.py).

Revision ID: 5c1e0a9b7d21
Revises: 97333c5ae946
Create Date: 2026-11-23 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e0a9b7d21"
down_revision: str | None = "97333c5ae946"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("recovery_state IN ('active', 'silent', 'in_recovery', 'control')")
ACTIVE = sa.text("status IN ('active', 'waiting')")


def upgrade() -> None:
    op.create_index(
        "ix_leads_silence_rung",
        "leads",
        ["tenant_id", "silence_level", "last_activity_at"],
        unique=False,
        postgresql_where=OPEN,
    )
    op.create_index("ix_enrollments_open_lead", "enrollments", ["lead_id"], unique=False, postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index("ix_enrollments_open_lead", table_name="enrollments", postgresql_where=ACTIVE)
    op.drop_index("ix_leads_silence_rung", table_name="leads", postgresql_where=OPEN)
