"""The Settings page's recovery-rules form through AppTest, on real PostgreSQL: an admin's save
shows at once and lands in the database, a bad ladder is refused by name, a rep gets no form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services import tenant_settings as rules_service
from pages import tenant_settings
from pages.roi.prices import price_key
from tests.app import factories
from tests.app.driver import open_page, signed_in, texts, truncate, value

LADDER_SQL = "SELECT silence_ladder_hours FROM tenants WHERE id = :t"


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    """A fresh world per test: these tests write."""
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


def settings_as_admin() -> AppTest:
    return open_page(signed_in("boss@acme.example", factories.ADMIN_PASSWORD), "pages/tenant_settings.py")


def save_ladder(at: AppTest, tenant_id: int, ladder: str) -> AppTest:
    at.text_input(key=tenant_settings.key(tenant_id, "ladder")).input(ladder)
    at.button(key=f"FormSubmitter:{tenant_settings.key(tenant_id, 'form')}-Save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_admin_changes_the_ladder_and_sees_it(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    at = settings_as_admin()
    assert "24 h → 48 h → 72 h" in texts(at)
    save_ladder(at, acme, "12, 36")
    assert [s.value for s in at.success] == ["Recovery rules saved."]
    assert not at.error
    assert "12 h → 36 h" in texts(at)
    assert value(engine, LADDER_SQL, t=acme) == [12, 36]
    at.run()  # the message is said once; the new values stay
    assert not at.success
    assert "12 h → 36 h" in texts(at)


@pytest.mark.parametrize("ladder", ["48, 24", "", "-1", "24, soon", "9000000000000000", "24, 9e15", "24, 8761"])
def test_a_bad_ladder_is_refused_and_nothing_changes(world: factories.World, engine: Engine, ladder: str) -> None:
    acme = world.tenants["acme"]
    at = save_ladder(settings_as_admin(), acme, ladder)
    assert len(at.error) == 1
    assert at.error[0].value.startswith("Silence ladder:")
    assert not at.success
    assert "24 h → 48 h → 72 h" in texts(at)
    assert value(engine, LADDER_SQL, t=acme) == [24, 48, 72]


def test_a_rep_sees_the_rules_without_a_save(world: factories.World) -> None:
    at = open_page(signed_in("demo@acme.example", "demo"), "pages/tenant_settings.py")
    assert "24 h → 48 h → 72 h" in texts(at)
    assert "Save" not in [b.label for b in at.button]
    assert not at.text_input
    assert any("Only an admin or a manager" in c.value for c in at.caption)


def test_an_admin_sets_the_fixed_monthly_cost_on_settings(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    at = settings_as_admin()
    at.text_input(key=price_key(acme, "fixed")).input("2500")
    at.button(key=f"FormSubmitter:{price_key(acme, 'prices')}-Save prices").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    assert value(engine, "SELECT settings->>'fixed_monthly_cost' FROM tenants WHERE id = :t", t=acme) == "2500"


def test_a_bad_fixed_cost_is_refused_by_name_and_nothing_changes(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    at = settings_as_admin()
    at.text_input(key=price_key(acme, "fixed")).input("lots")
    at.button(key=f"FormSubmitter:{price_key(acme, 'prices')}-Save prices").click().run()
    assert len(at.error) == 1
    assert "fixed" in at.error[0].value.lower()
    assert value(engine, "SELECT settings ? 'fixed_monthly_cost' FROM tenants WHERE id = :t", t=acme) is False


def test_a_huge_cool_down_never_reaches_the_database(world: factories.World, engine: Engine) -> None:
    """The column is int4: 9e15 once overflowed it and showed a traceback with SQL. The input is
    bounded now (a year of hours), and the service refuses what gets past it, naming the field."""
    acme = world.tenants["acme"]
    at = settings_as_admin()
    at.number_input(key=tenant_settings.key(acme, "cooldown")).set_value(9e15)
    at.button(key=f"FormSubmitter:{tenant_settings.key(acme, 'form')}-Save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert 0 <= value(engine, "SELECT cooldown_hours FROM tenants WHERE id = :t", t=acme) <= 8760
    admin = value(engine, "SELECT id FROM operators WHERE email = 'boss@acme.example'")
    with pytest.raises(ValueError, match=r"^Cool-down: must be between 0 and 8,760 hours"):
        rules_service.update_recovery_rules(
            tenant_id=acme,
            operator_id=admin,
            ladder_hours=[24],
            cooldown_hours=9 * 10**15,
            holdout_percent=10,
            scan_cap=500,
            send_window_start_hour=8,
            send_window_end_hour=20,
        )


def test_an_admin_sets_how_long_unsubscribe_links_work(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    at = settings_as_admin()
    assert "365 days after the message" in texts(at)
    at.number_input(key=tenant_settings.key(acme, "unsubscribe_days")).set_value(90)
    at.button(key=f"FormSubmitter:{tenant_settings.key(acme, 'form')}-Save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == ["Recovery rules saved."]
    assert value(engine, "SELECT unsubscribe_link_days FROM tenants WHERE id = :t", t=acme) == 90
    assert "90 days after the message" in texts(at)
