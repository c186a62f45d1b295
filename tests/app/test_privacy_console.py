"""Settings → Privacy and the drawer's export through AppTest on real PostgreSQL: an admin erases
a lead after typing its id again and sets the retention period; a wrong confirmation erases
nothing; a rep sees neither the section nor the export; the admin downloads the lead's JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from pages.leads import picks
from pages.settings import privacy as section
from tests.app import factories
from tests.app.driver import downloaded, open_page, rows, signed_in, truncate, value


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    """A fresh world per test: these tests write."""
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


def settings_as(email: str, password: str) -> AppTest:
    return open_page(signed_in(email, password), "pages/tenant_settings.py")


def a_lead(engine: Engine, tenant_id: int) -> tuple[int, str]:
    row = rows(
        engine,
        "SELECT id, email FROM leads WHERE tenant_id = :t AND email IS NOT NULL ORDER BY id LIMIT 1",
        t=tenant_id,
    )[0]
    return int(row.id), str(row.email)


def erase_in_settings(at: AppTest, tenant_id: int, lead_id: int, typed: str) -> AppTest:
    at.number_input(key=section.key(tenant_id, "lead_id")).set_value(lead_id)
    at.text_input(key=section.key(tenant_id, "confirm")).input(typed)
    at.button(key=section.key(tenant_id, "erase")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_admin_erases_a_lead_only_once_its_id_is_typed_again(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    lead_id, email = a_lead(engine, acme)
    at = settings_as("boss@acme.example", factories.ADMIN_PASSWORD)

    erase_in_settings(at, acme, lead_id, typed=str(lead_id + 1))
    assert [e.value for e in at.error] == [f"confirm: type {lead_id} to confirm the erasure; nothing was erased"]
    assert value(engine, "SELECT email FROM leads WHERE id = :l", l=lead_id) == email

    erase_in_settings(at, acme, lead_id, typed=str(lead_id))
    assert at.success[0].value.startswith(f"Lead {lead_id}: erased 1 lead(s)")
    erased = rows(engine, "SELECT first_name, email, phone, erased_at FROM leads WHERE id = :l", l=lead_id)[0]
    assert (erased.first_name, erased.email, erased.phone) == ("Erased", None, None)
    assert erased.erased_at is not None
    assert value(engine, "SELECT count(*) FROM suppressions WHERE tenant_id = :t AND reason = 'erased'", t=acme) >= 1


def test_an_admin_sets_the_retention_period(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    at = settings_as("boss@acme.example", factories.ADMIN_PASSWORD)

    at.number_input(key=section.key(acme, "retention_days")).set_value(400)
    at.button(key=f"FormSubmitter:{section.key(acme, 'retention')}-Save retention").click().run()

    assert not at.exception
    assert [s.value for s in at.success] == ["Closed leads are now kept 400 days after they close."]
    assert value(engine, "SELECT retention_days FROM tenants WHERE id = :t", t=acme) == 400


def test_a_rep_gets_no_privacy_section_and_no_export(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    at = settings_as("demo@acme.example", factories.DEMO_PASSWORD)

    assert not [b for b in at.button if b.key == section.key(acme, "erase")]
    assert "Only an owner or an admin of this tenant can set retention and erase leads (you are: rep)." in [
        c.value for c in at.caption
    ]
    lead_id, _ = a_lead(engine, acme)
    leads = open_page(signed_in("demo@acme.example", factories.DEMO_PASSWORD), "pages/lead_scores.py")
    leads.session_state[picks.DRAWER] = lead_id
    leads.run()
    assert not [b for b in leads.button if b.key == "leads.drawer.export.prepare"]


def test_an_admin_downloads_the_leads_data_from_the_drawer(
    world: factories.World, engine: Engine, downloads: dict[str, bytes]
) -> None:
    acme = world.tenants["acme"]
    lead_id, email = a_lead(engine, acme)
    at = open_page(signed_in("boss@acme.example", factories.ADMIN_PASSWORD), "pages/lead_scores.py")
    at.session_state[picks.DRAWER] = lead_id
    at.run()

    at.button(key="leads.drawer.export.prepare").click().run()

    assert not at.exception, [e.value for e in at.exception]
    document = json.loads(downloaded(at, "leads.drawer.export.download", downloads))
    assert (document["lead_id"], document["lead"]["email"]) == (lead_id, email)
    expected = value(engine, "SELECT count(*) FROM activities WHERE lead_id = :l", l=lead_id)
    assert len(document["records"]["activities"]) == expected


def test_another_tenants_lead_cannot_be_erased_from_this_tenants_settings(
    world: factories.World, engine: Engine
) -> None:
    acme, birch = world.tenants["acme"], world.tenants["birch"]
    lead_id, email = a_lead(engine, birch)
    at = settings_as("boss@acme.example", factories.ADMIN_PASSWORD)

    erase_in_settings(at, acme, lead_id, typed=str(lead_id))

    assert [e.value for e in at.error] == [f"lead id: tenant {acme} has no lead {lead_id}"]
    assert value(engine, "SELECT (email, erased_at) FROM leads WHERE id = :l", l=lead_id) == (email, None)
