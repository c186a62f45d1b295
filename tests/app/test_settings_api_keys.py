"""Settings → API keys through AppTest on real PostgreSQL: an admin makes a key that is shown once
(its SHA-256 is what the database holds), sees it listed by prefix, and revokes it; a rep gets
no section."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services import api_keys
from pages.settings import api_keys as section
from tests.app import factories
from tests.app.driver import open_page, rows, signed_in, truncate, value

KEY = re.compile(r"^lre_[A-Za-z0-9_-]{43}$")


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    """A fresh world per test: these tests write."""
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


def settings_as(email: str, password: str) -> AppTest:
    return open_page(signed_in(email, password), "pages/tenant_settings.py")


def make_key(at: AppTest, tenant_id: int, name: str) -> AppTest:
    at.text_input(key=section.key(tenant_id, "name")).input(name)
    at.button(key=f"FormSubmitter:{section.key(tenant_id, 'create')}-Create key").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_admin_makes_a_key_sees_it_once_and_revokes_it(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    at = settings_as("boss@acme.example", factories.ADMIN_PASSWORD)
    assert any(i.value.startswith("**No API key yet**") for i in at.info)

    make_key(at, acme, "CRM sync")
    shown = [c.value for c in at.code]
    assert len(shown) == 1
    (key,) = shown
    assert KEY.match(key)
    assert [w.value for w in at.warning] == [section.NOT_SHOWN_AGAIN]
    stored = rows(engine, "SELECT id, tenant_id, name, prefix, key_hash, created_by, revoked_at FROM api_keys")
    assert len(stored) == 1
    (row,) = stored
    assert (row.tenant_id, row.name, row.created_by, row.revoked_at) == (
        acme,
        "CRM sync",
        world.operators["boss@acme.example"],
        None,
    )
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    listed = at.dataframe[0].value
    assert listed["prefix"].tolist() == [f"{key[:12]}…"]
    assert listed["status"].tolist() == ["active"]
    assert api_keys.authenticate(key) == acme

    at.run()  # any next run: the key is gone from the page for good
    assert not at.code
    assert key not in " ".join(str(m.value) for m in (*at.markdown, *at.caption, *at.text, *at.success))
    assert at.dataframe[0].value["prefix"].tolist() == [f"{key[:12]}…"]

    at.selectbox(key=section.key(acme, "revoke_id")).select(row.id).run()
    at.button(key=section.key(acme, "revoke")).click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [f"API key {row.id} revoked: requests with it now get 401."]
    assert value(engine, "SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = :k", k=row.id) is True
    assert at.dataframe[0].value["status"].iloc[0].startswith("revoked ")
    assert api_keys.authenticate(key) is None
    assert not [s for s in at.selectbox if s.key == section.key(acme, "revoke_id")], "nothing left to revoke"


def test_a_nameless_key_is_refused_and_nothing_is_made(world: factories.World, engine: Engine) -> None:
    at = make_key(settings_as("boss@acme.example", factories.ADMIN_PASSWORD), world.tenants["acme"], "   ")
    assert [e.value for e in at.error] == ["Key name: give the key a name, e.g. the system that will use it"]
    assert not at.code
    assert value(engine, "SELECT count(*) FROM api_keys") == 0


def test_a_rep_sees_no_keys_and_no_form(world: factories.World, engine: Engine) -> None:
    api_keys.create_key(tenant_id=world.tenants["acme"], name="CRM", created_by=None)
    at = settings_as("demo@acme.example", factories.DEMO_PASSWORD)
    assert any("Only an admin or a manager of this tenant can see and manage API keys" in c.value for c in at.caption)
    assert not at.dataframe
    assert "Create key" not in [b.label for b in at.button]
    assert value(engine, "SELECT count(*) FROM api_keys") == 1
