"""the interpreter claims its due work in index order

`fire_due` takes the oldest `FIRE_LIMIT` due timers and events of a tenant, `ORDER BY due_at,
id`, in rounds. With the pending-work index on (tenant_id, due_at) only, every round had to
read and sort every due row of the tenant to find its first 5,000 (a launch makes 100,000
timers due at one moment: 20 rounds, each sorting all of them); with `id` in the index the
round reads its 5,000 in order and stops (bench/campaigns.py).

Revision ID: d8b1f4e6a2c3
Revises: c4e8b2d6f1a3
Create Date: 2026-12-09 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d8b1f4e6a2c3"
down_revision: str | None = "c4e8b2d6f1a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("status = 'pending' AND kind <> 'send'")


def upgrade() -> None:
    op.drop_index("ix_scheduled_actions_pending_interpreter", table_name="scheduled_actions")
    op.create_index(
        "ix_scheduled_actions_pending_interpreter",
        "scheduled_actions",
        ["tenant_id", "due_at", "id"],
        postgresql_where=_PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_scheduled_actions_pending_interpreter", table_name="scheduled_actions")
    op.create_index(
        "ix_scheduled_actions_pending_interpreter",
        "scheduled_actions",
        ["tenant_id", "due_at"],
        postgresql_where=_PENDING,
    )
