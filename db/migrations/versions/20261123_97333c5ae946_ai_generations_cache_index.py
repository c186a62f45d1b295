"""ai_generations: partial index for the writer's response cache

The cache serves the newest answer per (tenant, prompt_hash) among rows not themselves served
from the cache; cache hits pile up under the same hash, so the index leaves them out.

Revision ID: 97333c5ae946
Revises: f21790e8c480
Create Date: 2026-11-23 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "97333c5ae946"
down_revision: str | None = "f21790e8c480"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_ai_generations_cache",
        "ai_generations",
        ["tenant_id", "prompt_hash", sa.text("id DESC")],
        unique=False,
        postgresql_where=sa.text("NOT served_from_cache"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_ai_generations_cache", table_name="ai_generations", postgresql_where=sa.text("NOT served_from_cache")
    )
