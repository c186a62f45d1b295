"""The lead drawer says when the lead's address is suppressed, on which channel and why.

The suppression rows are written here in SQL with a pinned `created_at`, and the line the
drawer shows is written out by hand; the lead's address is matched the way the sender and the
scan match it (an email as stored or lower-cased), and another tenant's list never shows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from pages.leads import picks
from tests.app import factories
from tests.app.driver import open_page, rows, signed_in, truncate

SINCE = "2026-12-01 15:00:00+00"


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    built = factories.build(engine)
    yield built
    truncate(engine)


def execute(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(sql, params)


def in_recovery_leads(engine: Engine, tenant_id: int) -> list[int]:
    found = rows(
        engine,
        "SELECT id FROM leads WHERE tenant_id = :t AND recovery_state = 'in_recovery' ORDER BY id",
        t=tenant_id,
    )
    return [int(r.id) for r in found]


def suppress(engine: Engine, tenant_id: int, channel: str, address: str, reason: str, since: str = SINCE) -> None:
    execute(
        engine,
        "INSERT INTO suppressions (tenant_id, channel, address, reason, created_at) "
        "VALUES (%(t)s, %(c)s, %(a)s, %(r)s, %(s)s)",
        t=tenant_id,
        c=channel,
        a=address,
        r=reason,
        s=since,
    )


def drawer_marks(lead_id: int) -> list[str]:
    at = open_page(signed_in("demo@acme.example", factories.DEMO_PASSWORD), "pages/lead_scores.py")
    at.session_state[picks.DRAWER] = lead_id
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return marks(at)


def marks(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("Suppressed")]


def test_an_unsubscribed_lead_shows_suppressed_in_the_drawer(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    lead, untouched = in_recovery_leads(engine, acme)[:2]
    # The CRM spelled the address with capitals; the list holds it lower-cased, as the api writes it.
    execute(engine, "UPDATE leads SET email = 'Ann.Lee@Example.com', phone = '+15550001111' WHERE id = %(l)s", l=lead)
    suppress(engine, acme, "email", "ann.lee@example.com", "unsubscribe")
    suppress(engine, acme, "sms", "+15550001111", "stop", since="2026-12-02 09:30:00+00")

    assert drawer_marks(lead) == [
        "Suppressed (unsubscribe): no email is sent to this lead's address, since 2026-12-01 15:00 UTC.",
        "Suppressed (stop): no text message is sent to this lead's address, since 2026-12-02 09:30 UTC.",
    ]
    assert drawer_marks(untouched) == []


def test_another_tenants_suppression_of_the_same_address_does_not_show(world: factories.World, engine: Engine) -> None:
    acme, birch = world.tenants["acme"], world.tenants["birch"]
    lead = in_recovery_leads(engine, acme)[0]
    email = rows(engine, "SELECT email FROM leads WHERE id = :l", l=lead)[0].email
    suppress(engine, birch, "email", email, "unsubscribe")

    assert drawer_marks(lead) == []
