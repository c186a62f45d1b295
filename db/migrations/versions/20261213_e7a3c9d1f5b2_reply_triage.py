"""reply triage: why a reply was read as it was, the owner alert, and what the lead asked for

- `inbound_messages.triage_reason`: the one-line reason shown beside the intent.
- `inbound_messages.triage_until`: the date the reply named (back from leave, "next month").
- `inbound_messages.alert`: interested or question replies the owner must see first.
- `leads.snoozed_until`: "not now": the scan should leave the lead alone until then.
- `leads.wrong_person`: the reply said we reached someone else.
- `leads.resume_at`: out of office: the next step should wait until then.

Revision ID: e7a3c9d1f5b2
Revises: e3a9c7b5d214
Create Date: 2026-12-12 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7a3c9d1f5b2"
down_revision: str | None = "e3a9c7b5d214"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inbound_messages", sa.Column("triage_reason", sa.Text(), nullable=True))
    op.add_column("inbound_messages", sa.Column("triage_until", sa.Date(), nullable=True))
    op.add_column("inbound_messages", sa.Column("alert", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.add_column("leads", sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("leads", sa.Column("resume_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("leads", sa.Column("wrong_person", sa.Boolean(), server_default=sa.text("false"), nullable=False))


def downgrade() -> None:
    for table, column in (
        ("leads", "wrong_person"),
        ("leads", "resume_at"),
        ("leads", "snoozed_until"),
        ("inbound_messages", "alert"),
        ("inbound_messages", "triage_until"),
        ("inbound_messages", "triage_reason"),
    ):
        op.drop_column(table, column)
