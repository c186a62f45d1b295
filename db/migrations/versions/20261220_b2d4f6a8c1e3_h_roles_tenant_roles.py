"""h-roles: roles per tenant (owner, admin, manager, rep, viewer) and the platform superuser

An operator's role is now one of six. `superuser` (made only by `python -m app create-superuser`)
sees every tenant; every other role, `admin` included, sees only its own tenant. Existing admins
keep the name and lose the other tenants: an installation that wants an operator of every tenant
makes a superuser from the command line.

Revision ID: b2d4f6a8c1e3
Revises: a5c3e9f7b1d4
Create Date: 2026-12-20 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b2d4f6a8c1e3"
down_revision: str | None = "a5c3e9f7b1d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = "role IN ('superuser', 'owner', 'admin', 'manager', 'rep', 'viewer')"
OLD_ROLES = "role IN ('admin', 'manager', 'rep', 'viewer')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_operators_role"), "operators", type_="check")
    op.create_check_constraint(op.f("ck_operators_role"), "operators", ROLES)


def downgrade() -> None:
    op.execute("UPDATE operators SET role = 'admin' WHERE role IN ('superuser', 'owner')")
    op.drop_constraint(op.f("ck_operators_role"), "operators", type_="check")
    op.create_check_constraint(op.f("ck_operators_role"), "operators", OLD_ROLES)
