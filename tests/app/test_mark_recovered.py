"""The lead drawer's "Mark recovered" through AppTest on real PostgreSQL: a rep records a sale and
the database holds the conversion (credited to the lead's last message, method manual), the lead
recovered and its enrollment stopped with a transition; a viewer gets no form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services.operators import hash_password
from db.models import Operator, OutboundMessage
from pages import session
from pages.leads import mark_recovered, picks
from tests.app import factories
from tests.app.driver import open_page, rows, signed_in, truncate, value


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


def in_recovery_lead(engine: Engine, world: factories.World) -> int:
    """Acme's first lead in recovery: the factory gave it an active enrollment in the running ladder."""
    return int(
        value(
            engine,
            "SELECT min(id) FROM leads WHERE tenant_id = :t AND recovery_state = 'in_recovery'",
            t=world.tenants["acme"],
        )
    )


def drawer_as(email: str, password: str, lead_id: int, now: dt.datetime) -> AppTest:
    at = open_page(signed_in(email, password), "pages/lead_scores.py")
    at.session_state[session.CLOCK] = now
    at.session_state[picks.DRAWER] = lead_id
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_rep_marks_a_lead_recovered_and_its_recovery_stops(world: factories.World, engine: Engine) -> None:
    acme, now = world.tenants["acme"], world.now
    lead = in_recovery_lead(engine, world)
    with engine.begin() as conn:
        message = conn.execute(
            sa.insert(OutboundMessage)
            .values(
                tenant_id=acme,
                campaign_id=world.campaigns["acme"],
                lead_id=lead,
                channel="email",
                to_address="lead@acme-mail.example",
                body="Hi",
                source="ai",
                status="delivered",
                sent_at=now - dt.timedelta(days=2),
                dedupe_key=f"{acme}:drawer:{lead}",
            )
            .returning(OutboundMessage.id)
        ).scalar_one()
    enrollment = value(engine, "SELECT id FROM enrollments WHERE lead_id = :l AND status = 'active'", l=lead)
    assert enrollment is not None
    at = drawer_as("demo@acme.example", factories.DEMO_PASSWORD, lead, now)
    field = at.number_input(key=mark_recovered.value_key(lead))
    assert field.value == float(value(engine, "SELECT deal_value FROM leads WHERE id = :l", l=lead))

    field.set_value(1234.5)
    at.button(key=f"FormSubmitter:{mark_recovered.form_key(lead)}-Mark recovered").click().run()
    assert not at.exception, [e.value for e in at.exception]

    assert [s.value for s in at.success] == ["Marked recovered: \\$1,234.50."]
    found = rows(
        engine,
        "SELECT lead_id, value, method, message_id, campaign_id, channel, converted_at FROM conversions "
        "WHERE tenant_id = :t AND lead_id = :l",
        t=acme,
        l=lead,
    )
    assert [tuple(r) for r in found] == [
        (lead, Decimal("1234.50"), "manual", message, world.campaigns["acme"], "email", now)
    ]
    state = rows(engine, "SELECT recovery_state, recovered_at, recovered_value FROM leads WHERE id = :l", l=lead)[0]
    assert tuple(state) == ("recovered", now, Decimal("1234.50"))
    assert value(engine, "SELECT status FROM enrollments WHERE id = :e", e=enrollment) == "stopped"
    transitions = rows(engine, "SELECT event, at FROM campaign_transitions WHERE enrollment_id = :e", e=enrollment)
    assert [tuple(t) for t in transitions] == [("converted", now)]
    header = [c.value for c in at.caption if "stage " in c.value]
    assert len(header) == 1
    assert " · recovered · stage won · " in header[0], "the drawer's header shows the lead as it now stands"


def test_a_viewer_gets_no_form_and_nothing_is_recorded(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Operator).values(
                tenant_id=acme,
                email="look@acme.example",
                name="Look",
                role="viewer",
                password_hash=hash_password(factories.DEMO_PASSWORD),
            )
        )
    lead = in_recovery_lead(engine, world)
    before = value(engine, "SELECT count(*) FROM conversions")
    at = drawer_as("look@acme.example", factories.DEMO_PASSWORD, lead, world.now)
    assert any(c.value == "Viewers can see sales but not record them." for c in at.caption)
    assert not [n for n in at.number_input if n.key == mark_recovered.value_key(lead)]
    assert value(engine, "SELECT count(*) FROM conversions") == before
    assert value(engine, "SELECT recovery_state FROM leads WHERE id = :l", l=lead) == "in_recovery"
