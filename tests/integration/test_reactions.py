"""A lead who answers is never written to again: enrollments stop with an audit row, queued work is
canceled, opted-out addresses are suppressed, and the sender refuses what was written before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from app import runtime
from app.services import reactions, send
from app.services.reactions import StopEvent
from tests.integration.outbox import make_leads, make_messages, make_tenant

AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def enroll(engine: Engine, tenant_id: int, lead_ids: list[int], *, status: str = "active") -> list[int]:
    """A running recovery campaign with one enrollment per lead at rung-1, and each its pending send action."""
    campaign = sql(
        engine,
        "INSERT INTO campaigns (tenant_id, name, status) VALUES (:t, 'Win back', 'running') RETURNING id",
        t=tenant_id,
    )[0].id
    rows = sql(
        engine,
        """INSERT INTO enrollments (tenant_id, campaign_id, lead_id, current_node, rung, status)
           SELECT :t, :c, l, 'rung-1', 1, :s FROM unnest(CAST(:leads AS bigint[])) AS l RETURNING id, lead_id""",
        t=tenant_id,
        c=campaign,
        leads=lead_ids,
        s=status,
    )
    sql(
        engine,
        """INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key)
           SELECT :t, e.id, e.lead_id, 'send', 'rung-2', now(), 'k:' || e.id FROM enrollments AS e
           WHERE e.campaign_id = :c""",
        t=tenant_id,
        c=campaign,
    )
    return [r.id for r in sorted(rows, key=lambda r: r.lead_id)]


def attach(engine: Engine, message_ids: list[int], enrollment_ids: list[int]) -> None:
    for message, enrollment in zip(message_ids, enrollment_ids, strict=True):
        sql(engine, "UPDATE outbound_messages SET enrollment_id = :e WHERE id = :m", e=enrollment, m=message)


def stop(tenant_id: int, lead_ids: list[int], event: StopEvent) -> int:
    with runtime.session_scope() as session, session.begin():
        return reactions.stop_enrollments(
            session, tenant_id=tenant_id, lead_ids=lead_ids, event=event, reason="test", at=AT
        ).enrollments


def test_a_reply_stops_the_enrollment_with_an_audit_row_and_cancels_its_queue(db: Engine) -> None:
    tenant = make_tenant(db)
    replied, other = make_leads(db, tenant, 2)
    enrollments = enroll(db, tenant, [replied, other])
    messages = make_messages(db, tenant, [replied, other])
    attach(db, messages, enrollments)
    sql(db, "UPDATE leads SET recovery_state = 'in_recovery'")

    assert stop(tenant, [replied], StopEvent.REPLIED) == 1
    assert stop(tenant, [replied], StopEvent.REPLIED) == 0, "stopping twice changes nothing"

    states = {r.lead_id: r.status for r in sql(db, "SELECT lead_id, status FROM enrollments")}
    assert states == {replied: "stopped", other: "active"}
    audit = sql(db, "SELECT enrollment_id, from_node, to_node, event, reason, at FROM campaign_transitions")
    assert [(a.enrollment_id, a.from_node, a.to_node, a.event, a.reason, a.at) for a in audit] == [
        (enrollments[0], "rung-1", None, "replied", "test", AT)
    ]
    actions = {r.lead_id: r.status for r in sql(db, "SELECT lead_id, status FROM scheduled_actions")}
    assert actions == {replied: "canceled", other: "pending"}
    outbox = {r.lead_id: (r.status, r.last_error) for r in sql(db, "SELECT * FROM outbound_messages")}
    assert outbox == {replied: ("canceled", "recovery stopped: replied"), other: ("pending", None)}
    leads = {r.id: r.recovery_state for r in sql(db, "SELECT id, recovery_state FROM leads")}
    assert leads == {replied: "replied", other: "in_recovery"}


def test_a_conversion_marks_the_lead_recovered_and_an_opt_out_leaves_its_state(db: Engine) -> None:
    tenant = make_tenant(db)
    bought, opted_out = make_leads(db, tenant, 2)
    enroll(db, tenant, [bought, opted_out])
    sql(db, "UPDATE leads SET recovery_state = 'in_recovery'")
    stop(tenant, [bought], StopEvent.CONVERTED)
    stop(tenant, [opted_out], StopEvent.UNSUBSCRIBED)
    leads = {r.id: r.recovery_state for r in sql(db, "SELECT id, recovery_state FROM leads")}
    assert leads == {bought: "recovered", opted_out: "in_recovery"}
    events = sorted(r.event for r in sql(db, "SELECT event FROM campaign_transitions"))
    assert events == ["converted", "unsubscribed"]


def test_another_tenants_lead_is_never_stopped(db: Engine) -> None:
    ours, theirs = make_tenant(db, slug="ours"), make_tenant(db, slug="theirs")
    (their_lead,) = make_leads(db, theirs, 1)
    enroll(db, theirs, [their_lead])
    assert stop(ours, [their_lead], StopEvent.REPLIED) == 0
    assert [r.status for r in sql(db, "SELECT status FROM enrollments")] == ["active"]


def test_suppressing_an_address_marks_its_pending_sends_and_keeps_the_first_reason(db: Engine) -> None:
    tenant = make_tenant(db)
    lead, other = make_leads(db, tenant, 2)
    mine, others = make_messages(db, tenant, [lead, other])
    with runtime.session_scope() as session, session.begin():
        added = reactions.suppress(
            session, tenant_id=tenant, channel="email", addresses=["  LEAD1@Example.com "], reason="unsubscribe"
        )
        again = reactions.suppress(
            session, tenant_id=tenant, channel="email", addresses=["lead1@example.com"], reason="bounce"
        )
    assert (added, again) == (1, 0)
    assert [(r.address, r.reason) for r in sql(db, "SELECT address, reason FROM suppressions")] == [
        ("lead1@example.com", "unsubscribe")
    ]
    outbox = {r.id: r.status for r in sql(db, "SELECT id, status FROM outbound_messages")}
    assert outbox == {mine: "suppressed", others: "pending"}


def test_the_sender_cancels_a_message_whose_enrollment_stopped_after_it_was_written(db: Engine) -> None:
    tenant = make_tenant(db)
    (lead,) = make_leads(db, tenant, 1)
    (enrollment,) = enroll(db, tenant, [lead])
    (message,) = make_messages(db, tenant, [lead])
    stop(tenant, [lead], StopEvent.REPLIED)
    # The writer wrote this row after the stop (it held the claim on the action): attach it now.
    attach(db, [message], [enrollment])

    counts = send.send_due(tenant_id=tenant)

    assert counts["canceled"] == 1
    assert counts.get("sent", 0) == 0
    row = sql(db, "SELECT status, sent_at, provider_message_id, last_error FROM outbound_messages")[0]
    assert (row.status, row.sent_at, row.provider_message_id) == ("canceled", None, None)
    assert row.last_error == "recovery stopped: its enrollment is stopped"


def test_start_lifts_only_a_suppression_the_lead_asked_for(db: Engine) -> None:
    tenant = make_tenant(db)
    with runtime.session_scope() as session, session.begin():
        reactions.suppress(session, tenant_id=tenant, channel="sms", addresses=["+15550000001"], reason="stop")
        reactions.suppress(session, tenant_id=tenant, channel="sms", addresses=["+15550000002"], reason="manual")
    with runtime.session_scope() as session, session.begin():
        lifted = reactions.unsuppress(
            session, tenant_id=tenant, channel="sms", address="+15550000001", reasons=["stop"]
        )
        kept = reactions.unsuppress(session, tenant_id=tenant, channel="sms", address="+15550000002", reasons=["stop"])
    assert (lifted, kept) == (True, False)
    assert [r.address for r in sql(db, "SELECT address FROM suppressions")] == ["+15550000002"]


def test_many_leads_of_many_tenants_stop_in_one_call_each_at_its_first_reason(db: Engine) -> None:
    acme, globex = make_tenant(db, slug="acme"), make_tenant(db, slug="globex")
    bounced, spammer = make_leads(db, acme, 2)
    (unsubscribed,) = make_leads(db, globex, 1)
    enroll(db, acme, [bounced, spammer])
    enroll(db, globex, [unsubscribed])
    later = AT.replace(minute=30)
    with runtime.session_scope() as session, session.begin():
        stopped = reactions.stop_leads(
            session,
            [
                reactions.Stop(acme, spammer, StopEvent.SPAM_REPORT, "SendGrid spamreport", later),
                reactions.Stop(acme, bounced, StopEvent.UNSUBSCRIBED, "SendGrid unsubscribe", later),
                reactions.Stop(acme, bounced, StopEvent.BOUNCED, "SendGrid bounce", AT),  # the earlier one
                reactions.Stop(globex, unsubscribed, StopEvent.UNSUBSCRIBED, "SendGrid unsubscribe", AT),
                reactions.Stop(globex, spammer, StopEvent.SPAM_REPORT, "not globex's lead", AT),
            ],
        )
    assert stopped.enrollments == 3
    audit = sql(
        db,
        """SELECT e.tenant_id, e.lead_id, t.event, t.reason, t.at FROM campaign_transitions AS t
           JOIN enrollments AS e ON e.id = t.enrollment_id ORDER BY e.lead_id""",
    )
    assert [tuple(r) for r in audit] == [
        (acme, bounced, "bounced", "SendGrid bounce", AT),
        (acme, spammer, "spamreport", "SendGrid spamreport", later),
        (globex, unsubscribed, "unsubscribed", "SendGrid unsubscribe", AT),
    ]
    actions = {r.status for r in sql(db, "SELECT status FROM scheduled_actions")}
    assert actions == {"canceled"}


def test_many_addresses_of_many_tenants_are_suppressed_in_one_call_each_with_its_first_reason(db: Engine) -> None:
    acme, globex = make_tenant(db, slug="acme"), make_tenant(db, slug="globex")
    with runtime.session_scope() as session, session.begin():
        added = reactions.suppress_addresses(
            session,
            [
                reactions.Suppression(acme, "email", "A@acme.example", "bounce", "SendGrid bounce"),
                reactions.Suppression(acme, "email", "a@acme.example ", "unsubscribe", "SendGrid unsubscribe"),
                reactions.Suppression(globex, "email", "a@acme.example", "spam", "SendGrid spamreport"),
                reactions.Suppression(globex, "sms", " ", "stop"),
            ],
        )
    assert added == 2
    rows = sql(db, "SELECT tenant_id, channel, address, reason, note FROM suppressions ORDER BY tenant_id")
    assert [tuple(r) for r in rows] == [
        (acme, "email", "a@acme.example", "bounce", "SendGrid bounce"),
        (globex, "email", "a@acme.example", "spam", "SendGrid spamreport"),
    ]
