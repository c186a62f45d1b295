"""Settings → Messages through AppTest on real PostgreSQL: an admin saves the offer, the domains and
two SMS segments into the tenant's settings; a bad domain is refused by name and nothing changes;
a rep gets no form."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from pages.settings import messages as section
from tests.app import factories
from tests.app.driver import open_page, signed_in, truncate, value

SAVED = "SELECT settings->'messages' FROM tenants WHERE id = :t"


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    """A fresh world per test: these tests write."""
    truncate(engine)
    section.current.clear()
    yield factories.build(engine)
    truncate(engine)


def save(at: AppTest, tenant_id: int, *, offer: str, domains: str, segments: int) -> AppTest:
    at.text_area(key=section.key(tenant_id, "offer")).input(offer)
    at.text_input(key=section.key(tenant_id, "domains")).input(domains)
    at.radio(key=section.key(tenant_id, "segments")).set_value(segments)
    at.button(key=f"FormSubmitter:{section.key(tenant_id, 'form')}-Save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_admin_saves_the_offer_domains_and_two_segments(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    at = open_page(signed_in("boss@acme.example", factories.ADMIN_PASSWORD), "pages/tenant_settings.py")

    save(at, acme, offer="10% off roof checks this month", domains="https://www.Acme.example, acme.shop", segments=2)

    assert not at.error
    stored = value(engine, SAVED, t=acme)
    assert (stored if isinstance(stored, dict) else json.loads(stored)) == {
        "offer": "10% off roof checks this month",
        "domains": ["acme.example", "acme.shop"],
        "sms_max_segments": 2,
    }
    assert at.text_area(key=section.key(acme, "offer")).value == "10% off roof checks this month"


def test_a_bad_domain_is_refused_by_name_and_nothing_changes(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    at = open_page(signed_in("boss@acme.example", factories.ADMIN_PASSWORD), "pages/tenant_settings.py")

    save(at, acme, offer="", domains="not a domain", segments=1)

    assert len(at.error) == 1
    assert "Domains" in at.error[0].value
    assert value(engine, SAVED, t=acme) is None


def test_a_rep_gets_no_message_settings_form(world: factories.World) -> None:
    acme = world.tenants["acme"]
    at = open_page(signed_in("demo@acme.example", "demo"), "pages/tenant_settings.py")
    assert not [a for a in at.text_area if a.key == section.key(acme, "offer")]
    assert any("what messages may say" in c.value for c in at.caption)
