"""SendGrid events applied: a signed POST, the applier job on a real RQ worker, then the database
(statuses, timeline, suppressions, stops), including replays, disorder and events not ours."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.integration.sendgrid.scene import PRICING, T0, Scene, deliveries, ev, fingerprint, post, sql, work
from tests.sendgrid_signing import SigningKey


def test_a_signed_batch_is_stored_answered_and_applied_by_a_worker(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient
) -> None:
    s = Scene(db, 9)
    batch = [
        s.ev(0, "processed", T0),
        s.ev(0, "delivered", T0 + 5),
        s.ev(1, "delivered", T0 + 5),
        s.ev(1, "open", T0 + 60),
        s.ev(1, "click", T0 + 120, url=PRICING),
        s.ev(2, "bounce", T0 + 5, type="bounce", status="5.1.1", reason="550 5.1.1 no such user"),
        s.ev(3, "dropped", T0 + 1, reason="Bounced Address"),
        s.ev(4, "delivered", T0 + 5),
        s.ev(4, "spamreport", T0 + 300),
        s.ev(5, "delivered", T0 + 5),
        s.ev(5, "unsubscribe", T0 + 200),
        s.ev(6, "group_unsubscribe", T0 + 250, asm_group_id=3),
        s.ev(7, "deferred", T0 + 30, response="421 try later"),
        s.ev(8, "bounce", T0 + 6, type="blocked", status="4.7.1", reason="rate limited"),
    ]
    before = fingerprint(db)

    response = post(client, key, batch)

    assert (response.status_code, response.json()) == (200, {"accepted": 14})
    [stored] = deliveries(db)
    assert (stored.result, stored.signature_valid, stored.error) == ("received", True, None)
    assert fingerprint(db) == before, "the route only stores; the worker applies"

    work(redis_conn)

    [applied] = deliveries(db)
    assert applied.result == "applied"
    assert (applied.event_count, applied.applied_count, applied.duplicate_count) == (14, 14, 0)
    assert (applied.unmatched_count, applied.ignored_count) == (0, 0)
    m = s.messages
    events = sql(db, "SELECT message_id, event_type, extract(epoch FROM occurred_at)::bigint AS at FROM message_events")
    assert sorted((e.message_id, e.event_type, e.at) for e in events) == sorted(
        [
            (m[0], "processed", T0),
            (m[0], "delivered", T0 + 5),
            (m[1], "delivered", T0 + 5),
            (m[1], "open", T0 + 60),
            (m[1], "click", T0 + 120),
            (m[2], "bounce", T0 + 5),
            (m[3], "dropped", T0 + 1),
            (m[4], "delivered", T0 + 5),
            (m[4], "spamreport", T0 + 300),
            (m[5], "delivered", T0 + 5),
            (m[5], "unsubscribe", T0 + 200),
            (m[6], "unsubscribe", T0 + 250),  # group_unsubscribe is stored as an unsubscribe
            (m[7], "deferred", T0 + 30),
            (m[8], "bounce", T0 + 6),
        ]
    )
    outbox = {
        r.id: (r.status, r.delivered_at and int(r.delivered_at.timestamp()), r.error_code, r.last_error)
        for r in sql(db, "SELECT id, status, delivered_at, error_code, last_error FROM outbound_messages")
    }
    assert outbox == {
        m[0]: ("delivered", T0 + 5, None, None),
        m[1]: ("delivered", T0 + 5, None, None),
        m[2]: ("failed", None, "5.1.1", "SendGrid bounce: 550 5.1.1 no such user"),
        m[3]: ("failed", None, None, "SendGrid dropped: Bounced Address"),
        m[4]: ("delivered", T0 + 5, None, None),
        m[5]: ("delivered", T0 + 5, None, None),
        m[6]: ("sent", None, None, None),
        m[7]: ("sent", None, None, None),
        m[8]: ("failed", None, "4.7.1", "SendGrid bounce: rate limited"),
    }
    suppressed = sql(db, "SELECT tenant_id, channel, address, reason FROM suppressions ORDER BY address")
    assert [tuple(r) for r in suppressed] == [
        (s.tenant, "email", s.address(2), "bounce"),
        (s.tenant, "email", s.address(3), "bounce"),
        (s.tenant, "email", s.address(4), "spam"),
        (s.tenant, "email", s.address(5), "unsubscribe"),
        (s.tenant, "email", s.address(6), "unsubscribe"),
    ]  # lead9's blocked bounce is the receiver refusing for now: not suppressed
    stops = sql(
        db,
        """SELECT e.lead_id, e.status, t.event, extract(epoch FROM t.at)::bigint AS at
           FROM enrollments AS e LEFT JOIN campaign_transitions AS t ON t.enrollment_id = e.id ORDER BY e.lead_id""",
    )
    L = s.leads
    assert [tuple(r) for r in stops] == [
        (L[0], "active", None, None),
        (L[1], "active", None, None),
        (L[2], "stopped", "bounced", T0 + 5),  # each lead stops at its own event's time
        (L[3], "stopped", "bounced", T0 + 1),
        (L[4], "stopped", "spamreport", T0 + 300),
        (L[5], "stopped", "unsubscribed", T0 + 200),
        (L[6], "stopped", "unsubscribed", T0 + 250),
        (L[7], "active", None, None),
        (L[8], "active", None, None),
    ]
    timeline = sql(
        db, "SELECT lead_id, kind, channel, extract(epoch FROM occurred_at)::bigint AS at, details FROM activities"
    )
    assert sorted((a.lead_id, a.kind, a.channel, a.at) for a in timeline) == [
        (L[1], "click", "email", T0 + 120),
        (L[1], "open", "email", T0 + 60),
    ]
    assert {a.kind: a.details for a in timeline}["click"] == {"message_id": m[1], "url": PRICING}
    leads = {
        r.id: (r.recovery_state, r.silence_level, int(r.last_activity_at.timestamp()))
        for r in sql(db, "SELECT * FROM leads")
    }
    silent = ("silent", 2, T0 - 20 * 86400)
    assert leads == dict.fromkeys(L, silent) | {L[1]: ("active", 0, T0 + 120)}, "the click reset lead2"
    assert {int(x) for x in redis_conn.smembers(f"lre:scores:pending:{s.tenant}")} == {L[1]}


# --- replays -------------------------------------------------------------------------------------


def test_a_batch_replayed_50_times_and_under_new_event_ids_is_applied_once(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient
) -> None:
    s = Scene(db, 3)
    batch = [
        s.ev(0, "delivered", T0),
        s.ev(1, "open", T0 + 10),
        s.ev(1, "click", T0 + 20, url=PRICING),
        s.ev(2, "unsubscribe", T0 + 30),
    ]
    renamed = [e | {"sg_event_id": "again-" + e["sg_event_id"]} for e in batch]  # SendGrid's redelivery, new ids

    assert post(client, key, batch).status_code == 200
    work(redis_conn)  # the first copy is applied on its own ...
    for _ in range(49):  # ... then 49 more copies, the renamed one, and one holding every event twice
        assert post(client, key, batch).status_code == 200
    assert post(client, key, renamed).status_code == 200
    assert post(client, key, batch + renamed).status_code == 200
    work(redis_conn)  # 51 deliveries: six applier transactions of up to 10

    rows = deliveries(db)
    assert len(rows) == 52
    assert {r.result for r in rows} == {"applied"}
    assert [(r.event_count, r.applied_count, r.duplicate_count) for r in rows] == (
        [(4, 4, 0)] + [(4, 0, 4)] * 50 + [(8, 0, 8)]
    )
    events = sql(db, "SELECT event_type, provider_event_id FROM message_events ORDER BY occurred_at")
    assert [tuple(e) for e in events] == [(e["event"], e["sg_event_id"]) for e in batch]
    activities = sql(db, "SELECT kind, count(*) AS n FROM activities GROUP BY kind ORDER BY kind")
    assert [tuple(a) for a in activities] == [("click", 1), ("open", 1)]
    assert [r.reason for r in sql(db, "SELECT reason FROM suppressions")] == ["unsubscribe"]
    assert [r.event for r in sql(db, "SELECT event FROM campaign_transitions")] == ["unsubscribed"]


# --- order -------------------------------------------------------------------------------------


@pytest.mark.parametrize("one_run", [False, True], ids=["applied one by one", "applied in one batch"])
def test_events_out_of_order_end_in_the_right_state(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient, one_run: bool
) -> None:
    s = Scene(db, 8)
    m, L = s.messages, s.leads
    sql(db, "UPDATE outbound_messages SET status = 'held', sent_at = NULL WHERE id = ANY(:ids)", ids=m[3:6])
    sql(db, "UPDATE leads SET last_activity_at = to_timestamp(:at) WHERE id = :id", at=T0 + 3600, id=L[6])
    first = [
        s.ev(0, "delivered", T0 + 10),
        s.ev(1, "open", T0 + 60),
        s.ev(2, "delivered", T0 + 10),
        s.ev(3, "processed", T0),  # held rows: the provider had them after all ...
        s.ev(4, "delivered", T0 + 10),
        s.ev(5, "dropped", T0, reason="Invalid"),  # ... or refused them
        s.ev(6, "click", T0 + 120, url=PRICING),  # older than the lead's latest activity
        s.ev(7, "bounce", T0 + 5, type="blocked", reason="try later"),
    ]
    second = [
        s.ev(0, "processed", T0),  # processed after delivered
        s.ev(1, "delivered", T0 + 10),  # delivered after open
        s.ev(2, "bounce", T0 + 20, type="bounce", status="5.1.1", reason="mailbox gone"),  # after delivered
        s.ev(7, "delivered", T0 + 30),  # delivered after a blocked attempt
    ]
    assert post(client, key, first).status_code == 200
    if not one_run:
        work(redis_conn)
    assert post(client, key, second).status_code == 200
    work(redis_conn)

    outbox = {
        r.id: (r.status, r.sent_at and int(r.sent_at.timestamp()), r.delivered_at and int(r.delivered_at.timestamp()))
        for r in sql(db, "SELECT id, status, sent_at, delivered_at FROM outbound_messages")
    }
    sent = T0 - 3600  # the scene's send time
    assert outbox == {
        m[0]: ("delivered", sent, T0 + 10),
        m[1]: ("delivered", sent, T0 + 10),
        m[2]: ("delivered", sent, T0 + 10),  # never back from delivered
        m[3]: ("sent", T0, None),
        m[4]: ("delivered", T0 + 10, T0 + 10),
        m[5]: ("failed", None, None),
        m[6]: ("sent", sent, None),
        m[7]: ("delivered", sent, T0 + 30),
    }
    # the hard bounce after delivery still says the mailbox is gone
    assert [tuple(r) for r in sql(db, "SELECT address, reason FROM suppressions ORDER BY address")] == [
        (s.address(2), "bounce"),
        (s.address(5), "bounce"),
    ]
    late_click = sql(db, "SELECT recovery_state, silence_level, last_activity_at FROM leads WHERE id = :id", id=L[6])[0]
    assert (late_click.recovery_state, late_click.silence_level, int(late_click.last_activity_at.timestamp())) == (
        "silent",
        2,
        T0 + 3600,
    )
    assert [tuple(r) for r in sql(db, "SELECT lead_id, kind FROM activities ORDER BY lead_id")] == [
        (L[1], "open"),
        (L[6], "click"),  # recorded on the timeline all the same
    ]
    assert sql(db, "SELECT count(*) AS n FROM message_events")[0].n == 12


# --- what is not ours, and what we do not act on -------------------------------------------------


def test_unknown_event_types_and_unknown_messages_are_stored_and_counted_not_applied(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient
) -> None:
    ours, theirs = Scene(db, 2), Scene(db, 1, slug="globex")
    forged = theirs.ev(0, "unsubscribe", T0) | {"tenant_id": str(ours.tenant)}  # their message, our tenant id
    batch = [
        ours.ev(0, "group_resubscribe", T0),
        ours.ev(0, "machine_opened", T0),
        ours.ev(0, "delivered", T0) | {"timestamp": "soon"},
        ev(999_999, ours.tenant, "bounce", T0, type="bounce"),  # no such message
        forged,
        ours.ev(1, "spamreport", T0) | {"lead_id": str(theirs.leads[0])},  # the lead is not the message's
        ours.ev(1, "unsubscribe", T0) | {"message_id": "not-a-number"},  # custom args we cannot read: no fallback
        ours.ev(0, "delivered", T0 + 5),
    ]
    before = fingerprint(db)

    response = post(client, key, batch)
    work(redis_conn)

    assert response.json() == {"accepted": 8}
    [row] = deliveries(db)
    assert (row.result, row.event_count, row.ignored_count, row.unmatched_count, row.applied_count) == (
        "applied",
        8,
        3,
        4,
        1,
    )
    assert [tuple(r) for r in sql(db, "SELECT message_id, event_type FROM message_events")] == [
        (ours.messages[0], "delivered")
    ]
    assert sql(db, "SELECT count(*) AS n FROM suppressions")[0].n == 0
    assert sql(db, "SELECT count(*) AS n FROM campaign_transitions")[0].n == 0
    assert sql(db, "SELECT status FROM outbound_messages WHERE id = :id", id=theirs.messages[0])[0].status == "sent"
    assert fingerprint(db)[:4] == (1, 0, 0, 0)
    assert before[:4] == (0, 0, 0, 0)


def test_events_without_custom_args_match_on_the_provider_id_and_the_recipient(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient
) -> None:
    s = Scene(db, 2)
    bare = [
        ev(None, None, "delivered", T0, email=s.address(0).upper()),
        ev(None, None, "open", T0 + 10, email=s.address(1)),
        ev(None, None, "delivered", T0, email="stranger@acme.example"),  # not one of the request's recipients
        ev(None, None, "delivered", T0, email=s.address(1), sg_message_id="OTHER.filter1"),
    ]

    post(client, key, bare)
    work(redis_conn)

    [row] = deliveries(db)
    assert (row.applied_count, row.unmatched_count) == (2, 2)
    events = sql(db, "SELECT message_id, event_type FROM message_events ORDER BY message_id")
    assert [tuple(e) for e in events] == [(s.messages[0], "delivered"), (s.messages[1], "open")]


def test_opt_outs_hours_apart_in_one_batch_stop_each_lead_once_at_its_first(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient
) -> None:
    """A backlog of SendGrid's retries spans hours: each address keeps the reason of its first
    opt-out, and each lead stops once, at that event's time."""
    s, other = Scene(db, 2), Scene(db, 1, slug="globex")
    hours = 3 * 3600
    batch = [
        s.ev(0, "unsubscribe", T0 + hours),
        s.ev(0, "bounce", T0 - hours, type="bounce", reason="mailbox gone"),
        s.ev(1, "spamreport", T0),
        other.ev(0, "group_unsubscribe", T0 - 2 * hours),
    ]

    assert post(client, key, batch).status_code == 200
    work(redis_conn)

    suppressed = sql(db, "SELECT tenant_id, address, reason, note FROM suppressions ORDER BY tenant_id, address")
    assert [tuple(r) for r in suppressed] == [
        (s.tenant, s.address(0), "bounce", "SendGrid bounce"),
        (s.tenant, s.address(1), "spam", "SendGrid spamreport"),
        (other.tenant, other.address(0), "unsubscribe", "SendGrid group_unsubscribe"),
    ]
    stops = sql(
        db,
        """SELECT e.lead_id, t.event, extract(epoch FROM t.at)::bigint AS at FROM campaign_transitions AS t
           JOIN enrollments AS e ON e.id = t.enrollment_id ORDER BY e.lead_id""",
    )
    assert [tuple(r) for r in stops] == [
        (s.leads[0], "bounced", T0 - hours),
        (s.leads[1], "spamreport", T0),
        (other.leads[0], "unsubscribed", T0 - 2 * hours),
    ]
