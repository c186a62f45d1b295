"""reply labels: a rep's "correct the intent" kept as a labelled example for triage to learn from

- `reply_labels`: one per inbound message (a later correction replaces it), with the words as
  they were, the channel, the intent triage gave and the one the rep chose, and who chose it.

Revision ID: e3a9c7b5d214
Revises: b4f1d7e2a913
Create Date: 2026-12-06 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3a9c7b5d214"
down_revision: str | None = "b4f1d7e2a913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INTENTS = "'interested', 'question', 'not_now', 'not_interested', 'unsubscribe', 'out_of_office', 'wrong_person'"


def upgrade() -> None:
    op.create_table(
        "reply_labels",
        sa.Column("inbound_message_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.Text(), nullable=False),
        sa.Column("previous_intent", sa.Text(), nullable=True),
        sa.Column("labelled_by", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"intent IN ({_INTENTS})", name=op.f("ck_reply_labels_intent")),
        sa.CheckConstraint(
            f"previous_intent IS NULL OR previous_intent IN ({_INTENTS})", name=op.f("ck_reply_labels_previous_intent")
        ),
        sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f("ck_reply_labels_channel")),
        sa.ForeignKeyConstraint(
            ["inbound_message_id"],
            ["inbound_messages.id"],
            name=op.f("fk_reply_labels_inbound_message_id_inbound_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["labelled_by"], ["operators.id"], name=op.f("fk_reply_labels_labelled_by_operators"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_reply_labels_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_labels")),
        sa.UniqueConstraint("inbound_message_id", name=op.f("uq_reply_labels_inbound_message_id")),
    )
    op.create_index("ix_reply_labels_tenant_created", "reply_labels", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_reply_labels_tenant_created", table_name="reply_labels")
    op.drop_table("reply_labels")
