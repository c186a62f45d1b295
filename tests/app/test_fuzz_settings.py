"""The Settings page's recovery-rules form through AppTest with generated values, on real PostgreSQL:
ladders typed any way, numbers in and far out of their bounds (what a client that skips the
browser's min/max could send). No exception and no traceback on the page; a number out of its
bounds is dropped by its widget and never saved; a bad ladder or send window is refused by an
error naming its field, and nothing of the form is written (read in SQL); the rest is saved
exactly as typed."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from pages import tenant_settings
from tests.app import factories
from tests.app.driver import open_page, signed_in, truncate
from tests.fuzz_tally import examples, tried

ROW_SQL = (
    "SELECT silence_ladder_hours, cooldown_hours, holdout_percent, scan_cap, send_window_start_hour, "
    "send_window_end_hour, unsubscribe_link_days FROM tenants WHERE id = :t"
)
WIDGET_BOUNDS = {  # worked out from the page's help texts, in the order of ROW_SQL's columns
    "cooldown": (0, 8760),
    "holdout": (0, 50),
    "scan_cap": (1, 100_000),
    "window_start": (0, 23),
    "window_end": (1, 24),
    "unsubscribe_days": (60, 3650),
}
NUMBERS = ("cooldown", "holdout", "scan_cap", "unsubscribe_days")
NUMBER = st.one_of(
    st.integers(-5, 120), st.integers(-(2**40), 2**40), st.sampled_from([0, 1, 50, 51, 8760, 8761, 10**15])
)
GOOD_LADDER = st.lists(st.integers(1, 8760), min_size=1, max_size=3, unique=True).map(sorted)
LADDER_TEXT = st.one_of(
    GOOD_LADDER.map(lambda hours: ", ".join(map(str, hours))),
    st.sampled_from(["", "48, 24", "-1", "0", "24, soon", "9e15", "24,,48", "24, 8761", "1.5", "２４"]),
    st.text(max_size=30),
)


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


def row(engine: Engine, tenant_id: int) -> tuple[Any, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(ROW_SQL), {"t": tenant_id}).one())


def ladder_of(text: str) -> list[int] | None:
    """The hours when the text is a valid ladder by the page's help (whole, positive, rising, a year at most;
    Python's int() reads the digits, full-width ones included)."""
    try:
        hours = [int(p) for p in text.split(",")]
    except ValueError:
        return None
    rising = all(a < b for a, b in itertools.pairwise(hours))
    if not hours or not rising or hours[0] < 1 or hours[-1] > 8760:
        return None
    return hours


def test_generated_rules_are_saved_exactly_or_refused_by_name(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    at = open_page(signed_in("boss@acme.example", factories.ADMIN_PASSWORD), "pages/tenant_settings.py")
    seen = {"saved": 0, "refused": 0}

    @given(
        ladder=LADDER_TEXT,
        numbers=st.fixed_dictionaries(dict.fromkeys(NUMBERS, NUMBER)),
        window=st.tuples(st.integers(-2, 26), st.integers(-2, 26)),
    )
    @settings(max_examples=examples(40), derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(ladder: str, numbers: dict[str, int], window: tuple[int, int]) -> None:
        tried("settings_forms")
        before = row(engine, acme)
        at.text_input(key=tenant_settings.key(acme, "ladder")).set_value(ladder)
        for name, number in numbers.items():
            at.number_input(key=tenant_settings.key(acme, name)).set_value(number)
        at.number_input(key=tenant_settings.key(acme, "window_start")).set_value(window[0])
        at.number_input(key=tenant_settings.key(acme, "window_end")).set_value(window[1])
        at.button(key=f"FormSubmitter:{tenant_settings.key(acme, 'form')}-Save").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert not any("Traceback" in m.value for m in [*at.markdown, *at.error, *at.text]), "a traceback shown"
        typed = {**numbers, "window_start": window[0], "window_end": window[1]}
        taken = {name: at.number_input(key=tenant_settings.key(acme, name)).value for name in typed}
        for name, (low, high) in WIDGET_BOUNDS.items():
            # what the browser would not let through is dropped by the widget, never saved
            assert low <= taken[name] <= high, (name, taken[name])
            assert taken[name] == typed[name] or not low <= typed[name] <= high, (name, typed[name], taken[name])
        wrong = [] if taken["window_start"] < taken["window_end"] else ["Send window:"]
        hours = ladder_of(ladder.strip())
        if hours is None:
            wrong.insert(0, "Silence ladder:")
        if wrong:
            assert len(at.error) == 1, (ladder, numbers, window)
            assert not at.success
            assert any(at.error[0].value.startswith(label) for label in wrong), (at.error[0].value, wrong)
            assert row(engine, acme) == before
            seen["refused"] += 1
        else:
            assert [s.value for s in at.success] == ["Recovery rules saved."], [e.value for e in at.error]
            expected = (hours, *(taken[name] for name in WIDGET_BOUNDS))
            assert row(engine, acme) == expected
            seen["saved"] += 1

    fuzz()
    assert min(seen.values()) > 0, seen  # both ways were taken
