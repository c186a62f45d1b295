"""h-aiproto: ai_batch_requests, the scheduled drafts written through the Message Batches API

A send whose slot is an hour or more away is drafted at batch prices (half the standard
ones): the writer defers it here, the batch agent submits and polls, and the outbox row is
written when the answer arrives, or by the offline writer before the slot when it does not.
One row per send action (unique), one `custom_id` per asking row (unique, the API's pattern),
and the states' rules as checks.

Revision ID: a4c9e1b7d352
Revises: a7c3e9f1b5d2
Create Date: 2026-12-16 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a4c9e1b7d352"
down_revision: str | None = "a7c3e9f1b5d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_batch_requests",
        sa.Column("action_id", sa.BigInteger(), nullable=False),
        sa.Column("lead_id", sa.BigInteger(), nullable=False),
        sa.Column("prompt_hash", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        sa.Column("custom_id", sa.Text(), nullable=True),
        sa.Column("request", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("batch_id", sa.Text(), nullable=True),
        sa.Column("result_type", sa.Text(), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'submitted', 'answered', 'waiting', 'done')", name=op.f("ck_ai_batch_requests_status")
        ),
        sa.CheckConstraint(
            "result_type IS NULL OR result_type IN ('succeeded', 'errored', 'canceled', 'expired')",
            name=op.f("ck_ai_batch_requests_result_type"),
        ),
        sa.CheckConstraint(
            "(custom_id IS NULL) = (request IS NULL)", name=op.f("ck_ai_batch_requests_asks_with_a_request")
        ),
        sa.CheckConstraint(
            "custom_id IS NULL OR custom_id ~ '^[A-Za-z0-9_-]{1,64}$'", name=op.f("ck_ai_batch_requests_custom_id")
        ),
        sa.CheckConstraint(
            "status <> 'submitted' OR batch_id IS NOT NULL", name=op.f("ck_ai_batch_requests_submitted_in_a_batch")
        ),
        sa.CheckConstraint(
            "status <> 'waiting' OR custom_id IS NULL", name=op.f("ck_ai_batch_requests_waiters_ask_nothing")
        ),
        sa.CheckConstraint(
            "status NOT IN ('queued', 'submitted', 'answered') OR custom_id IS NOT NULL",
            name=op.f("ck_ai_batch_requests_askers"),
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["scheduled_actions.id"],
            name=op.f("fk_ai_batch_requests_action_id_scheduled_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_ai_batch_requests_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ai_batch_requests_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_batch_requests")),
        sa.UniqueConstraint("action_id", name=op.f("uq_ai_batch_requests_action_id")),
        sa.UniqueConstraint("custom_id", name=op.f("uq_ai_batch_requests_custom_id")),
    )
    op.create_index(
        "ix_ai_batch_requests_open", "ai_batch_requests", ["send_at"], postgresql_where=sa.text("status <> 'done'")
    )
    op.create_index(
        "ix_ai_batch_requests_batch",
        "ai_batch_requests",
        ["batch_id"],
        postgresql_where=sa.text("batch_id IS NOT NULL AND result_type IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ai_batch_requests_batch", table_name="ai_batch_requests")
    op.drop_index("ix_ai_batch_requests_open", table_name="ai_batch_requests")
    op.drop_table("ai_batch_requests")
