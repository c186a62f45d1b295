"""Every state-changing service checks the caller's role on the server (`app/services/acting.py`).

A viewer, a rep, a deactivated owner or another tenant's owner calling a service directly
(as a tampered page would) gets a PermissionError naming who may, and nothing is written: the
rows each service would change are read back with SQL written here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from app.services import (
    ab_decisions,
    agent_status,
    campaign_drafts,
    campaign_lifecycle,
    erasure,
    held,
    insight,
    tenant_settings,
)
from tests.integration import outbox
from tests.integration.operator_world import NOW, RULES, operator, sql


@pytest.fixture
def world(clean_db: Engine) -> dict[str, int]:
    acme = outbox.make_tenant(clean_db, slug="acme")
    birch = outbox.make_tenant(clean_db, slug="birch")
    [lead] = outbox.make_leads(clean_db, acme, 1)
    outbox.make_messages(clean_db, acme, [lead])
    sql(clean_db, "UPDATE outbound_messages SET status = 'held', claimed_at = now() - interval '3 hours'")
    return {
        "acme": acme,
        "lead": lead,
        "viewer": operator(clean_db, acme, "viewer"),
        "rep": operator(clean_db, acme, "rep"),
        "manager": operator(clean_db, acme, "manager"),
        "gone-owner": operator(clean_db, acme, "owner", active=False),
        "birch-owner": operator(clean_db, birch, "owner"),
    }


def test_a_viewer_may_not_ask_for_an_insight_and_nothing_is_spent(clean_db: Engine, world: dict[str, int]) -> None:
    with pytest.raises(PermissionError, match="Only an owner, admin, manager or rep of this tenant"):
        insight.write_insight(tenant_id=world["acme"], lead_id=world["lead"], operator_id=world["viewer"])
    assert sql(clean_db, "SELECT count(*) FROM ai_generations") == [(0,)]


def test_a_viewer_may_not_settle_held_messages(clean_db: Engine, world: dict[str, int]) -> None:
    with pytest.raises(PermissionError, match="settle its held messages"):
        held.release(tenant_id=world["acme"], decision="sent", operator_id=world["viewer"])
    assert sql(clean_db, "SELECT status FROM outbound_messages") == [("held",)]


def test_a_viewer_may_not_draft_a_campaign(clean_db: Engine, world: dict[str, int]) -> None:
    with pytest.raises(PermissionError, match="you are: viewer"):
        campaign_drafts.create_draft(tenant_id=world["acme"], operator_id=world["viewer"], name="X", now=NOW)
    assert sql(clean_db, "SELECT count(*) FROM campaigns WHERE name = 'X'") == [(0,)]


def test_a_rep_drafts_a_campaign_but_only_managers_and_up_launch_it(clean_db: Engine, world: dict[str, int]) -> None:
    draft = campaign_drafts.create_draft(tenant_id=world["acme"], operator_id=world["rep"], name="Spring", now=NOW)
    with pytest.raises(PermissionError, match="Only an owner, admin or manager of this tenant may launch"):
        campaign_lifecycle.launch(tenant_id=world["acme"], campaign_id=draft, operator_id=world["rep"], now=NOW)
    assert sql(clean_db, "SELECT name, status FROM campaigns WHERE id = :c", c=draft) == [("Spring", "draft")]
    assert sql(clean_db, "SELECT count(*) FROM enrollments") == [(0,)]


@pytest.mark.parametrize("who", ["viewer", "rep", "gone-owner", "birch-owner"])
def test_settings_are_refused_to_all_but_the_tenants_managers_and_up(
    clean_db: Engine, world: dict[str, int], who: str
) -> None:
    before = sql(clean_db, "SELECT silence_ladder_hours, scan_cap FROM tenants WHERE id = :t", t=world["acme"])
    with pytest.raises(PermissionError, match="Only an owner, admin or manager of this tenant may change"):
        tenant_settings.update_recovery_rules(tenant_id=world["acme"], operator_id=world[who], **RULES)
    after = sql(clean_db, "SELECT silence_ladder_hours, scan_cap FROM tenants WHERE id = :t", t=world["acme"])
    assert after == before


@pytest.mark.parametrize("who", ["manager", "gone-owner", "birch-owner"])
def test_erasure_is_refused_to_all_but_the_tenants_owners_and_admins(
    clean_db: Engine, world: dict[str, int], who: str
) -> None:
    before = sql(clean_db, "SELECT email, phone, first_name FROM leads WHERE id = :l", l=world["lead"])
    with pytest.raises(PermissionError):
        erasure.erase_lead(tenant_id=world["acme"], lead_id=world["lead"], operator_id=world[who], now=NOW)
    assert sql(clean_db, "SELECT email, phone, first_name FROM leads WHERE id = :l", l=world["lead"]) == before


def test_a_viewer_may_neither_retry_a_job_nor_record_an_ab_verdict(clean_db: Engine, world: dict[str, int]) -> None:
    """Both are refused before any lookup: the role is checked first, so nothing is touched."""
    with pytest.raises(PermissionError, match="retry its failed jobs"):
        agent_status.retry_failed_job("any-job", tenant_id=world["acme"], operator_id=world["viewer"])
    with pytest.raises(PermissionError, match="launch, pause or kill"):
        ab_decisions.decide(tenant_id=world["acme"], campaign_id=1, now=NOW, operator_id=world["viewer"])
    assert sql(clean_db, "SELECT count(*) FROM campaign_decisions") == [(0,)]
