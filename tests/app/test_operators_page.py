"""The Operators page: an owner invites by a one-time link, the invitee joins through it, and the
owner changes their role and deactivates them; a rep gets neither the link nor the page. Every
click ends in the database, read back with SQL written here."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services import operator_admin, operators
from pages import session
from tests.app import factories
from tests.app.driver import APP, TIMEOUT, open_page, rows, signed_in, truncate, value

OWNER = "owner@acme.example"
OWNER_PASSWORD = "owner-pass-123"
NEW = "new.rep@acme.example"


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    built = factories.build(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO operators (tenant_id, email, name, role, password_hash) VALUES (%s, %s, 'Olga', 'owner', %s)",
            (built.tenants["acme"], OWNER, operators.hash_password(OWNER_PASSWORD)),
        )
    yield built
    truncate(engine)


def operators_page(email: str, password: str) -> AppTest:
    at = signed_in(email, password)
    assert "Operators" in [link.value for link in at.sidebar.page_link]
    return open_page(at, "pages/operators.py")


def invited_token(at: AppTest) -> str:
    assert not at.error, [e.value for e in at.error]
    [link] = [c.value for c in at.code if c.value.startswith("?invite=")]
    return link.removeprefix("?invite=")


def join(token: str, name: str, password: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["invite"] = token
    at.run()
    at.text_input(key="invite.name").input(name)
    at.text_input(key="invite.password").input(password)
    at.form_submit_button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_owner_invites_the_invitee_joins_once_then_is_demoted_and_deactivated(
    world: factories.World, engine: Engine
) -> None:
    acme = world.tenants["acme"]
    at = operators_page(OWNER, OWNER_PASSWORD)
    listed = set(at.dataframe[0].value["email"])
    assert listed == {r.email for r in rows(engine, "SELECT email FROM operators WHERE tenant_id = :t", t=acme)}
    assert "demo@birch.example" not in listed

    at.text_input(key=f"operators.{acme}.email").input(NEW)
    at.selectbox(key=f"operators.{acme}.role").select("rep")
    at.button(key=f"FormSubmitter:operators.{acme}.invite-Invite").click().run()
    token = invited_token(at)
    [invite] = rows(engine, "SELECT email, role, token_hash, expires_at - created_at AS valid FROM operator_invites")
    assert (invite.email, invite.role, invite.valid) == (NEW, "rep", dt.timedelta(days=7))
    assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest(), "only the digest is stored"
    assert token not in str(rows(engine, "SELECT * FROM operator_invites"))

    joined = join(token, "Nina", "a-long-password-1")
    who = joined.session_state[session.IDENTITY]
    assert (who.email, who.role, who.tenant_id) == (NEW, "rep", acme)
    assert value(engine, "SELECT used_at IS NOT NULL FROM operator_invites") is True
    again = join(token, "Mallory", "another-password-2")
    assert session.IDENTITY not in again.session_state
    assert any("not valid any more" in e.value for e in again.error)
    assert value(engine, "SELECT count(*) FROM operators WHERE email = :e", e=NEW) == 1

    at = operators_page(OWNER, OWNER_PASSWORD)
    at.selectbox(key=f"operators.{acme}.target").select(who.operator_id)
    at.selectbox(key=f"operators.{acme}.new_role").select("viewer")
    at.button(key=f"operators.{acme}.change").click().run()
    assert value(engine, "SELECT role FROM operators WHERE id = :i", i=who.operator_id) == "viewer"
    at.selectbox(key=f"operators.{acme}.target").select(who.operator_id)
    at.button(key=f"operators.{acme}.deactivate").click().run()
    assert value(engine, "SELECT is_active FROM operators WHERE id = :i", i=who.operator_id) is False
    assert operators.authenticate(email=NEW, password="a-long-password-1") is None


def test_a_rep_gets_no_operators_page_and_an_admin_may_not_make_owners(world: factories.World, engine: Engine) -> None:
    at = signed_in("demo@acme.example", factories.DEMO_PASSWORD)
    assert "Operators" not in [link.value for link in at.sidebar.page_link]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/operators.py")  # not registered for a rep at all

    acme = world.tenants["acme"]
    with engine.begin() as conn:
        admin = conn.exec_driver_sql(
            "INSERT INTO operators (tenant_id, email, name, role) VALUES (%s, 'a@acme.example', 'A', 'admin') "
            "RETURNING id",
            (acme,),
        ).scalar_one()
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with pytest.raises(PermissionError, match="may not invite a owner"):
        operator_admin.invite(tenant_id=acme, actor_id=admin, email="x@acme.example", role="owner", now=now)
    rep = world.operators["demo@acme.example"]
    with pytest.raises(PermissionError, match="manage its operators"):
        operator_admin.change_role(tenant_id=acme, actor_id=rep, operator_id=admin, role="viewer")
    assert value(engine, "SELECT count(*) FROM operator_invites") == 0
    assert value(engine, "SELECT role FROM operators WHERE id = :i", i=admin) == "admin"
