"""Recording conversions on real PostgreSQL and Redis: the last-touch credit and its method, the
lead recovered and its recovery stopped with an audit row, a retry that changes nothing, another
tenant's lead never touched, refused values, who may record, and the follow-ups (rescore, rollup)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from rq import Queue
from sqlalchemy import Engine

from app import runtime
from app.domain.conversions import ConversionError
from app.services import conversions
from app.services import rollup as rollup_service
from tests.integration.outbox import make_leads, make_tenant
from tests.support import free_port

AT = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def campaign(engine: Engine, tenant_id: int, name: str) -> int:
    return int(
        sql(
            engine,
            "INSERT INTO campaigns (tenant_id, name, status) VALUES (:t, :n, 'running') RETURNING id",
            t=tenant_id,
            n=name,
        )[0].id
    )


def sent(
    engine: Engine,
    tenant_id: int,
    lead_id: int,
    *,
    campaign_id: int | None,
    channel: str,
    source: str,
    sent_at: dt.datetime | None,
    key: str,
) -> int:
    """A message to the lead, sent at `sent_at` (None: still pending)."""
    return int(
        sql(
            engine,
            """INSERT INTO outbound_messages (tenant_id, campaign_id, lead_id, channel, to_address, body, source,
                                              status, sent_at, dedupe_key)
               VALUES (:t, :c, :l, :ch, 'x', 'Hi', :src, CASE WHEN CAST(:at AS timestamptz) IS NULL THEN 'pending'
                       ELSE 'delivered' END, :at, :k) RETURNING id""",
            t=tenant_id,
            c=campaign_id,
            l=lead_id,
            ch=channel,
            src=source,
            at=sent_at,
            k=key,
        )[0].id
    )


def enroll(engine: Engine, tenant_id: int, campaign_id: int, lead_id: int) -> int:
    enrollment = int(
        sql(
            engine,
            """INSERT INTO enrollments (tenant_id, campaign_id, lead_id, current_node, rung, status)
               VALUES (:t, :c, :l, 'rung-2', 2, 'waiting') RETURNING id""",
            t=tenant_id,
            c=campaign_id,
            l=lead_id,
        )[0].id
    )
    sql(
        engine,
        """INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key)
           VALUES (:t, :e, :l, 'send', 'rung-3', now(), 'k:' || :e)""",
        t=tenant_id,
        e=enrollment,
        l=lead_id,
    )
    sql(engine, "UPDATE leads SET recovery_state = 'in_recovery', deal_value = 1800 WHERE id = :l", l=lead_id)
    return enrollment


def test_a_conversion_credits_the_last_message_in_the_window_and_ends_the_recovery(db: Engine) -> None:
    tenant = make_tenant(db)
    (lead,) = make_leads(db, tenant, 1)
    old, ladder = campaign(db, tenant, "Old promo"), campaign(db, tenant, "Win-back")
    sent(db, tenant, lead, campaign_id=old, channel="email", source="ai", sent_at=AT - dt.timedelta(days=40), key="a")
    credited = sent(
        db,
        tenant,
        lead,
        campaign_id=ladder,
        channel="sms",
        source="offline",
        sent_at=AT - dt.timedelta(days=10),
        key="b",
    )
    sent(
        db, tenant, lead, campaign_id=ladder, channel="email", source="ai", sent_at=AT + dt.timedelta(hours=1), key="c"
    )
    pending = sent(db, tenant, lead, campaign_id=ladder, channel="email", source="ai", sent_at=None, key="d")
    enrollment = enroll(db, tenant, ladder, lead)
    sql(db, "UPDATE outbound_messages SET enrollment_id = :e WHERE id = :m", e=enrollment, m=pending)

    done = conversions.record_conversion(
        tenant_id=tenant, lead_id=lead, value="2150.50", converted_at=AT, note="signed the annual plan", now=AT
    )

    assert done.created
    (row,) = sql(db, "SELECT * FROM conversions")
    # The 40-day-old email is outside the 30 days, the later one came after the deal, the pending one
    # never left: the SMS of 10 days before takes the credit; its source 'offline' is a template.
    assert (row.id, row.lead_id, row.message_id, row.campaign_id, row.channel, row.method) == (
        done.id,
        lead,
        credited,
        ladder,
        "sms",
        "template",
    )
    assert (row.value, row.converted_at, row.external_id) == (Decimal("2150.50"), AT, None)
    assert row.attribution == {
        "recorded_by": "api",
        "model": "last_touch",
        "window_days": 30,
        "days_to_convert": 10,
        "note": "signed the annual plan",
    }
    lead_row = sql(db, "SELECT recovery_state, recovered_at, recovered_value, stage FROM leads WHERE id = :l", l=lead)
    assert tuple(lead_row[0]) == ("recovered", AT, Decimal("2150.50"), "won")
    assert tuple(sql(db, "SELECT status, completed_at FROM enrollments")[0]) == ("stopped", AT)
    transitions = sql(db, "SELECT enrollment_id, from_node, to_node, event, at FROM campaign_transitions")
    assert [tuple(t) for t in transitions] == [(enrollment, "rung-2", None, "converted", AT)]
    assert sql(db, "SELECT status FROM scheduled_actions")[0].status == "canceled"
    assert sql(db, "SELECT status FROM outbound_messages WHERE id = :m", m=pending)[0].status == "canceled"
    assert sql(db, "SELECT status FROM outbound_messages WHERE id = :m", m=credited)[0].status == "delivered"


def test_the_rollup_counts_the_credited_conversion_on_its_day_and_channel(db: Engine) -> None:
    tenant = make_tenant(db)
    (lead,) = make_leads(db, tenant, 1)
    ladder = campaign(db, tenant, "Win-back")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    sent(
        db, tenant, lead, campaign_id=ladder, channel="email", source="ai", sent_at=now - dt.timedelta(hours=3), key="a"
    )
    conversions.record_conversion(tenant_id=tenant, lead_id=lead, value=900, converted_at=now - dt.timedelta(hours=1))
    rollup_service.refresh_tenant(tenant_id=tenant, now=now)
    day = sql(db, "SELECT ((CAST(:at AS timestamptz) - interval '1 hour') AT TIME ZONE 'UTC')::date AS d", at=now)[0].d
    found = sql(
        db,
        "SELECT campaign_id, channel, day, conversions, revenue FROM metrics_daily WHERE tenant_id = :t "
        "AND conversions > 0",
        t=tenant,
    )
    assert [tuple(r) for r in found] == [(ladder, "email", day, 1, Decimal("900.00"))]


def test_no_message_in_the_window_is_organic_and_a_reps_manual_method_is_kept(db: Engine) -> None:
    tenant = make_tenant(db)
    quiet, called = make_leads(db, tenant, 2)
    rep = int(
        sql(
            db,
            "INSERT INTO operators (tenant_id, email, name, role) VALUES (:t, 'rep@acme.example', 'Rep', 'rep') "
            "RETURNING id",
            t=tenant,
        )[0].id
    )
    conversions.record_conversion(tenant_id=tenant, lead_id=quiet, value=100, converted_at=AT, now=AT)
    conversions.record_conversion(
        tenant_id=tenant, lead_id=called, value=250, converted_at=AT, method="manual", operator_id=rep, now=AT
    )
    found = sql(
        db, "SELECT lead_id, method, campaign_id, message_id, channel, attribution FROM conversions ORDER BY id"
    )
    assert [tuple(r) for r in found] == [
        (quiet, "organic", None, None, None, {"recorded_by": "api", "model": "none"}),
        (called, "manual", None, None, None, {"recorded_by": "console", "operator_id": rep, "model": "none"}),
    ]


def test_a_retry_with_the_same_id_changes_nothing(db: Engine) -> None:
    tenant = make_tenant(db)
    (lead,) = make_leads(db, tenant, 1)
    ladder = campaign(db, tenant, "Win-back")
    enroll(db, tenant, ladder, lead)
    first = conversions.record_conversion(
        tenant_id=tenant, lead_id=lead, value=500, converted_at=AT, idempotency_key="crm-77", now=AT
    )
    again = conversions.record_conversion(
        tenant_id=tenant, lead_id=lead, value=500, converted_at=AT, idempotency_key=" crm-77 ", now=AT
    )
    assert first.created
    assert not again.created
    assert again.id == first.id
    assert sql(db, "SELECT count(*), sum(value) FROM conversions")[0] == (1, Decimal("500.00"))
    assert sql(db, "SELECT external_id FROM conversions")[0].external_id == "crm-77"
    assert sql(db, "SELECT recovered_value FROM leads WHERE id = :l", l=lead)[0].recovered_value == Decimal("500.00")
    assert sql(db, "SELECT count(*) FROM campaign_transitions")[0][0] == 1

    other = make_tenant(db, slug="birch")
    (theirs,) = make_leads(db, other, 1)
    elsewhere = conversions.record_conversion(
        tenant_id=other, lead_id=theirs, value=70, converted_at=AT, idempotency_key="crm-77", now=AT
    )
    assert elsewhere.created, "an id is unique per tenant: another tenant may use the same one"


def test_a_second_purchase_adds_to_the_recovered_value_and_keeps_the_first_date(db: Engine) -> None:
    tenant = make_tenant(db)
    (lead,) = make_leads(db, tenant, 1)
    conversions.record_conversion(tenant_id=tenant, lead_id=lead, value=300, converted_at=AT, now=AT)
    later = AT + dt.timedelta(days=3)
    conversions.record_conversion(tenant_id=tenant, lead_id=lead, value="45.25", converted_at=later, now=later)
    found = sql(db, "SELECT recovery_state, recovered_at, recovered_value FROM leads WHERE id = :l", l=lead)[0]
    assert tuple(found) == ("recovered", AT, Decimal("345.25"))  # 300 + 45.25


def test_a_lead_is_found_by_its_crm_id_and_another_tenants_lead_is_not_found(db: Engine) -> None:
    acme, birch = make_tenant(db), make_tenant(db, slug="birch")
    (mine,) = make_leads(db, acme, 1)
    (theirs,) = make_leads(db, birch, 1)
    external = sql(db, "SELECT external_id FROM leads WHERE id = :l", l=mine)[0].external_id
    by_crm = conversions.record_conversion(tenant_id=acme, lead_external_id=external, value=10, now=AT)
    assert by_crm.lead_id == mine
    theirs_external = sql(db, "SELECT external_id FROM leads WHERE id = :l", l=theirs)[0].external_id
    before = sql(db, "SELECT * FROM leads WHERE id = :l", l=theirs)
    for named in ({"lead_id": theirs}, {"lead_external_id": theirs_external}):
        with pytest.raises(ConversionError) as refused:
            conversions.record_conversion(tenant_id=acme, value=10, now=AT, **named)  # type: ignore[arg-type]
        assert (refused.value.field, refused.value.message) == (next(iter(named)), "not found")
    assert sql(db, "SELECT * FROM leads WHERE id = :l", l=theirs) == before
    assert sql(db, "SELECT count(*) FROM conversions WHERE lead_id = :l", l=theirs)[0][0] == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"value": "-5"}, "value", "cannot be negative"),
        ({"value": "10.005"}, "value", "at most 2 decimal places (dollars and cents)"),
        ({"value": "ten"}, "value", "enter a number of dollars, e.g. 1250.00 (got 'ten')"),
        ({"converted_at": AT + dt.timedelta(hours=1)}, "converted_at", "cannot be in the future"),
        ({"converted_at": AT - dt.timedelta(days=400)}, "converted_at", "at most 366 days ago"),
        (
            {"converted_at": dt.datetime(2026, 11, 30, 9, 0)},
            "converted_at",
            "give a time zone, e.g. 2026-12-01T15:00:00Z",
        ),
        ({"method": "magic"}, "method", "one of ai, template, manual, organic"),
        ({"message_id": 10**9}, "message_id", "not found for this lead"),
        ({"campaign_id": 10**9}, "campaign_id", "not found"),
        ({"lead_id": None}, "lead_id", "name the lead by lead_id or by lead_external_id (one of them)"),
    ],
)
def test_a_refused_conversion_writes_nothing(db: Engine, changes: dict[str, Any], field: str, message: str) -> None:
    tenant = make_tenant(db)
    (lead,) = make_leads(db, tenant, 1)
    before = sql(db, "SELECT * FROM leads")
    request: dict[str, Any] = {"tenant_id": tenant, "lead_id": lead, "value": "100", "converted_at": AT, **changes}
    with pytest.raises(ConversionError) as refused:
        conversions.record_conversion(**request, now=AT)
    assert (refused.value.field, refused.value.message) == (field, message)
    assert sql(db, "SELECT count(*) FROM conversions")[0][0] == 0
    assert sql(db, "SELECT * FROM leads") == before


@pytest.mark.parametrize(("role", "same_tenant"), [("viewer", True), ("rep", False), ("manager", False)])
def test_a_viewer_or_an_outsider_may_not_record(db: Engine, role: str, same_tenant: bool) -> None:
    acme, birch = make_tenant(db), make_tenant(db, slug="birch")
    (lead,) = make_leads(db, acme, 1)
    operator = int(
        sql(
            db,
            "INSERT INTO operators (tenant_id, email, name, role) VALUES (:t, 'o@x.example', 'O', :r) RETURNING id",
            t=acme if same_tenant else birch,
            r=role,
        )[0].id
    )
    with pytest.raises(PermissionError):
        conversions.record_conversion(
            tenant_id=acme, lead_id=lead, value=10, method="manual", operator_id=operator, now=AT
        )
    assert sql(db, "SELECT count(*) FROM conversions")[0][0] == 0
    assert sql(db, "SELECT recovery_state FROM leads")[0].recovery_state == "active"


def test_a_batch_keeps_the_good_rows_asks_one_rescore_and_rolls_up_old_days(
    db: Engine, redis_conn: redis.Redis
) -> None:
    tenant = make_tenant(db)
    a, b = make_leads(db, tenant, 2)
    requests = [
        conversions.ConversionRequest(lead_id=a, value=100, converted_at=AT - dt.timedelta(days=10, hours=2)),
        conversions.ConversionRequest(lead_id=b, value=-1),
        conversions.ConversionRequest(lead_id=b, value=50, converted_at=AT - dt.timedelta(hours=5)),
    ]
    results = conversions.record_batch(tenant_id=tenant, requests=requests, now=AT)
    assert [type(r).__name__ for r in results] == ["Recorded", "ConversionError", "Recorded"]
    assert sql(db, "SELECT lead_id, value FROM conversions ORDER BY id") == [
        (a, Decimal("100.00")),
        (b, Decimal("50.00")),
    ]
    assert sorted(int(m) for m in redis_conn.smembers(f"lre:scores:pending:{tenant}")) == [a, b]
    jobs = [j for j in Queue("low", connection=redis_conn).get_jobs() if j.func_name == "agents.rollup.refresh_tenant"]
    # The oldest is 10 days 2 hours old: 10 whole days, plus the day it started on = 11 days back.
    assert [j.kwargs for j in jobs] == [{"tenant_id": tenant, "days_back": 11}]


def test_a_redis_outage_after_the_commit_keeps_the_conversion(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The follow-ups are best effort: an error after the commit would make a client retry."""
    tenant = make_tenant(db)
    (lead,) = make_leads(db, tenant, 1)
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    runtime.reset_for_tests()
    try:
        done = conversions.record_conversion(
            tenant_id=tenant, lead_id=lead, value=80, converted_at=AT - dt.timedelta(days=9), now=AT
        )
    finally:
        monkeypatch.undo()
        runtime.reset_for_tests()
    assert done.created
    assert sql(db, "SELECT id, value FROM conversions") == [(done.id, Decimal("80.00"))]
    assert sql(db, "SELECT recovery_state FROM leads")[0].recovery_state == "recovered"
