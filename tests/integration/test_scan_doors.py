"""What starts a scan from outside, on real PostgreSQL and Redis: a rep's "Recover now", the scanner
agent and its ledger, cron's fan-out to every tenant, and `python -m app scan`."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from rq import Queue
from sqlalchemy import Engine, text

from agents import scanner
from app import cli
from app.domain.holdout import is_control
from app.services import scan
from app.services.scan import RecoverOutcome
from db.models import (
    AgentRun,
    CampaignTransition,
    Enrollment,
    ScheduledAction,
)
from tests.integration.scan_world import lead, make_lead, make_leads, make_tenant, rows, suppress, table_counts


@pytest.fixture
def tenant(clean_db: Engine) -> int:
    return make_tenant(clean_db)


# --- recover now ------------------------------------------------------------------------------


def insert_operator(engine: Engine, tenant: int, role: str) -> int:
    with engine.begin() as conn:
        sql = "INSERT INTO operators (tenant_id, email, name, role) VALUES (:t, :e, 'X', :r) RETURNING id"
        return int(conn.execute(text(sql), {"t": tenant, "e": f"{role}@scan.example", "r": role}).scalar_one())


def test_a_viewer_may_not_recover_and_nothing_is_written(clean_db: Engine, tenant: int) -> None:
    fresh = make_lead(clean_db, tenant, silent_hours=1)
    viewer = insert_operator(clean_db, tenant, "viewer")
    with pytest.raises(PermissionError, match="Only an owner, admin, manager or rep of this tenant may recover"):
        scan.recover_now(tenant_id=tenant, lead_ids=[fresh], operator_id=viewer)
    assert rows(clean_db, Enrollment) == rows(clean_db, ScheduledAction) == []


def queued_jobs(connection: redis.Redis, queue_name: str = "default") -> list[tuple[str, dict[str, Any]]]:
    jobs = Queue(queue_name, connection=connection).get_jobs()
    return [(job.func_name, job.kwargs) for job in jobs]


def test_recover_now_twice_makes_one_enrollment_and_one_send(
    clean_db: Engine, tenant: int, redis_conn: redis.Redis
) -> None:
    fresh = make_lead(clean_db, tenant, silent_hours=1)  # the silence threshold is waived

    rep = insert_operator(clean_db, tenant, "rep")
    first = scan.recover_now(tenant_id=tenant, lead_ids=[fresh, fresh], operator_id=rep)
    second = scan.recover_now(tenant_id=tenant, lead_ids=[fresh], operator_id=rep)

    assert first.outcomes == {fresh: RecoverOutcome.ENROLLED}
    assert second.outcomes == {fresh: RecoverOutcome.ALREADY_IN_RECOVERY}
    assert len(rows(clean_db, Enrollment)) == len(rows(clean_db, ScheduledAction, ScheduledAction.kind == "send")) == 1
    transitions = rows(clean_db, CampaignTransition)
    assert [(t.from_node, t.to_node, t.event) for t in transitions] == [
        (None, "rung-1", "enrolled"),
        ("rung-1", "wait-1", "next"),
    ]
    assert all(t.reason.startswith(f"recover now by operator {rep}") for t in transitions)
    assert queued_jobs(redis_conn) == [("agents.writer.write_due", {"tenant_id": tenant})]


def test_recover_now_keeps_suppression_consent_holdout_and_tenant_rules(
    clean_db: Engine, redis_conn: redis.Redis
) -> None:
    tenant = make_tenant(clean_db, holdout_percent=50)
    ids = make_leads(clean_db, tenant, 40, silent_hours=2)
    control = next(i for i in ids if is_control(tenant, i, 50))
    treated = next(i for i in ids if not is_control(tenant, i, 50))
    unconsented = make_lead(clean_db, tenant, consent_email=False)
    suppressed = make_lead(clean_db, tenant, email="zed@example.com")
    suppress(clean_db, tenant, "email", "zed@example.com")
    at_the_top = make_lead(clean_db, tenant, silence_level=3)
    won = make_lead(clean_db, tenant, recovery_state="recovered")
    foreign = make_lead(clean_db, make_tenant(clean_db, "globex"))
    asked = [control, treated, unconsented, suppressed, at_the_top, won, foreign]

    result = scan.recover_now(tenant_id=tenant, lead_ids=asked, operator_id=None)

    assert result.outcomes == {
        control: RecoverOutcome.CONTROL,
        treated: RecoverOutcome.ENROLLED,
        unconsented: RecoverOutcome.SUPPRESSED,
        suppressed: RecoverOutcome.SUPPRESSED,
        at_the_top: RecoverOutcome.LADDER_COMPLETE,
        won: RecoverOutcome.RECOVERED,
        foreign: RecoverOutcome.NOT_FOUND,
    }
    assert [a.lead_id for a in rows(clean_db, ScheduledAction, ScheduledAction.kind == "send")] == [treated]
    assert lead(clean_db, foreign).silence_level == 0
    again = scan.recover_now(tenant_id=tenant, lead_ids=[control], operator_id=None)
    assert again.outcomes == {control: RecoverOutcome.CONTROL}
    assert lead(clean_db, control).silence_level == 1  # a second click does not climb a control lead


def test_recover_now_of_nothing_does_nothing(clean_db: Engine, tenant: int) -> None:
    assert scan.recover_now(tenant_id=tenant, lead_ids=[], operator_id=None).outcomes == {}
    assert table_counts(clean_db)["campaigns"] == 0


# --- the agent, the cron fan-out and the CLI --------------------------------------------------


def test_the_agent_records_its_run_and_wakes_the_writer(clean_db: Engine, tenant: int, redis_conn: redis.Redis) -> None:
    make_leads(clean_db, tenant, 4, silent_hours=48)

    counts = scanner.scan_tenant(tenant)

    assert counts == {"eligible": 4, "enrolled": 4, "control": 0, "capped": 0, "scheduled": 4}
    [run] = rows(clean_db, AgentRun)
    assert (run.agent, run.tenant_id, run.status, run.counts) == ("scanner", tenant, "succeeded", counts)
    assert queued_jobs(redis_conn) == [("agents.writer.write_due", {"tenant_id": tenant})]


def test_an_agent_scan_that_enrolls_nobody_wakes_nobody(clean_db: Engine, tenant: int, redis_conn: redis.Redis) -> None:
    assert scanner.scan_tenant(tenant)["enrolled"] == 0
    assert queued_jobs(redis_conn) == []


def test_scan_all_enqueues_one_scan_per_tenant(clean_db: Engine, redis_conn: redis.Redis) -> None:
    ids = [make_tenant(clean_db, slug) for slug in ("a", "b", "c")]
    assert scanner.scan_all() == {"tenants": 3}
    assert queued_jobs(redis_conn) == [("agents.scanner.scan_tenant", {"tenant_id": i}) for i in ids]


def test_cli_scan_prints_counts_and_wakes_the_writer(
    clean_db: Engine, redis_conn: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    acme, globex = make_tenant(clean_db, "acme"), make_tenant(clean_db, "globex")
    make_leads(clean_db, acme, 2, silent_hours=10 * 24)
    make_leads(clean_db, globex, 3, silent_hours=10 * 24)

    assert cli.main(["scan", "--tenant", "globex"]) == 0

    assert f"tenant {globex}: eligible 3, enrolled 3" in capsys.readouterr().out
    assert queued_jobs(redis_conn) == [("agents.writer.write_due", {"tenant_id": globex})]
    assert cli.main(["scan", "--tenant", "nope"]) == 2
