"""hearing back: api keys, the webhook applier's ledger, provider error codes, unreachable phones

- `api_keys`: per-tenant bearer keys of the intake API, stored as SHA-256, revocable (replaces
  the single, never-used `tenants.api_key_hash`).
- `webhook_deliveries`: what the applier did with each accepted delivery (counts, applied_at),
  a check on `result`, and a partial index over the ones still waiting. Its raw bodies (up to
  a thousand SendGrid events, ~300 KB) are compressed with lz4 where the server has it:
  pglz cost the webhook route milliseconds per request; without lz4 (the embedded server) the
  default stays.
- `outbound_messages.error_code`: the provider's failure code (Twilio 30007, 21610, ...).
- `leads.phone_unreachable`: why texts cannot reach the lead's phone (Twilio 21211, 21614).

Revision ID: 3f9a6c1d2e47
Revises: e8f1a3c5b720
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f9a6c1d2e47"
down_revision: str | None = "e8f1a3c5b720"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ("event_count", "applied_count", "duplicate_count", "unmatched_count", "ignored_count")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["operators.id"], name=op.f("fk_api_keys_created_by_operators"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_api_keys_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index("ix_api_keys_tenant", "api_keys", ["tenant_id", "created_at"], unique=False)
    op.drop_constraint("uq_tenants_api_key_hash", "tenants", type_="unique")
    op.drop_column("tenants", "api_key_hash")

    op.add_column("webhook_deliveries", sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))
    for name in COUNTS:
        op.add_column("webhook_deliveries", sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.execute(
        "UPDATE webhook_deliveries SET result = 'applied' WHERE result NOT IN ('received', 'applied', 'rejected')"
    )
    op.create_check_constraint("result", "webhook_deliveries", "result IN ('received', 'applied', 'rejected')")
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["id"],
        unique=False,
        postgresql_where=sa.text("result = 'received'"),
    )

    op.execute(
        """
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM pg_settings
                       WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
                ALTER TABLE webhook_deliveries ALTER COLUMN body SET COMPRESSION lz4;
            END IF;
        END $$
        """
    )
    op.add_column("outbound_messages", sa.Column("error_code", sa.Text(), nullable=True))
    op.add_column("leads", sa.Column("phone_unreachable", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("leads", "phone_unreachable")
    op.drop_column("outbound_messages", "error_code")
    op.drop_index("ix_webhook_deliveries_pending", table_name="webhook_deliveries")
    op.drop_constraint("result", "webhook_deliveries", type_="check")
    for name in reversed(COUNTS):
        op.drop_column("webhook_deliveries", name)
    op.drop_column("webhook_deliveries", "applied_at")
    op.add_column("tenants", sa.Column("api_key_hash", sa.Text(), nullable=True))
    op.create_unique_constraint("uq_tenants_api_key_hash", "tenants", ["api_key_hash"])
    op.drop_index("ix_api_keys_tenant", table_name="api_keys")
    op.drop_table("api_keys")
