"""The audit log is written by each service in the transaction of the change: an action that
happens has its entry, a refused one has none, and entries name ids, never personal data."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from app.services import audit, erasure, held, operator_admin, scan, tenant_settings
from tests.integration import outbox
from tests.integration.operator_world import NOW, RULES, operator, sql


def logged(engine: Engine, tenant: int) -> list[tuple[Any, ...]]:
    query = "SELECT operator_id, action, subject, details FROM audit_log WHERE tenant_id = :t ORDER BY id"
    return [tuple(r) for r in sql(engine, query, t=tenant)]


@pytest.fixture
def world(clean_db: Engine) -> dict[str, int]:
    acme = outbox.make_tenant(clean_db, slug="acme")
    leads = outbox.make_leads(clean_db, acme, 2)
    outbox.make_messages(clean_db, acme, leads[:1])
    sql(clean_db, "UPDATE outbound_messages SET status = 'held', claimed_at = now() - interval '3 hours'")
    people = {role: operator(clean_db, acme, role) for role in ("owner", "manager", "rep")}
    return {"acme": acme, "lead": leads[0], "other_lead": leads[1], **people}


def test_each_action_logs_once_in_its_transaction_and_refusals_log_nothing(
    clean_db: Engine, world: dict[str, int]
) -> None:
    acme, owner, manager, rep = world["acme"], world["owner"], world["manager"], world["rep"]
    with pytest.raises(PermissionError):
        tenant_settings.update_recovery_rules(tenant_id=acme, operator_id=rep, **RULES)
    assert logged(clean_db, acme) == []

    tenant_settings.update_recovery_rules(tenant_id=acme, operator_id=manager, **RULES)
    held.release(tenant_id=acme, decision="failed", operator_id=rep)
    operator_admin.change_role(tenant_id=acme, actor_id=owner, operator_id=rep, role="viewer")
    erasure.erase_lead(tenant_id=acme, lead_id=world["lead"], operator_id=owner, now=NOW)
    assert logged(clean_db, acme) == [
        (manager, "settings", "recovery rules", {}),
        (rep, "release_held", "", {"decision": "failed", "decided": 1, "still_held": 0}),
        (owner, "role_change", f"operator {rep}", {"from": "rep", "to": "viewer"}),
        (owner, "erase", f"lead {world['lead']}", {}),
    ]
    assert "@" not in str(logged(clean_db, acme)), "no email address in the log"


def test_recover_now_logs_the_leads_it_enrolled(clean_db: Engine, world: dict[str, int]) -> None:
    scan.recover_now(tenant_id=world["acme"], lead_ids=[world["other_lead"]], operator_id=world["rep"])
    [(operator_id, action, subject, details)] = logged(clean_db, world["acme"])
    assert (operator_id, action, details["asked"]) == (world["rep"], "recover", 1)
    assert subject == f"{len(details['enrolled'])} lead(s)"


def test_only_owners_and_admins_read_the_log_and_an_export_is_logged(clean_db: Engine, world: dict[str, int]) -> None:
    acme = world["acme"]
    with pytest.raises(PermissionError, match="read its audit log"):
        audit.entries(tenant_id=acme, operator_id=world["manager"])
    with pytest.raises(PermissionError):
        audit.export(tenant_id=acme, operator_id=world["rep"])
    assert audit.export(tenant_id=acme, operator_id=world["owner"]) == []
    assert logged(clean_db, acme) == [(world["owner"], "export", "audit log", {})]
