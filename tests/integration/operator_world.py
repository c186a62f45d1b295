"""What the role-check and audit-log tests share: a fixed clock, one set of valid recovery rules,
SQL read back as rows, and an operator of a given role made in SQL (the services re-read it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

NOW = dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)
RULES = {
    "ladder_hours": [12, 36],
    "cooldown_hours": 6,
    "holdout_percent": 20,
    "scan_cap": 250,
    "send_window_start_hour": 9,
    "send_window_end_hour": 18,
}


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def operator(engine: Engine, tenant: int, role: str, *, active: bool = True) -> int:
    [(operator_id,)] = sql(
        engine,
        """INSERT INTO operators (tenant_id, email, name, role, is_active)
           VALUES (:t, :e, 'X', :r, :a) RETURNING id""",
        t=tenant,
        e=f"{role}-{active}-{tenant}@roles.example",
        r=role,
        a=active,
    )
    return int(operator_id)
