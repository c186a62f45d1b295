"""The console reads the signed-in operator again at least every minute: a demoted operator
works with the new role, a deactivated one is signed out, while the tab stays open. The
console's clock is pinned (`shell.clock`), so the minute passes without waiting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

import streamlit_app
from pages import session
from tests.app import factories
from tests.app.driver import APP, TIMEOUT, rows, truncate

T0 = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
EMAIL = "demo@acme.example"  # a rep of acme in the factories' world


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


def at_clock(at: AppTest, when: dt.datetime) -> AppTest:
    at.session_state[session.CLOCK] = when
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def signed_in_at(when: dt.datetime) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[session.CLOCK] = when
    at.run()
    at.text_input(key="signin.email").input(EMAIL)
    at.text_input(key="signin.password").input(factories.DEMO_PASSWORD)
    at.form_submit_button[0].click().run()
    assert session.IDENTITY in at.session_state, [e.value for e in at.error]
    return at.run()


def set_operator(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE operators SET {sql} WHERE email = %(e)s", {"e": EMAIL})


def role_shown(at: AppTest) -> str:
    [caption] = [c.value for c in at.sidebar.caption if c.value.startswith("Signed in as")]
    return caption.rsplit("· ", 1)[1]


def test_a_demotion_shows_within_a_minute_and_a_deactivation_signs_out(world: factories.World, engine: Engine) -> None:
    at = signed_in_at(T0)
    assert role_shown(at) == "rep"
    set_operator(engine, "role = 'viewer'")
    assert role_shown(at_clock(at, T0 + dt.timedelta(seconds=59))) == "rep", "read again only after a minute"
    assert role_shown(at_clock(at, T0 + dt.timedelta(seconds=60))) == "viewer"
    assert at.session_state[session.IDENTITY].role == "viewer"

    set_operator(engine, "is_active = false")
    at_clock(at, T0 + dt.timedelta(seconds=100))
    assert session.IDENTITY in at.session_state, "still within the minute since the last read"
    at_clock(at, T0 + dt.timedelta(seconds=121))
    assert session.IDENTITY not in at.session_state
    assert streamlit_app.SIGNED_OUT_BY_CHECK in [w.value for w in at.warning]
    assert at.text_input(key="signin.email") is not None, "the sign-in form again"
    assert rows(engine, "SELECT role, is_active FROM operators WHERE email = :e", e=EMAIL) == [("viewer", False)]
