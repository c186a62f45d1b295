"""The console's trust rules through AppTest, on real PostgreSQL and Redis: the demo says it is
the demo on every page and names its account only in demo mode; Redis down at sign-in is a
clear message; a page that fails shows a short error id, never the exception; Streamlit's own
error details and table downloads are off."""

from __future__ import annotations

import csv
import io
import logging
import tomllib
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app import runtime
from app.settings import get_settings
from pages import session
from streamlit_app import DEMO_BANNER
from tests.app import factories
from tests.app.driver import (
    APP,
    PAGES,
    ROOT,
    TIMEOUT,
    downloaded,
    open_page,
    signed_in,
    submit_sign_in,
    truncate,
)


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


@pytest.fixture
def not_demo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A configured DATABASE_URL (the suite's) without --demo."""
    monkeypatch.delenv("DEMO", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def banners(at: AppTest) -> list[str]:
    return [i.value for i in at.info if i.value == DEMO_BANNER]


def test_the_demo_says_so_on_every_page_and_names_its_account(world: factories.World, demo_mode: None) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert banners(at) == [DEMO_BANNER]
    assert any("demo@acme.example" in c.value and "`demo`" in c.value for c in at.caption)
    at = signed_in("demo@acme.example", factories.DEMO_PASSWORD)
    for path in PAGES:
        at = open_page(at, path)
        assert banners(at) == [DEMO_BANNER], path


def test_outside_the_demo_no_banner_and_no_account_named(world: factories.World, not_demo: None) -> None:
    """The database still holds a `demo@…` operator whose password is `demo`: it is not named."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not banners(at)
    assert not any("demo@" in c.value for c in at.caption), [c.value for c in at.caption]
    at = signed_in("boss@acme.example", factories.ADMIN_PASSWORD)
    assert not banners(at)


@pytest.fixture
def redis_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The console's Redis refuses connections (nothing listens on port 1)."""
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    runtime.reset_for_tests()
    yield
    monkeypatch.undo()
    runtime.reset_for_tests()


def test_redis_down_at_sign_in_is_a_clear_message(world: factories.World, redis_down: None) -> None:
    at = submit_sign_in("boss@acme.example", factories.ADMIN_PASSWORD)
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Sign-in is unavailable: the console cannot reach its Redis server. Try again in a minute; "
        "if it lasts, tell whoever runs the console."
    ]
    assert session.IDENTITY not in at.session_state, "a guard that cannot count must not let anyone in"


def failing_page() -> None:
    """A page whose read fails with a database-like message quoting a lead's address."""
    from components import errors

    with errors.shown_as_id("test page"):
        raise RuntimeError("Key (email)=(ann@lead.example) already exists. [SQL: INSERT INTO leads …]")


def test_a_failing_page_shows_an_error_id_and_logs_the_detail(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="console"):
        at = AppTest.from_function(failing_page, default_timeout=TIMEOUT).run()
    assert not at.exception
    [shown] = [e.value for e in at.error]
    assert "ann@lead.example" not in shown
    assert "SQL" not in shown
    error_id = shown.split("`")[1]
    assert len(error_id) == 8
    assert all(c in "0123456789abcdef" for c in error_id)
    [record] = [r for r in caplog.records if r.name == "console"]
    assert record.getMessage() == f"console error {error_id} in test page"
    assert record.exc_info is not None
    assert "ann@lead.example" in str(record.exc_info[1])
    caplog.clear()  # provoked on purpose (the suite fails a test on any other page error)


def test_streamlit_shows_no_error_details_and_offers_no_table_download() -> None:
    client = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["client"]
    assert client["showErrorDetails"] == "none"
    assert client["disableDataExport"] is True


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x.example","win")', "+1+1", "-2", "@SUM(A1)", "\tTab", "\rCR"])
def test_the_campaign_csv_opens_formula_cells_as_text(
    world: factories.World, engine: Engine, downloads: dict[str, bytes], name: str
) -> None:
    """A campaign named like a formula downloads with a leading apostrophe, as the importer's
    rejected rows already do; the numbers beside it stay numbers."""
    acme = world.tenants["acme"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE campaigns SET name = :n WHERE tenant_id = :t"), {"n": name, "t": acme})
    at = open_page(signed_in("boss@acme.example", factories.ADMIN_PASSWORD), "pages/campaign_list.py")
    [header, *rows] = list(
        csv.reader(io.StringIO(downloaded(at, "campaigns.table.csv", downloads).decode("utf-8"), newline=""))
    )
    names = [row[header.index("name")] for row in rows]
    assert names
    assert set(names) == {"'" + name}
    enrolled = [row[header.index("enrolled")] for row in rows]
    assert all(cell.lstrip("-").isdigit() for cell in enrolled), enrolled
