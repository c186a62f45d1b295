"""The console's sign-in and tenant access through Streamlit's AppTest: who gets in, who is
locked out, which tenants each operator may pick, and that no page opens without the router.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

import streamlit_app
from app.services import operators
from components import format as fmt
from pages import session
from tests.app import factories
from tests.app.driver import (
    APP,
    PAGES,
    ROOT,
    TIMEOUT,
    metrics,
    signed_in,
    submit_sign_in,
    truncate,
    value,
)


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[factories.World]:
    """One world for the module: the pages only read, so the tests share it."""
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


# --- sign-in and access --------------------------------------------------------------------


def test_sign_in_form_offers_the_demo_account(world: factories.World, demo_mode: None) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "Lead Recovery Engine"
    assert any("demo@acme.example" in c.value and "demo" in c.value for c in at.caption)
    assert not at.sidebar.selectbox


def test_wrong_password_is_refused(world: factories.World, redis_conn: redis.Redis) -> None:
    at = submit_sign_in("demo@acme.example", "not-the-password")
    assert [e.value for e in at.error] == ["Wrong email or password."]
    assert session.IDENTITY not in at.session_state
    assert not at.metric


def test_unknown_email_is_refused(world: factories.World, redis_conn: redis.Redis) -> None:
    at = submit_sign_in("nobody@acme.example", "demo")
    assert [e.value for e in at.error] == ["Wrong email or password."]
    assert session.IDENTITY not in at.session_state


def sign_in_at(clock: dt.datetime, email: str, password: str) -> AppTest:
    """A sign-in submitted with the console's clock pinned to `clock`."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[session.CLOCK] = clock
    at.run()
    at.text_input(key="signin.email").input(email)
    at.text_input(key="signin.password").input(password)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_repeated_failures_slow_the_email_down_but_never_for_long(
    world: factories.World, redis_conn: redis.Redis
) -> None:
    """AppTest has no client address: only the per-email delay applies, 1 s after the 5th failure,
    doubling with each further one (each try taken as soon as allowed)."""
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for second in (0, 1, 2, 3, 4, 5, 7, 11):  # failures 6, 7, 8 wait 1, 2, 4 s after the one before
        at = sign_in_at(start + dt.timedelta(seconds=second), "demo@acme.example", "not-the-password")
        assert [e.value for e in at.error] == ["Wrong email or password."], second
    at = sign_in_at(start + dt.timedelta(seconds=12), "demo@acme.example", "demo")
    assert [e.value for e in at.error] == [
        "This account is being slowed down after failed sign-ins. Try again in 7 s."
    ]  # 8 failures: 2^3 = 8 s after the latest (start + 11 s)
    assert session.IDENTITY not in at.session_state, "even the right password waits"
    other = sign_in_at(start + dt.timedelta(seconds=12), "demo@birch.example", "demo")
    assert session.IDENTITY in other.session_state, "other emails are free"
    later = sign_in_at(start + dt.timedelta(seconds=19), "demo@acme.example", "demo")
    assert session.IDENTITY in later.session_state, "the wait is seconds, not the window"
    assert redis_conn.zcard("lre:signin:account:demo@acme.example") == 8


def test_sign_in_lands_on_the_dashboard_and_sign_out_returns(world: factories.World) -> None:
    at = signed_in("  Demo@Acme.example ", "demo")
    assert at.title[0].value == "Recovery dashboard"
    at.run()  # a rerun still goes through the router: the sidebar keeps the picker and the account box
    assert at.sidebar.selectbox(key=session.TENANT).value == world.tenants["acme"]
    assert at.session_state[session.IDENTITY].email == "demo@acme.example"
    at.button(key="shell.sign_out").click().run()
    assert not at.exception
    assert session.IDENTITY not in at.session_state
    assert at.title[0].value == "Lead Recovery Engine"


def test_the_sidebar_links_every_page_signed_in_and_none_signed_out(world: factories.World) -> None:
    """The console draws its own page links (Streamlit's sidebar navigation is switched off)."""
    assert not AppTest.from_file(APP, default_timeout=TIMEOUT).run().page_link
    at = signed_in("demo@acme.example", "demo")
    links = at.sidebar.page_link
    assert [link.value for link in links] == list(PAGES.values())
    assert [link.proto.page for link in links] == ["", "leads", "campaigns", "replies", "roi", "agents", "settings"]
    assert len(at.page_link) == len(PAGES), "no link outside the sidebar"


def test_a_rep_cannot_pick_another_tenant(world: factories.World, engine: Engine) -> None:
    at = signed_in("demo@acme.example", "demo")
    assert at.sidebar.selectbox(key=session.TENANT).options == ["Acme Dental"]


def test_a_session_pointing_at_another_tenant_is_put_back(world: factories.World, engine: Engine) -> None:
    """Even a session that names tenant B (it cannot come from the picker) shows the rep tenant A."""
    rep = operators.authenticate(email="demo@acme.example", password="demo")
    assert rep is not None
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[session.IDENTITY] = rep
    at.session_state[session.TENANT] = world.tenants["birch"]
    at.run()
    assert not at.exception
    assert at.session_state[session.TENANT] == world.tenants["acme"]
    acme_replied = value(
        engine,
        "SELECT count(*) FROM leads WHERE tenant_id = :t AND recovery_state = 'replied'",
        t=world.tenants["acme"],
    )
    birch_replied = value(
        engine,
        "SELECT count(*) FROM leads WHERE tenant_id = :t AND recovery_state = 'replied'",
        t=world.tenants["birch"],
    )
    assert acme_replied != birch_replied
    assert metrics(at)["Replied"] == fmt.count(acme_replied)


def test_an_admin_sees_and_picks_every_tenant(world: factories.World, engine: Engine) -> None:
    at = signed_in("boss@acme.example", factories.ADMIN_PASSWORD)
    picker = at.sidebar.selectbox(key=session.TENANT)
    assert picker.options == ["Acme Dental", "Birch Realty", "Empty Co"]
    picker.select_index(1).run()
    assert not at.exception
    assert at.session_state[session.TENANT] == world.tenants["birch"]
    birch_replied = value(
        engine,
        "SELECT count(*) FROM leads WHERE tenant_id = :t AND recovery_state = 'replied'",
        t=world.tenants["birch"],
    )
    assert metrics(at)["Replied"] == fmt.count(birch_replied)


def test_no_url_path_is_a_page_file_name() -> None:
    """Streamlit's legacy pages-folder mode would run such a file directly, skipping the router."""
    stems = {path.stem for path in (ROOT / "pages").glob("*.py")}
    assert not stems & {spec.url_path for spec in (*streamlit_app.PAGES, streamlit_app.SIGN_IN)}


@pytest.mark.parametrize("path", [*PAGES, "pages/sign_in.py"])
def test_a_page_opened_by_its_file_name_goes_through_sign_in(world: factories.World, path: str) -> None:
    """A fresh server's first request runs `/<file name>` in the legacy pages-folder mode, skipping
    the router (AppTest's first run before any navigation does the same)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).switch_page(path).run()
    assert not at.exception
    assert at.title[0].value == "Lead Recovery Engine"
    assert at.text_input(key="signin.email")
    assert not at.metric
