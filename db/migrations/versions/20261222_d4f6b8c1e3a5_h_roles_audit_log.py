"""h-roles: the audit log of operator actions

Recover, launch, pause, resume, kill, erase, settings, invitations, role changes,
deactivations, exports and held messages settled: each written by its service in the
transaction of the change. Subjects are ids, never personal data.

Revision ID: d4f6b8c1e3a5
Revises: c3e5a7b9d2f4
Create Date: 2026-12-22 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d4f6b8c1e3a5"
down_revision: str | None = "c3e5a7b9d2f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIONS = (
    "action IN ('recover', 'launch', 'pause', 'resume', 'kill', 'erase', 'settings', 'invite', "
    "'role_change', 'deactivate', 'export', 'release_held')"
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(ACTIONS, name=op.f("ck_audit_log_action")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_audit_log_operator_id_operators"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_log_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_tenant", "audit_log", ["tenant_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_log_tenant", table_name="audit_log")
    op.drop_table("audit_log")
