"""conversions: the client's own id of a conversion, unique per tenant, so a retry cannot count twice

`POST /api/conversions` takes an optional client id per conversion (the body's `id`, or the
`Idempotency-Key` header); a second delivery of the same id finds the first row instead of
adding another. NULL for conversions recorded without one (the console, the demo seed).

Revision ID: a7c3e5f19b42
Revises: 3f9a6c1d2e47
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e5f19b42"
down_revision: str | None = "3f9a6c1d2e47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("conversions", sa.Column("external_id", sa.Text(), nullable=True))
    op.create_unique_constraint(
        op.f("uq_conversions_tenant_id_external_id"), "conversions", ["tenant_id", "external_id"]
    )


def downgrade() -> None:
    op.drop_constraint(op.f("uq_conversions_tenant_id_external_id"), "conversions", type_="unique")
    op.drop_column("conversions", "external_id")
