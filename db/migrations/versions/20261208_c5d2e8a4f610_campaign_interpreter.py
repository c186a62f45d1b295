"""campaigns driven by the plan interpreter: episodes, a kill switch, and lead events as actions

- `enrollments.episode`: which silence of the lead this enrollment serves. A lead whose silence
  was reset and who goes quiet again starts episode n + 1 of the same enrollment row; every send
  and timer key carries the episode, so a rung can come again in a later episode and never twice
  in one.
- `campaigns.status` may be `killed`: a kill cancels every queued send at once and, unlike
  `paused`, cannot be resumed.
- `scheduled_actions.kind` may be `event`: what a lead did (opened, clicked, replied, ...) waits
  there, in order, for the interpreter like a timer does, so events and timers go through one
  door (`app/services/campaign_run.py`).

Revision ID: c5d2e8a4f610
Revises: a7c3e5f19b42
Create Date: 2026-12-08 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5d2e8a4f610"
down_revision: str | None = "a7c3e5f19b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_CAMPAIGN = "status IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'archived')"
_NEW_CAMPAIGN = "status IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'archived', 'killed')"
_OLD_KIND = "kind IN ('send', 'no_open', 'no_click', 'no_reply', 'wait')"
_NEW_KIND = "kind IN ('send', 'no_open', 'no_click', 'no_reply', 'wait', 'event')"


def upgrade() -> None:
    op.add_column("enrollments", sa.Column("episode", sa.Integer(), server_default=sa.text("1"), nullable=False))
    op.create_check_constraint(op.f("ck_enrollments_episode"), "enrollments", "episode >= 1")
    _replace_check("campaigns", "ck_campaigns_status", _NEW_CAMPAIGN)
    _replace_check("scheduled_actions", "ck_scheduled_actions_kind", _NEW_KIND)
    # The interpreter's due work: pending timers and events by due time, per tenant.
    op.create_index(
        "ix_scheduled_actions_pending_interpreter",
        "scheduled_actions",
        ["tenant_id", "due_at"],
        postgresql_where=sa.text("status = 'pending' AND kind <> 'send'"),
    )

    # An enrollment's own actions: its timers canceled at each step, its latest send on the dashboard.
    op.create_index("ix_scheduled_actions_enrollment", "scheduled_actions", ["enrollment_id"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_actions_enrollment", table_name="scheduled_actions")
    op.drop_index("ix_scheduled_actions_pending_interpreter", table_name="scheduled_actions")
    op.execute("DELETE FROM scheduled_actions WHERE kind = 'event'")
    op.execute("UPDATE campaigns SET status = 'archived' WHERE status = 'killed'")
    _replace_check("scheduled_actions", "ck_scheduled_actions_kind", _OLD_KIND)
    _replace_check("campaigns", "ck_campaigns_status", _OLD_CAMPAIGN)
    op.drop_constraint(op.f("ck_enrollments_episode"), "enrollments", type_="check")
    op.drop_column("enrollments", "episode")


def _replace_check(table: str, name: str, condition: str) -> None:
    op.drop_constraint(op.f(name), table, type_="check")
    op.create_check_constraint(op.f(name), table, condition)
