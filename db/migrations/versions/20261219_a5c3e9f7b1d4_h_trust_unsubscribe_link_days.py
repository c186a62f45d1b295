"""h-trust: how long a tenant's unsubscribe links keep working

Unsubscribe tokens now carry the day they were issued (`app/domain/unsubscribe.py`). A tenant
sets how many days they work, from 60 (CAN-SPAM asks for 30 after the message) to ten years;
365 by default.

Revision ID: a5c3e9f7b1d4
Revises: a9e4c1f7b305
Create Date: 2026-12-16 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a5c3e9f7b1d4"
down_revision: str | None = "a9e4c1f7b305"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tenants", sa.Column("unsubscribe_link_days", sa.Integer(), server_default=sa.text("365"), nullable=False)
    )
    op.create_check_constraint(
        op.f("ck_tenants_unsubscribe_link_days"), "tenants", "unsubscribe_link_days BETWEEN 60 AND 3650"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_tenants_unsubscribe_link_days"), "tenants", type_="check")
    op.drop_column("tenants", "unsubscribe_link_days")
