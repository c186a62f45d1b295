"""lead intake: the tenant's country for phone numbers, and the answers kept per Idempotency-Key

- `tenants.country`: ISO 3166-1 alpha-2. A phone imported without a country code (a CSV's
  "(415) 555-0100") is read as a number of this country; NULL reads it as a US number.
- `intake_requests`: `POST /api/leads` and `POST /api/activities` store, for a request made
  with an `Idempotency-Key`, the body's digest and the answer, in the transaction that wrote the
  rows; a retry with the same key gets the same answer and writes nothing. Unique per tenant,
  endpoint and key; expired by age (the tenant and time index).

Revision ID: b4f1d7e2a913
Revises: d8b4f2a61c93
Create Date: 2026-12-09 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b4f1d7e2a913"
down_revision: str | None = "d8b4f2a61c93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("country", sa.Text(), nullable=True))
    op.create_check_constraint(op.f("ck_tenants_country"), "tenants", "country IS NULL OR country ~ '^[A-Z]{2}$'")
    op.create_table(
        "intake_requests",
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.Text(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("endpoint IN ('leads', 'activities')", name=op.f("ck_intake_requests_endpoint")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_intake_requests_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_requests")),
        sa.UniqueConstraint("tenant_id", "endpoint", "key", name=op.f("uq_intake_requests_tenant_id_endpoint_key")),
    )
    op.create_index("ix_intake_requests_tenant_created", "intake_requests", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_intake_requests_tenant_created", table_name="intake_requests")
    op.drop_table("intake_requests")
    op.drop_constraint(op.f("ck_tenants_country"), "tenants", type_="check")
    op.drop_column("tenants", "country")
