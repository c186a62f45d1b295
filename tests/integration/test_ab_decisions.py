"""A campaign's A/B test on real PostgreSQL: the per-variant counts from the raw rows, a verdict
recorded once with its audit row, the winner promoted in the saved plan, and every case that
must record nothing. Every count the tests expect is worked out from the rows they insert."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from app.domain.ab_test import State
from app.services import ab_decisions
from db.variant_counts import VariantCounts
from tests.integration.outbox import make_leads, make_tenant

AT = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC)
PLAN: dict[str, Any] = {
    "version": 2,
    "timezone": "UTC",
    "quiet_hours": {"start": 21, "end": 8},
    "send_window": {"start": 8, "end": 20},
    "start": "rung-1",
    "nodes": [
        {
            "id": "rung-1",
            "kind": "send",
            "channels": ["email"],
            "brief": "a gentle check-in",
            "variants": [{"name": "A", "weight": 1}, {"name": "B", "weight": 1, "template": "tpl-b"}],
            "next": "wait-1",
        },
        {"id": "wait-1", "kind": "wait", "duration": "PT24H", "next": "done"},
        {"id": "done", "kind": "stop"},
    ],
}


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def make_campaign(engine: Engine, tenant: int, *, test: dict[str, Any] | None = None, plan: Any = PLAN) -> int:
    variants = {"A": {"tone": "friendly"}, "B": {"tone": "direct"}, **({"test": test} if test else {})}
    return int(
        sql(
            engine,
            """INSERT INTO campaigns (tenant_id, name, status, plan, variants)
               VALUES (:t, 'Win-back', 'running', CAST(:plan AS jsonb), CAST(:variants AS jsonb)) RETURNING id""",
            t=tenant,
            plan=json.dumps(plan),
            variants=json.dumps(variants),
        )[0].id
    )


def send(
    engine: Engine, tenant: int, campaign: int | None, leads: list[int], variant: str | None, *, sent: bool = True
) -> list[int]:
    """One email per lead of this variant, sent (or still pending); returns their ids in lead order."""
    found = sql(
        engine,
        """INSERT INTO outbound_messages (tenant_id, campaign_id, lead_id, node, channel, to_address, body,
                                          dedupe_key, variant, status, sent_at)
           SELECT :t, :c, l, 'rung-1', 'email', 'lead@example.com', 'Hi',
                  'ab:' || gen_random_uuid(), :v, CASE WHEN :sent THEN 'sent' ELSE 'pending' END,
                  CASE WHEN :sent THEN CAST(:at AS timestamptz) END
           FROM unnest(CAST(:leads AS bigint[])) WITH ORDINALITY AS u(l, n) ORDER BY n
           RETURNING id""",
        t=tenant,
        c=campaign,
        leads=leads,
        v=variant,
        sent=sent,
        at=AT - dt.timedelta(days=2),
    )
    return sorted(r.id for r in found)


def event(engine: Engine, messages: list[int], kind: str) -> None:
    sql(
        engine,
        """INSERT INTO message_events (tenant_id, message_id, lead_id, channel, event_type, occurred_at, natural_key)
           SELECT m.tenant_id, m.id, m.lead_id, 'email', :kind, :at, 'ab:' || gen_random_uuid()
           FROM outbound_messages m WHERE m.id = ANY(:ids)""",
        ids=messages,
        kind=kind,
        at=AT - dt.timedelta(days=1),
    )


def inbound(engine: Engine, messages: list[int], intent: str | None = "interested") -> None:
    sql(
        engine,
        """INSERT INTO inbound_messages (tenant_id, lead_id, message_id, channel, from_address, body, intent)
           SELECT m.tenant_id, m.lead_id, m.id, 'email', m.to_address, 'Sounds good', :intent
           FROM outbound_messages m WHERE m.id = ANY(:ids)""",
        ids=messages,
        intent=intent,
    )


def converted(engine: Engine, messages: list[int]) -> None:
    sql(
        engine,
        """INSERT INTO conversions (tenant_id, lead_id, campaign_id, message_id, value, method, converted_at)
           SELECT m.tenant_id, m.lead_id, m.campaign_id, m.id, 1000, 'ai', :at
           FROM outbound_messages m WHERE m.id = ANY(:ids)""",
        ids=messages,
        at=AT - dt.timedelta(hours=3),
    )


def campaign_row(engine: Engine, campaign: int) -> sa.Row[Any]:
    return sql(engine, "SELECT plan, variants FROM campaigns WHERE id = :c", c=campaign)[0]


def audit_rows(engine: Engine, campaign: int) -> list[sa.Row[Any]]:
    return sql(
        engine,
        "SELECT outcome, winner, decided_at, plan_before, stats FROM campaign_decisions WHERE campaign_id = :c",
        c=campaign,
    )


def test_counts_follow_each_metric_and_leave_out_what_is_not_a_sent_variant(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db)
    leads = make_leads(clean_db, tenant, 20)
    campaign = make_campaign(clean_db, tenant)
    a = send(clean_db, tenant, campaign, leads[:10], "A")
    b = send(clean_db, tenant, campaign, leads[10:16], "B")
    # Left out: a pending A message (not sent), a sent message without a variant, another campaign's B.
    pending = send(clean_db, tenant, campaign, leads[16:17], "A", sent=False)
    plain = send(clean_db, tenant, campaign, leads[17:18], None)
    elsewhere = send(clean_db, tenant, make_campaign(clean_db, tenant), leads[18:20], "B")
    for noise in (pending, plain, elsewhere):
        event(clean_db, noise, "reply")
        event(clean_db, noise, "click")
        converted(clean_db, noise)
    # A replied: a[0] (event, and an SMS-style inbound reply to the same message: once), a[1]
    # (inbound, not triaged yet); a[2]'s "remove me" is an opt-out, not a reply. → 2 of 10.
    event(clean_db, a[:1], "reply")
    inbound(clean_db, a[:1])
    inbound(clean_db, a[1:2], intent=None)
    inbound(clean_db, a[2:3], intent="unsubscribe")
    # A clicked: a[3] twice, a[4], a[5] → 3. A converted: a[4] → 1.
    event(clean_db, a[3:6], "click")
    event(clean_db, a[3:4], "click")
    converted(clean_db, a[4:5])
    # B: replied b[0..2] → 3; clicked none; converted b[0], b[5] → 2. Opens count for nothing.
    event(clean_db, b[:3], "reply")
    event(clean_db, b, "open")
    converted(clean_db, [b[0], b[5]])

    report = ab_decisions.ab_report(tenant_id=tenant, campaign_id=campaign)

    assert report.offered == ("A", "B")
    assert report.counts == (VariantCounts("A", 10, 2, 3, 1), VariantCounts("B", 6, 3, 0, 2))
    assert report.live is not None
    assert report.live.state is State.COLLECTING
    assert (report.recorded, report.problem) == (None, None)


def test_a_clear_winner_is_recorded_once_and_promoted_in_the_plan(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db)
    leads = make_leads(clean_db, tenant, 2000)
    campaign = make_campaign(clean_db, tenant, test={"metric": "replied", "confidence": 0.95, "min_per_arm": 500})

    # 400 sends each, 40 replies against 60: below the 500 sends each variant needs, so nothing yet.
    a1 = send(clean_db, tenant, campaign, leads[0:400], "A")
    b1 = send(clean_db, tenant, campaign, leads[400:800], "B")
    event(clean_db, a1[:40], "reply")
    event(clean_db, b1[:60], "reply")
    early = ab_decisions.decide(tenant_id=tenant, campaign_id=campaign, now=AT - dt.timedelta(days=1))
    assert early.recorded_now is False
    assert early.report.live is not None
    assert early.report.live.state is State.COLLECTING
    assert audit_rows(clean_db, campaign) == []
    assert campaign_row(clean_db, campaign).plan == PLAN

    # 600 more each: A 40 + 60 = 100 of 1,000, B 60 + 50 + 40 = 150 of 1,000. The mSPRT ratio
    # (worked in tests/unit/test_msprt.py) is 23.908, past the 20 of 95 %.
    a2 = send(clean_db, tenant, campaign, leads[800:1400], "A")
    b2 = send(clean_db, tenant, campaign, leads[1400:2000], "B")
    inbound(clean_db, a2[:60])
    event(clean_db, b2[:50], "reply")
    inbound(clean_db, b2[50:90])
    outcome = ab_decisions.decide(tenant_id=tenant, campaign_id=campaign, now=AT)

    assert outcome.recorded_now is True
    decision = outcome.report.recorded
    assert decision is not None
    assert (decision.state, decision.winner) == (State.DECIDED, "B")
    assert [(s.name, s.sent, s.successes) for s in decision.arms] == [("A", 1000, 100), ("B", 1000, 150)]
    assert decision.arm("B").evidence == pytest.approx(23.908, abs=1e-3)
    row = campaign_row(clean_db, campaign)
    stored = row.variants["decision"]
    assert (stored["state"], stored["winner"], stored["decided_at"]) == ("decided", "B", AT.isoformat())
    assert [(s["name"], s["sent"], s["successes"]) for s in stored["arms"]] == [("A", 1000, 100), ("B", 1000, 150)]
    assert row.variants["A"] == {"tone": "friendly"}  # what else the campaign kept there is untouched
    expected_plan = copy.deepcopy(PLAN)
    expected_plan["nodes"][0]["variants"] = [{"name": "B", "weight": 1, "template": "tpl-b"}]
    assert row.plan == expected_plan
    [audit] = audit_rows(clean_db, campaign)
    assert (audit.outcome, audit.winner, audit.decided_at, audit.plan_before) == ("winner", "B", AT, PLAN)
    assert audit.stats == stored

    # Deciding again, later and with more replies, records nothing and changes nothing.
    event(clean_db, a2[60:80], "reply")
    again = ab_decisions.decide(tenant_id=tenant, campaign_id=campaign, now=AT + dt.timedelta(days=1))
    assert again.recorded_now is False
    assert len(audit_rows(clean_db, campaign)) == 1
    assert campaign_row(clean_db, campaign) == row

    # The campaign still shows both variants' counts and the verdict; the plan offers B alone.
    report = ab_decisions.ab_report(tenant_id=tenant, campaign_id=campaign)
    assert report.offered == ("B",)
    assert [(c.name, c.sent, c.replied) for c in report.counts] == [("B", 1000, 150), ("A", 1000, 120)]
    assert (report.live, report.problem, report.decided_at) == (None, None, AT)
    assert report.recorded == decision


def test_no_difference_is_recorded_and_the_plan_kept(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db)
    leads = make_leads(clean_db, tenant, 40)
    # 2 replies of 20 each: P = 1/2 either way. Picking either loses E[max(d, 0)] with d the
    # difference of two Beta(3, 19): sd √(2 · 3 · 19/(22² · 23)) = 0.101, so about
    # 0.101/√(2π) = 0.040 < the 0.05 allowed here.
    campaign = make_campaign(clean_db, tenant, test={"min_per_arm": 20, "max_loss": 0.05})
    a = send(clean_db, tenant, campaign, leads[:20], "A")
    b = send(clean_db, tenant, campaign, leads[20:], "B")
    event(clean_db, a[:2], "reply")
    event(clean_db, b[:2], "reply")

    outcome = ab_decisions.decide(tenant_id=tenant, campaign_id=campaign, now=AT)

    assert outcome.recorded_now is True
    recorded = outcome.report.recorded
    assert recorded is not None
    assert (recorded.state, recorded.winner) == (State.NO_DIFFERENCE, None)
    [audit] = audit_rows(clean_db, campaign)
    assert (audit.outcome, audit.winner, audit.plan_before) == ("no_difference", None, None)
    row = campaign_row(clean_db, campaign)
    assert row.plan == PLAN
    assert row.variants["decision"]["state"] == "no_difference"


def test_a_test_that_cannot_run_says_why_and_records_nothing(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db)
    bad = make_campaign(clean_db, tenant, test={"confidence": 3})
    single = copy.deepcopy(PLAN)
    single["nodes"][0]["variants"] = [{"name": "A", "weight": 1}]
    alone = make_campaign(clean_db, tenant, plan=single)

    for campaign, problem in (
        (bad, "The test's settings (campaigns.variants.test) are invalid: confidence: must be above 0.5"),
        (alone, "The plan offers fewer than two variants: there is nothing to test."),
    ):
        outcome = ab_decisions.decide(tenant_id=tenant, campaign_id=campaign, now=AT)
        assert outcome.recorded_now is False
        assert outcome.report.live is None
        assert (outcome.report.problem or "").startswith(problem)
        assert audit_rows(clean_db, campaign) == []


def test_another_tenants_campaign_is_not_found(clean_db: Engine) -> None:
    mine, theirs = make_tenant(clean_db, slug="mine"), make_tenant(clean_db, slug="theirs")
    campaign = make_campaign(clean_db, theirs)
    with pytest.raises(LookupError, match=f"campaign {campaign} does not exist for tenant {mine}"):
        ab_decisions.decide(tenant_id=mine, campaign_id=campaign, now=AT)
    with pytest.raises(LookupError):
        ab_decisions.ab_report(tenant_id=mine, campaign_id=campaign)


def test_the_database_keeps_one_verdict_per_campaign(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db)
    campaign = make_campaign(clean_db, tenant)
    insert = """INSERT INTO campaign_decisions (tenant_id, campaign_id, outcome, winner, stats, rule, decided_at)
                VALUES (:t, :c, :o, :w, '{}', 'rule', now())"""
    with pytest.raises(sa.exc.IntegrityError, match="ck_campaign_decisions_winner"):
        sql(clean_db, insert, t=tenant, c=campaign, o="winner", w=None)
    sql(clean_db, insert, t=tenant, c=campaign, o="winner", w="B")
    with pytest.raises(sa.exc.IntegrityError, match="uq_campaign_decisions_campaign_id"):
        sql(clean_db, insert, t=tenant, c=campaign, o="no_difference", w=None)
