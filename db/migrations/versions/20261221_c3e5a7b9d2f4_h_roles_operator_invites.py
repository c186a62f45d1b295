"""h-roles: one-time invitations to join a tenant with a role

An owner or an admin invites an operator from the Operators page; the link carries a random
token of which only the SHA-256 is stored. It works once, until it expires.

Revision ID: c3e5a7b9d2f4
Revises: b2d4f6a8c1e3
Create Date: 2026-12-21 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3e5a7b9d2f4"
down_revision: str | None = "b2d4f6a8c1e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator_invites",
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'manager', 'rep', 'viewer')", name=op.f("ck_operator_invites_role")
        ),
        sa.CheckConstraint("expires_at > created_at", name=op.f("ck_operator_invites_expires_after_creation")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["operators.id"],
            name=op.f("fk_operator_invites_created_by_operators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_operator_invites_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_operator_invites_token_hash")),
    )
    op.create_index("ix_operator_invites_tenant", "operator_invites", ["tenant_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_operator_invites_tenant", table_name="operator_invites")
    op.drop_table("operator_invites")
