"""Single sign-on through `st.login`: the button shows only when Streamlit's `[auth]` secrets are
set; the operator a provider vouches for (AppTest's `user`) signs in when an active operator has
that email, and anyone else (unknown, deactivated, unverified) is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services.operators import hash_password
from pages import session
from tests.app.driver import APP, TIMEOUT, truncate

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-test-cookie-secret-of-some-length",
    "google": {
        "client_id": "client-id",
        "client_secret": "client-secret",
        "server_metadata_url": "https://accounts.example/.well-known/openid-configuration",
    },
}


@pytest.fixture(scope="module")
def operators(engine: Engine) -> Iterator[dict[str, int]]:
    truncate(engine)
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        tenant = conn.execute(
            sa.text("INSERT INTO tenants (slug, name) VALUES ('acme', 'Acme') RETURNING id")
        ).scalar_one()
        for email, active in (("maya@acme.example", True), ("gone@acme.example", False)):
            ids[email] = conn.execute(
                sa.text(
                    "INSERT INTO operators (tenant_id, email, name, role, password_hash, is_active) "
                    "VALUES (:t, :email, 'Op', 'manager', :hash, :active) RETURNING id"
                ),
                {"t": tenant, "email": email, "hash": hash_password("unused-password"), "active": active},
            ).scalar_one()
    yield ids
    truncate(engine)


def console(*, auth: dict[str, Any] | None, user: dict[str, Any] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if auth is not None:
        at.secrets["auth"] = auth
    if user is not None:
        at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def sso_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.label.startswith("Sign in with")]


def test_without_auth_secrets_there_is_no_sso_button(operators: dict[str, int]) -> None:
    at = console(auth=None)
    assert sso_buttons(at) == []
    assert at.text_input(key="signin.password") is not None, "the password form stays"


def test_with_auth_secrets_the_providers_button_shows(operators: dict[str, int]) -> None:
    assert sso_buttons(console(auth=AUTH)) == ["Sign in with Google"]
    single = {k: v for k, v in AUTH.items() if k != "google"} | AUTH["google"]  # type: ignore[operator]
    assert sso_buttons(console(auth=single)) == ["Sign in with single sign-on"]


def test_an_active_operators_email_signs_in(operators: dict[str, int]) -> None:
    at = console(auth=AUTH, user={"is_logged_in": True, "email": "Maya@Acme.example", "email_verified": True})
    who = at.session_state[session.IDENTITY]
    assert (who.operator_id, who.email) == (operators["maya@acme.example"], "maya@acme.example")
    assert at.session_state[session.VIA_OIDC] is True
    assert at.title[0].value == "Recovery dashboard"

    at.run()  # settles the widget ids after the sign-in rerun (tests/app/driver.signed_in)
    at.sidebar.button(key="shell.sign_out").click().run()
    assert session.IDENTITY not in at.session_state
    assert not at.user.get("is_logged_in"), "the provider's session ends too, or its cookie would sign her back in"


@pytest.mark.parametrize(
    "user",
    [
        {"is_logged_in": True, "email": "stranger@elsewhere.example"},
        {"is_logged_in": True, "email": "gone@acme.example"},
        {"is_logged_in": True, "email": "maya@acme.example", "email_verified": False},
        {"is_logged_in": True},
    ],
    ids=["unknown", "deactivated", "unverified", "no-email"],
)
def test_anyone_else_is_refused(operators: dict[str, int], user: dict[str, Any]) -> None:
    at = console(auth=AUTH, user=user)
    assert session.IDENTITY not in at.session_state
    [error] = [e.value for e in at.error]
    assert "is not an active operator here" in error
    assert [b.label for b in at.button if b.key == "signin.oidc.logout"] == ["Use another account"]
