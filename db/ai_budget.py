"""The tenant's AI budget: what it may still spend on Claude this month.

The writer, the insight and the wizard's "Draft with AI" read it before they call Claude.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text

from .queries import (
    Bind,
    _connection,
)

# --- AI budget --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AiBudget:
    """The tenant's monthly Claude budget and what this UTC calendar month has spent (USD)."""

    budget: Decimal
    spent: Decimal

    @property
    def left(self) -> Decimal | None:
        """What may still be spent this month; None when the budget is 0 (no cap)."""
        return None if not self.budget else max(self.budget - self.spent, Decimal(0))


def ai_budget(bind: Bind, tenant_id: int) -> AiBudget:
    """The writer's and the insight's one budget read: a range of ix_ai_generations_tenant_time
    from the start of the UTC month (stated, so it never depends on the session's time zone)."""
    sql = text(
        """
        SELECT t.ai_monthly_budget AS budget,
               (SELECT coalesce(sum(g.cost_usd), 0) FROM ai_generations g
                WHERE g.tenant_id = t.id
                  AND g.created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS spent
        FROM tenants t WHERE t.id = :tenant_id
        """
    )
    with _connection(bind) as conn:
        row = conn.execute(sql, {"tenant_id": tenant_id}).first()
    return AiBudget(Decimal(0), Decimal(0)) if row is None else AiBudget(Decimal(row.budget), Decimal(row.spent))
