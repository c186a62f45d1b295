"""The silence scan on real PostgreSQL, continued from test_scan.py: the recovery campaign it
runs under, tenant isolation, a constant number of statements per scan, and the leads it
leaves alone for a while (snoozed, wrong person).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from app.services import scan
from db.models import (
    Campaign,
    Enrollment,
    ScheduledAction,
)
from tests.integration.scan_world import (
    NOW,
    enrolled_rungs,
    lead,
    make_lead,
    make_leads,
    make_tenant,
    rows,
)


@pytest.fixture
def tenant(clean_db: Engine) -> int:
    return make_tenant(clean_db)


# --- the recovery campaign --------------------------------------------------------------------


def test_the_first_scan_creates_a_running_recovery_campaign_from_the_ladder(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db, silence_ladder_hours=[12, 36, 96, 200])
    make_lead(clean_db, tenant)
    result = scan.scan_tenant(tenant_id=tenant, now=NOW)

    [campaign] = rows(clean_db, Campaign)
    assert (campaign.id, campaign.kind, campaign.status) == (result.campaign_id, "recovery", "running")
    assert campaign.plan["version"] == 2
    sends = [node for node in campaign.plan["nodes"] if node["kind"] == "send"]
    assert [node["id"] for node in sends] == ["rung-1", "rung-2", "rung-3", "rung-4"]
    waits = [node for node in campaign.plan["nodes"] if node["kind"] == "wait"]
    # the gaps of the ladder 12/36/96/200 h, then as long as the whole ladder for an answer
    assert [(node["id"], node["duration"]) for node in waits] == [
        ("wait-1", "PT24H"),
        ("wait-2", "PT60H"),
        ("wait-3", "PT104H"),
        ("wait-4", "PT200H"),
    ]
    assert campaign.plan["start"] == "rung-1"


def test_the_oldest_running_recovery_campaign_is_used(clean_db: Engine, tenant: int) -> None:
    with clean_db.begin() as conn:
        made = [
            conn.execute(
                sa.insert(Campaign)
                .values(tenant_id=tenant, name=name, kind=kind, status=status, created_at=NOW - timedelta(days=age))
                .returning(Campaign.id)
            ).scalar_one()
            for name, kind, status, age in [
                ("paused", "recovery", "paused", 30),
                ("sequence", "sequence", "running", 20),
                ("old", "recovery", "running", 10),
                ("new", "recovery", "running", 1),
            ]
        ]
    make_lead(clean_db, tenant)
    assert scan.scan_tenant(tenant_id=tenant, now=NOW).campaign_id == made[2]


def test_an_unknown_tenant_is_an_error(clean_db: Engine) -> None:
    with pytest.raises(LookupError, match="no tenant"):
        scan.scan_tenant(tenant_id=999, now=NOW)


# --- isolation and shape ----------------------------------------------------------------------


def test_a_scan_of_one_tenant_never_touches_another(clean_db: Engine) -> None:
    acme, globex = make_tenant(clean_db, "acme"), make_tenant(clean_db, "globex")
    make_leads(clean_db, acme, 5)
    theirs = make_leads(clean_db, globex, 5)

    result = scan.scan_tenant(tenant_id=acme, now=NOW)

    assert result.enrolled == 5
    assert {r.tenant_id for r in rows(clean_db, Enrollment)} == {acme}
    assert {r.tenant_id for r in rows(clean_db, ScheduledAction)} == {acme}
    assert {r.tenant_id for r in rows(clean_db, Campaign)} == {acme}
    assert {(lead(clean_db, i).silence_level, lead(clean_db, i).recovery_state) for i in theirs} == {(0, "active")}


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_a_scan_is_a_constant_number_of_statements(clean_db: Engine) -> None:
    small, large = make_tenant(clean_db, "small"), make_tenant(clean_db, "large")
    make_leads(clean_db, small, 3)
    make_leads(clean_db, large, 300)
    scan.scan_tenant(tenant_id=small, now=NOW - timedelta(days=10))  # both campaigns exist now
    scan.scan_tenant(tenant_id=large, now=NOW - timedelta(days=10))

    with counting_statements(clean_db) as few:
        assert scan.scan_tenant(tenant_id=small, now=NOW).enrolled == 3
    with counting_statements(clean_db) as many:
        assert scan.scan_tenant(tenant_id=large, now=NOW).enrolled == 300

    # lock, campaign, its plan, the pick, the leads' facts, one statement for the enrollments,
    # their sends and timers, the audit and the climb, the leads entered: the same for 3 leads as for 300
    assert len(few) == len(many) == 7
    assert sum("INSERT INTO enrollments" in s for s in many) == 1


def test_a_snoozed_lead_waits_for_its_date_and_a_wrong_person_is_left_alone(clean_db: Engine, tenant: int) -> None:
    """Triage snoozes a "not now" reply and flags a wrong person; the scan honours both."""
    snoozed = make_lead(clean_db, tenant, snoozed_until=NOW + timedelta(days=3))
    woken = make_lead(clean_db, tenant, snoozed_until=NOW - timedelta(hours=1))
    make_lead(clean_db, tenant, wrong_person=True)

    assert set(enrolled_rungs(clean_db, tenant)) == set()
    scan.scan_tenant(tenant_id=tenant, now=NOW)
    assert set(enrolled_rungs(clean_db, tenant)) == {woken}

    scan.scan_tenant(tenant_id=tenant, now=NOW + timedelta(days=3))
    assert set(enrolled_rungs(clean_db, tenant)) == {woken, snoozed}
