"""The silence scan and "Recover now" on real PostgreSQL: every eligibility rule, the cap, the
holdout, idempotency and the reset on new activity (the recovery campaign, tenant isolation and
the statement count are in test_scan_campaign_and_shape.py).

Only what the scan decides: who starts an episode of the recovery plan. The climb from rung 1
to 2 to 3 is the plan's (its wait timers, fired by `fire_due`), tested in
test_campaign_ladder.py. These tests never set an enrollment status the product does not set
itself.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from app.domain.holdout import is_control
from app.services import scan
from app.services.activities import record_activity
from app.services.scan import RecoverOutcome
from db.models import (
    Campaign,
    CampaignTransition,
    Enrollment,
    Lead,
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
    suppress,
    table_counts,
)


@pytest.fixture
def tenant(clean_db: Engine) -> int:
    return make_tenant(clean_db)


# --- the ladder ------------------------------------------------------------------------------


def test_23_hours_is_not_silent_and_24_hours_is_rung_1(clean_db: Engine, tenant: int) -> None:
    quiet = make_lead(clean_db, tenant, silent_hours=23)
    silent = make_lead(clean_db, tenant, silent_hours=24)

    result = scan.scan_tenant(tenant_id=tenant, now=NOW)

    assert (result.eligible, result.enrolled, result.control, result.capped) == (1, 1, 0, 0)
    assert enrolled_rungs(clean_db, tenant) == {silent: 1}
    assert (lead(clean_db, silent).silence_level, lead(clean_db, silent).recovery_state) == (1, "in_recovery")
    assert (lead(clean_db, quiet).silence_level, lead(clean_db, quiet).recovery_state) == (0, "active")


def test_a_lead_silent_for_five_days_gets_rung_1_first(clean_db: Engine, tenant: int) -> None:
    old = make_lead(clean_db, tenant, silent_hours=5 * 24)

    scan.scan_tenant(tenant_id=tenant, now=NOW)

    [action] = rows(clean_db, ScheduledAction, ScheduledAction.kind == "send")
    assert (action.lead_id, action.kind, action.node, action.status) == (old, "send", "rung-1", "pending")
    assert enrolled_rungs(clean_db, tenant) == {old: 1}


def test_an_active_enrollment_keeps_the_lead_on_its_rung_however_long_its_silence(
    clean_db: Engine, tenant: int
) -> None:
    """The scan only starts episodes; the plan's timers climb the rungs (tests/integration/
    test_campaign_ladder.py). However long the lead stays silent, a later scan never enrolls it
    again while its enrollment runs, and nothing but the first rung is scheduled by the scan."""
    target = make_lead(clean_db, tenant, silent_hours=30)
    assert scan.scan_tenant(tenant_id=tenant, now=NOW).enrolled == 1

    # 30 h silent at NOW: +18 h is 48 h (rung 2's threshold), +42 h is 72 h (rung 3's), +60 d past the ladder.
    for later in (timedelta(hours=18), timedelta(hours=42), timedelta(days=60)):
        again = scan.scan_tenant(tenant_id=tenant, now=NOW + later)
        assert (again.eligible, again.enrolled, again.control) == (0, 0, 0), later

    assert enrolled_rungs(clean_db, tenant) == {target: 1}
    assert [e.status for e in rows(clean_db, Enrollment)] == ["active"]
    assert [(a.kind, a.node) for a in rows(clean_db, ScheduledAction)] == [("send", "rung-1"), ("wait", "wait-1")]
    moves = [(t.from_node, t.to_node, t.event) for t in rows(clean_db, CampaignTransition)]
    assert moves == [(None, "rung-1", "enrolled"), ("rung-1", "wait-1", "next")]
    assert (lead(clean_db, target).silence_level, lead(clean_db, target).recovery_state) == (1, "in_recovery")


def test_the_tenants_own_ladder_is_used(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db, silence_ladder_hours=[2, 6])
    make_lead(clean_db, tenant, silent_hours=3)
    assert scan.scan_tenant(tenant_id=tenant, now=NOW).enrolled == 1


def test_the_send_follows_the_pipeline_contract(clean_db: Engine, tenant: int) -> None:
    target = make_lead(clean_db, tenant)
    result = scan.scan_tenant(tenant_id=tenant, now=NOW)

    [enrollment] = rows(clean_db, Enrollment)
    # It waits at wait-1 after rung 1's message, in its first silence episode.
    assert (enrollment.campaign_id, enrollment.current_node, enrollment.status, enrollment.is_control) == (
        result.campaign_id,
        "wait-1",
        "active",
        False,
    )
    assert enrollment.episode == 1
    [action] = rows(clean_db, ScheduledAction, ScheduledAction.kind == "send")
    assert action.dedupe_key == f"{tenant}:{result.campaign_id}:{target}:e1:rung-1:send"
    # NOW is 12:00 UTC, inside the plan's 08:00-20:00 window in the lead's (UTC) zone: due at once.
    assert (action.enrollment_id, action.due_at, action.payload["rung"]) == (enrollment.id, NOW, 1)
    assert (action.payload["channel"], action.payload["episode"]) == ("email", 1)
    [timer] = rows(clean_db, ScheduledAction, ScheduledAction.kind == "wait")
    # The ladder is 24/48/72 h: rung 2 follows rung 1 by 48 - 24 = 24 h.
    assert (timer.node, timer.due_at, timer.status) == ("wait-1", NOW + timedelta(hours=24), "pending")


# --- who is left alone ------------------------------------------------------------------------


def test_a_lead_suppressed_on_every_channel_it_could_be_reached_on_is_excluded(clean_db: Engine, tenant: int) -> None:
    email_only = make_lead(clean_db, tenant, email="Ana@Example.com")
    suppress(clean_db, tenant, "email", "ana@example.com")
    both_suppressed = make_lead(clean_db, tenant, email="bo@example.com", phone="+15550001", consent_sms=True)
    suppress(clean_db, tenant, "email", "bo@example.com")
    suppress(clean_db, tenant, "sms", "+15550001")
    sms_still_open = make_lead(clean_db, tenant, email="cy@example.com", phone="+15550002", consent_sms=True)
    suppress(clean_db, tenant, "email", "cy@example.com")

    scan.scan_tenant(tenant_id=tenant, now=NOW)

    assert set(enrolled_rungs(clean_db, tenant)) == {sms_still_open}
    assert lead(clean_db, email_only).silence_level == lead(clean_db, both_suppressed).silence_level == 0


def test_suppressions_of_another_tenant_do_not_count(clean_db: Engine, tenant: int) -> None:
    other = make_tenant(clean_db, "globex")
    target = make_lead(clean_db, tenant, email="dee@example.com")
    suppress(clean_db, other, "email", "dee@example.com")
    scan.scan_tenant(tenant_id=tenant, now=NOW)
    assert set(enrolled_rungs(clean_db, tenant)) == {target}


def test_consent_withdrawn_on_every_usable_channel_is_excluded(clean_db: Engine, tenant: int) -> None:
    make_lead(clean_db, tenant, consent_email=False, phone="+15550003", consent_sms=False)
    make_lead(clean_db, tenant, consent_email=False)  # no phone at all
    make_lead(clean_db, tenant, email=None, phone="+15550004", consent_sms=False)
    texts_only = make_lead(clean_db, tenant, consent_email=False, phone="+15550005", consent_sms=True)

    scan.scan_tenant(tenant_id=tenant, now=NOW)

    assert set(enrolled_rungs(clean_db, tenant)) == {texts_only}


@pytest.mark.parametrize("status", ["active", "waiting"])
def test_a_lead_in_an_active_enrollment_of_any_campaign_is_excluded(clean_db: Engine, tenant: int, status: str) -> None:
    busy = make_lead(clean_db, tenant)
    free = make_lead(clean_db, tenant)
    with clean_db.begin() as conn:
        campaign = conn.execute(
            sa.insert(Campaign)
            .values(tenant_id=tenant, name="Nurture", kind="sequence", status="running")
            .returning(Campaign.id)
        ).scalar_one()
        conn.execute(sa.insert(Enrollment).values(tenant_id=tenant, campaign_id=campaign, lead_id=busy, status=status))

    result = scan.scan_tenant(tenant_id=tenant, now=NOW)

    assert (result.eligible, result.enrolled) == (1, 1)
    assert lead(clean_db, busy).silence_level == 0
    assert lead(clean_db, free).silence_level == 1


def test_closed_leads_are_not_scanned(clean_db: Engine, tenant: int) -> None:
    for state in ("replied", "recovered", "lost"):
        make_lead(clean_db, tenant, recovery_state=state)
    assert scan.scan_tenant(tenant_id=tenant, now=NOW).eligible == 0


def test_the_cool_down_is_respected(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db, cooldown_hours=24)
    make_lead(clean_db, tenant, silent_hours=100, last_contacted_at=NOW - timedelta(hours=23))
    rested = make_lead(clean_db, tenant, silent_hours=100, last_contacted_at=NOW - timedelta(hours=24))

    scan.scan_tenant(tenant_id=tenant, now=NOW)

    assert set(enrolled_rungs(clean_db, tenant)) == {rested}


def test_the_cap_takes_the_most_valuable_leads_first(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db, scan_cap=3)
    worth = {
        make_lead(clean_db, tenant, intent_score=score, deal_value=Decimal(value)): score * value
        for score, value in [(90, 100), (10, 50_000), (50, 2_000), (99, 1), (60, 900)]
    }
    ranked = sorted(worth, key=worth.__getitem__, reverse=True)

    first = scan.scan_tenant(tenant_id=tenant, now=NOW)
    assert (first.eligible, first.enrolled, first.capped) == (5, 3, 2)
    assert set(enrolled_rungs(clean_db, tenant)) == set(ranked[:3])

    second = scan.scan_tenant(tenant_id=tenant, now=NOW)
    assert (second.eligible, second.enrolled, second.capped) == (2, 2, 0)
    assert set(enrolled_rungs(clean_db, tenant)) == set(ranked)


# --- the holdout ------------------------------------------------------------------------------


def test_the_holdout_is_about_ten_percent_stable_and_never_contacted(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db, holdout_percent=10, scan_cap=5000)
    ids = make_leads(clean_db, tenant, 2000)
    expected = {i for i in ids if is_control(tenant, i, 10)}

    first = scan.scan_tenant(tenant_id=tenant, now=NOW)

    assert 150 <= first.control <= 250
    assert (first.enrolled + first.control, first.scheduled) == (2000, first.enrolled)
    enrollments = rows(clean_db, Enrollment)
    assert {e.lead_id for e in enrollments if e.is_control} == expected
    assert {e.lead_id for e in enrollments if e.status == "control"} == expected
    assert not {a.lead_id for a in rows(clean_db, ScheduledAction)} & expected
    assert {r.id for r in rows(clean_db, Lead, Lead.recovery_state == "control")} == expected
    assert {r.silence_level for r in rows(clean_db, Lead)} == {1}  # control climbs too

    assert scan.scan_tenant(tenant_id=tenant, now=NOW).eligible == 0  # control is not picked again
    # 48 h silent: nobody is picked again, held out or treated (the treated leads' plans climb them).
    second = scan.scan_tenant(tenant_id=tenant, now=NOW + timedelta(hours=18))
    assert (second.eligible, second.control, second.enrolled) == (0, 0, 0)
    enrollments = rows(clean_db, Enrollment)
    assert {e.lead_id for e in enrollments if e.is_control} == expected
    assert {e.status for e in enrollments if not e.is_control} == {"active"}
    assert not {a.lead_id for a in rows(clean_db, ScheduledAction)} & expected


# --- idempotency and resets -------------------------------------------------------------------


def test_running_the_scan_twice_enrolls_nothing_new(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db, holdout_percent=10)
    make_leads(clean_db, tenant, 50)
    first = scan.scan_tenant(tenant_id=tenant, now=NOW)
    before = table_counts(clean_db)

    again = scan.scan_tenant(tenant_id=tenant, now=NOW)

    assert first.enrolled + first.control == 50
    assert (again.eligible, again.enrolled, again.control) == (0, 0, 0)
    assert (
        table_counts(clean_db)
        == before
        == {
            "enrollments": 50,
            # per treated lead: rung 1's send and the wait-1 timer; two moves (enrolled, next)
            "scheduled_actions": 2 * first.enrolled,
            "campaign_transitions": 2 * first.enrolled + first.control,
            "campaigns": 1,
        }
    )


def test_new_activity_resets_the_ladder(clean_db: Engine, tenant: int) -> None:
    target = make_lead(clean_db, tenant, silent_hours=30)
    scan.scan_tenant(tenant_id=tenant, now=NOW)
    assert (lead(clean_db, target).silence_level, lead(clean_db, target).recovery_state) == (1, "in_recovery")

    assert not record_activity(tenant_id=tenant, lead_id=target, kind="open", occurred_at=NOW)  # opens are noise
    assert lead(clean_db, target).silence_level == 1
    assert record_activity(tenant_id=tenant, lead_id=target, kind="click", occurred_at=NOW, channel="email")

    after = lead(clean_db, target)
    assert (after.silence_level, after.recovery_state, after.last_activity_at) == (0, "active", NOW)
    assert not record_activity(tenant_id=tenant, lead_id=target, kind="form", occurred_at=NOW - timedelta(days=1))
    assert lead(clean_db, target).last_activity_at == NOW  # a late, older event moves nothing


def test_a_reset_lead_never_gets_rung_1_again(clean_db: Engine, tenant: int) -> None:
    target = make_lead(clean_db, tenant, silent_hours=30)
    scan.scan_tenant(tenant_id=tenant, now=NOW)
    record_activity(tenant_id=tenant, lead_id=target, kind="sms_in", occurred_at=NOW)
    assert (lead(clean_db, target).silence_level, lead(clean_db, target).recovery_state) == (0, "active")

    # Silent again past rung 1 (25 h after the activity): an activity recorded on its own does not
    # end the enrollment (a reply through its door does: test_campaign_ladder.py), so while it
    # runs neither the scan nor a click enrolls the lead a second time.
    result = scan.scan_tenant(tenant_id=tenant, now=NOW + timedelta(hours=25))

    assert (result.eligible, result.enrolled) == (0, 0)
    assert [(e.rung, e.status, e.episode) for e in rows(clean_db, Enrollment)] == [(1, "active", 1)]
    assert [a.node for a in rows(clean_db, ScheduledAction, ScheduledAction.kind == "send")] == ["rung-1"]
    outcome = scan.recover_now(tenant_id=tenant, lead_ids=[target], operator_id=None).outcomes
    assert outcome == {target: RecoverOutcome.ALREADY_IN_RECOVERY}
    assert len(rows(clean_db, ScheduledAction)) == 2


def test_record_activity_refuses_unknown_leads_and_kinds(clean_db: Engine, tenant: int) -> None:
    other = make_lead(clean_db, make_tenant(clean_db, "globex"))
    with pytest.raises(LookupError):
        record_activity(tenant_id=tenant, lead_id=other, kind="form", occurred_at=NOW)
    with pytest.raises(ValueError, match="unknown activity kind"):
        record_activity(tenant_id=tenant, lead_id=other, kind="tweet", occurred_at=NOW)
