"""h-replies: the owner alert of a reply is shown once

Triage flags a reply `alert` when the lead is interested or asks a question (or only the model
thinks they opted out): the lead's owner is told with a console toast the next time they open
or refresh the console. `alerted_at` and `alerted_to` record when and to whom it was shown, so
it is shown once; the partial index finds a tenant's alerts not yet shown.

Revision ID: a7c3e9f1b5d2
Revises: d8b1f4e6a2c3
Create Date: 2026-12-10 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e9f1b5d2"
down_revision: str | None = "d8b1f4e6a2c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WAITING = sa.text("alert AND alerted_at IS NULL AND handled_at IS NULL")


def upgrade() -> None:
    op.add_column("inbound_messages", sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "inbound_messages",
        sa.Column(
            "alerted_to",
            sa.BigInteger(),
            sa.ForeignKey("operators.id", ondelete="SET NULL", name="fk_inbound_messages_alerted_to_operators"),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_inbound_messages_alerts", "inbound_messages", ["tenant_id", "lead_id"], postgresql_where=_WAITING
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_messages_alerts", table_name="inbound_messages")
    op.drop_column("inbound_messages", "alerted_to")
    op.drop_column("inbound_messages", "alerted_at")
