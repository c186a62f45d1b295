"""The Replies inbox's actions through AppTest on real PostgreSQL: a rep marks a reply handled and
marks its lead recovered (both read back in SQL), the filters keep what they name, and a viewer
gets no buttons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services import replies
from app.services.operators import hash_password
from db.models import Operator
from pages import session
from pages.replies import actions, thread
from tests.app import factories
from tests.app.driver import open_page, rows, signed_in, truncate, value


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


def inbox_as(email: str, password: str, now: dt.datetime) -> AppTest:
    at = open_page(signed_in(email, password), "pages/reply_inbox.py")
    at.session_state[session.CLOCK] = now
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def first_unhandled(engine: Engine, tenant_id: int) -> tuple[int, int]:
    """(reply id, lead id) of the inbox's top reply, ordered as the page orders it."""
    row = rows(
        engine,
        """SELECT id, lead_id FROM inbound_messages WHERE tenant_id = :t AND handled_at IS NULL
           ORDER BY CASE WHEN intent IN ('interested', 'question') THEN 0 ELSE 1 END,
                    CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 WHEN 'low' THEN 3 ELSE 2 END,
                    received_at DESC, id DESC LIMIT 1""",
        t=tenant_id,
    )[0]
    return int(row.id), int(row.lead_id)


def test_a_rep_marks_a_reply_handled(world: factories.World, engine: Engine) -> None:
    acme, now = world.tenants["acme"], world.now
    reply, _ = first_unhandled(engine, acme)
    unhandled = value(
        engine, "SELECT count(*) FROM inbound_messages WHERE tenant_id = :t AND handled_at IS NULL", t=acme
    )
    at = inbox_as("demo@acme.example", factories.DEMO_PASSWORD, now)

    at.button(key=actions.handled_key(reply)).click().run()

    assert not at.exception, [e.value for e in at.exception]
    [row] = rows(engine, "SELECT handled_at, handled_by FROM inbound_messages WHERE id = :id", id=reply)
    assert (row.handled_at, row.handled_by) == (now, world.operators["demo@acme.example"])
    assert [s.value for s in at.success] == ["Marked handled."]
    figures = {m.label: m.value for m in at.metric}
    assert figures["Unhandled"] == str(unhandled - 1)
    assert not [b for b in at.button if b.key == actions.handled_key(reply)]


def test_a_rep_marks_the_replying_lead_recovered(world: factories.World, engine: Engine) -> None:
    acme, now = world.tenants["acme"], world.now
    reply, lead = first_unhandled(engine, acme)
    at = inbox_as("demo@acme.example", factories.DEMO_PASSWORD, now)

    at.number_input(key=actions.value_key(reply)).set_value(800.0)
    at.button(key=f"FormSubmitter:{actions.form_key(reply)}-Mark recovered").click().run()

    assert not at.exception, [e.value for e in at.exception]
    [conversion] = rows(
        engine, "SELECT lead_id, value, method, converted_at FROM conversions WHERE lead_id = :l", l=lead
    )
    assert tuple(conversion) == (lead, Decimal("800.00"), "manual", now)
    assert value(engine, "SELECT recovery_state FROM leads WHERE id = :l", l=lead) == "recovered"


def test_the_channel_and_intent_filters_keep_what_they_name(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    questions = value(
        engine,
        """SELECT count(*) FROM inbound_messages WHERE tenant_id = :t AND handled_at IS NULL
           AND intent = 'question'""",
        t=acme,
    )
    at = inbox_as("demo@acme.example", factories.DEMO_PASSWORD, world.now)

    at.multiselect(key="replies.intent").set_value(["question"]).run()
    assert len([b for b in at.button if b.key and b.key.endswith(".handled")]) == questions
    at.multiselect(key="replies.channel").set_value(["sms"]).run()  # the world's replies are all email
    assert [b for b in at.button if b.key and b.key.endswith(".handled")] == []


def add_viewer(engine: Engine, tenant_id: int) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                Operator.__table__.insert()
                .values(
                    tenant_id=tenant_id,
                    email="viewer@acme.example",
                    name="Viewer Acme",
                    role="viewer",
                    password_hash=hash_password("viewer-pass"),
                )
                .returning(Operator.__table__.c.id)
            ).scalar_one()
        )


def test_a_viewer_reads_the_inbox_but_cannot_act(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    viewer = add_viewer(engine, acme)
    reply, _ = first_unhandled(engine, acme)
    at = inbox_as("viewer@acme.example", "viewer-pass", world.now)

    assert {m.label for m in at.metric} >= {"Unhandled"}
    assert [b for b in at.button if b.key and b.key.startswith("replies.")] == []
    assert not at.number_input
    with pytest.raises(PermissionError):  # the service refuses whatever the page shows
        replies.mark_handled(tenant_id=acme, inbound_message_id=reply, operator_id=viewer, now=world.now)
    assert value(engine, "SELECT handled_at FROM inbound_messages WHERE id = :id", id=reply) is None


def test_a_rep_of_another_tenant_cannot_handle_its_replies(world: factories.World, engine: Engine) -> None:
    reply, _ = first_unhandled(engine, world.tenants["acme"])
    with pytest.raises(PermissionError):
        replies.mark_handled(
            tenant_id=world.tenants["acme"],
            inbound_message_id=reply,
            operator_id=world.operators["demo@birch.example"],
            now=world.now,
        )
    assert value(engine, "SELECT handled_at FROM inbound_messages WHERE id = :id", id=reply) is None


def test_a_rep_corrects_the_intent_and_it_is_kept_as_a_labelled_example(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    reply, _ = first_unhandled(engine, acme)
    [before] = rows(engine, "SELECT intent, body, channel FROM inbound_messages WHERE id = :id", id=reply)
    at = inbox_as("demo@acme.example", factories.DEMO_PASSWORD, world.now)

    at.selectbox(key=thread.intent_key(reply)).set_value("not_now")
    at.button(key=f"FormSubmitter:{thread.intent_form_key(reply)}-Save intent").click().run()

    assert not at.exception, [e.value for e in at.exception]
    assert value(engine, "SELECT intent FROM inbound_messages WHERE id = :id", id=reply) == "not_now"
    [label] = rows(
        engine,
        """SELECT tenant_id, channel, text, intent, previous_intent, labelled_by
           FROM reply_labels WHERE inbound_message_id = :id""",
        id=reply,
    )
    assert tuple(label) == (
        acme,
        before.channel,
        before.body,
        "not_now",
        before.intent,
        world.operators["demo@acme.example"],
    )

    at.selectbox(key=thread.intent_key(reply)).set_value("wrong_person")
    at.button(key=f"FormSubmitter:{thread.intent_form_key(reply)}-Save intent").click().run()
    [(intent, previous)] = [
        tuple(r)
        for r in rows(
            engine, "SELECT intent, previous_intent FROM reply_labels WHERE inbound_message_id = :id", id=reply
        )
    ]
    assert (intent, previous) == ("wrong_person", before.intent)  # one label per reply; triage's verdict kept


def test_a_rep_edits_the_suggested_answer_and_it_is_queued_for_the_sender_once(
    world: factories.World, engine: Engine
) -> None:
    acme, now = world.tenants["acme"], world.now
    reply, lead = first_unhandled(engine, acme)
    at = inbox_as("demo@acme.example", factories.DEMO_PASSWORD, now)
    box = at.text_area(key=thread.answer_key(reply))
    assert box.value == factories.SUGGESTED_REPLY

    box.set_value("Happy to call you on Tuesday at 10.")
    at.button(key=f"FormSubmitter:{thread.answer_form_key(reply)}-Send answer").click().run()
    assert not at.exception, [e.value for e in at.exception]
    again = inbox_as("demo@acme.example", factories.DEMO_PASSWORD, now)  # the reply is handled: shown only with handled
    again.toggle(key="replies.show_handled").set_value(True).run()
    again.text_area(key=thread.answer_key(reply)).set_value("Twice?")
    again.button(key=f"FormSubmitter:{thread.answer_form_key(reply)}-Send answer").click().run()

    queued = rows(
        engine,
        """SELECT lead_id, channel, to_address, subject, body, source, status, scheduled_for, campaign_id
           FROM outbound_messages WHERE source = 'manual'""",
    )
    email = value(engine, "SELECT email FROM leads WHERE id = :l", l=lead)
    assert [tuple(q) for q in queued] == [
        (
            lead,
            "email",
            email,
            "Re: your message",
            "Happy to call you on Tuesday at 10.",
            "manual",
            "pending",
            now,
            None,
        )
    ]
    [handled] = rows(engine, "SELECT handled_at, handled_by FROM inbound_messages WHERE id = :id", id=reply)
    assert tuple(handled) == (now, world.operators["demo@acme.example"])
    assert [e.value for e in again.error] == ["This reply was already answered."]


def test_the_owner_filter_keeps_the_replies_of_that_owners_leads(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    expected = rows(
        engine,
        """SELECT coalesce(o.name, 'Unassigned') AS owner, count(*) AS n
           FROM inbound_messages i JOIN leads l ON l.id = i.lead_id LEFT JOIN operators o ON o.id = l.owner_id
           WHERE i.tenant_id = :t AND i.handled_at IS NULL GROUP BY 1""",
        t=acme,
    )
    at = inbox_as("demo@acme.example", factories.DEMO_PASSWORD, world.now)
    assert at.multiselect(key="replies.owner").options == sorted(r.owner for r in expected)

    for row in expected:
        at.multiselect(key="replies.owner").set_value([row.owner]).run()
        assert len([b for b in at.button if b.key and b.key.endswith(".handled")]) == row.n
