"""Changing a tenant's recovery rules: saved in one go, refused whole on a bad value or a wrong role."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from app.services import tenant_settings
from db.models import Operator, Tenant

RULES = (
    "silence_ladder_hours",
    "cooldown_hours",
    "holdout_percent",
    "scan_cap",
    "send_window_start_hour",
    "send_window_end_hour",
)
GOOD: dict[str, Any] = {
    "ladder_hours": [12, 36, 96],
    "cooldown_hours": 6,
    "holdout_percent": 20,
    "scan_cap": 250,
    "send_window_start_hour": 9,
    "send_window_end_hour": 17,
}


def insert(engine: Engine, model: type, **values: object) -> int:
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(model).values(**values).returning(model.id)).scalar_one())  # type: ignore[attr-defined]


def stored(engine: Engine, tenant_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(sa.text(f"SELECT {', '.join(RULES)} FROM tenants WHERE id = :t"), {"t": tenant_id}).one()
    return dict(row._mapping)


@pytest.fixture
def world(clean_db: Engine) -> dict[str, int]:
    acme = insert(clean_db, Tenant, slug="acme", name="Acme")
    birch = insert(clean_db, Tenant, slug="birch", name="Birch")
    ids = {"acme": acme, "birch": birch}
    for tenant, role in (("acme", "manager"), ("acme", "rep"), ("acme", "viewer"), ("birch", "manager")):
        ids[f"{tenant}-{role}"] = insert(
            clean_db, Operator, tenant_id=ids[tenant], email=f"{role}@{tenant}.example", name=role, role=role
        )
    ids["birch-admin"] = insert(
        clean_db, Operator, tenant_id=birch, email="admin@birch.example", name="Admin", role="admin"
    )
    ids["superuser"] = insert(
        clean_db, Operator, tenant_id=birch, email="root@birch.example", name="Root", role="superuser"
    )
    return ids


def test_a_manager_saves_the_rules_of_their_tenant(clean_db: Engine, world: dict[str, int]) -> None:
    birch_before = stored(clean_db, world["birch"])
    tenant_settings.update_recovery_rules(tenant_id=world["acme"], operator_id=world["acme-manager"], **GOOD)
    assert stored(clean_db, world["acme"]) == {
        "silence_ladder_hours": [12, 36, 96],
        "cooldown_hours": 6,
        "holdout_percent": 20,
        "scan_cap": 250,
        "send_window_start_hour": 9,
        "send_window_end_hour": 17,
    }
    assert stored(clean_db, world["birch"]) == birch_before


def test_only_the_superuser_may_change_another_tenant(clean_db: Engine, world: dict[str, int]) -> None:
    before = stored(clean_db, world["acme"])
    with pytest.raises(PermissionError, match="owner, admin or manager of this tenant"):
        tenant_settings.update_recovery_rules(tenant_id=world["acme"], operator_id=world["birch-admin"], **GOOD)
    assert stored(clean_db, world["acme"]) == before, "a tenant admin sees only their own tenant"
    tenant_settings.update_recovery_rules(tenant_id=world["acme"], operator_id=world["superuser"], **GOOD)
    assert stored(clean_db, world["acme"])["silence_ladder_hours"] == [12, 36, 96]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ladder_hours": [48, 24]}, "Silence ladder"),
        ({"ladder_hours": []}, "Silence ladder"),
        ({"ladder_hours": [-1]}, "Silence ladder"),
        ({"ladder_hours": [24, 24]}, "Silence ladder"),
        ({"ladder_hours": list(range(1, 12))}, "Silence ladder"),
        ({"holdout_percent": 60}, "Hold-out"),
        ({"holdout_percent": -1}, "Hold-out"),
        ({"cooldown_hours": -1}, "Cool-down"),
        ({"scan_cap": 0}, "Scan cap"),
        ({"scan_cap": 100_001}, "Scan cap"),
        ({"send_window_start_hour": 17, "send_window_end_hour": 9}, "Send window"),
        ({"send_window_start_hour": 8, "send_window_end_hour": 25}, "Send window"),
        ({"send_window_start_hour": -1}, "Send window"),
    ],
)
def test_a_bad_value_is_refused_by_name_and_nothing_changes(
    clean_db: Engine, world: dict[str, int], change: dict[str, Any], field: str
) -> None:
    before = stored(clean_db, world["acme"])
    with pytest.raises(ValueError, match=f"^{field}:"):
        tenant_settings.update_recovery_rules(
            tenant_id=world["acme"], operator_id=world["acme-manager"], **{**GOOD, **change}
        )
    assert stored(clean_db, world["acme"]) == before


@pytest.mark.parametrize("operator", ["acme-rep", "acme-viewer", "birch-manager"])
def test_reps_viewers_and_other_tenants_managers_are_refused(
    clean_db: Engine, world: dict[str, int], operator: str
) -> None:
    before = stored(clean_db, world["acme"])
    with pytest.raises(PermissionError):
        tenant_settings.update_recovery_rules(tenant_id=world["acme"], operator_id=world[operator], **GOOD)
    assert stored(clean_db, world["acme"]) == before


def test_an_unknown_or_inactive_operator_is_refused(clean_db: Engine, world: dict[str, int]) -> None:
    with clean_db.begin() as conn:
        conn.execute(sa.update(Operator).where(Operator.id == world["acme-manager"]).values(is_active=False))
    for operator_id in (world["acme-manager"], 999_999):
        with pytest.raises(PermissionError):
            tenant_settings.update_recovery_rules(tenant_id=world["acme"], operator_id=operator_id, **GOOD)
