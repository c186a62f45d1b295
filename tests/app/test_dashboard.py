"""The Recovery dashboard's period changes, funnel, live feed and worklist filters, through AppTest,
each checked against SQL written here (not db/dashboard.py's); and its pure helpers.

The world is the console tests' (tests/app/factories.py) plus, for acme, history in the period
before (enrollments, replies, a lead gone quiet long ago) and engagement in the rollup; a
"Feed Co" tenant whose every row has a distinct time (so the feed's order is certain) and a
hostile lead name; and a "Quiet Co" tenant with leads and nothing else (the empty states).

The clock is pinned: the world is built around an instant, the page reads at that instant (the
console's `shell.clock`) and the expected figures are SQL at the same `:now`. Every test runs
twice, at the real time of the run and at 00:00:30 in New York (the tenants' zone), 30 seconds
into a local day, where the funnel's "today so far" from raw rows meets the rollup's whole days:
a dashboard that cut the day on another clock than its own would show it there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from components import format as fmt
from db import dashboard
from db.dashboard import NO_OWNER, SilentFilter
from pages import recovery, session
from tests.app import dashboard_world, factories
from tests.app.dashboard_sql import expected_cards, expected_feed, expected_funnel, expected_silent_ids, funnel_shown
from tests.app.dashboard_world import CLOCKS, HOSTILE_NAME
from tests.app.driver import pick_tenant, signed_in, truncate


@pytest.fixture(scope="module", params=list(CLOCKS), ids=list(CLOCKS))
def world(engine: Engine, request: pytest.FixtureRequest) -> Iterator[factories.World]:
    truncate(engine)
    yield dashboard_world.build(engine, CLOCKS[request.param])
    truncate(engine)


def open_dashboard(world: factories.World, email: str, password: str, tenant: str | None = None) -> AppTest:
    """Signed in, with the console's clock pinned to the world's instant, on the dashboard (of `tenant`)."""
    at = signed_in(email, password)
    at.session_state[session.CLOCK] = world.now
    at = pick_tenant(at, tenant) if tenant else at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def cards(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


# --- the page ---------------------------------------------------------------------------------


def test_each_card_shows_its_change_over_the_period(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    expected = expected_cards(engine, t, 30, world.now)
    assert expected["Silent now"][1] != "+" + expected["Silent now"][0] + " new in 30 d", "one lead quiet 50 d"
    assert expected["In recovery"][1].startswith("+"), "more enrollments started than closed"
    assert expected["Replied"][1] != "±0 vs prior"
    at = open_dashboard(world, "demo@acme.example", "demo")
    assert cards(at) == expected
    tooltips = {m.label: m.help for m in at.metric}
    assert all("Change" in text for text in tooltips.values()), "every tooltip says what its change compares"


def test_a_shorter_period_relabels_and_recounts(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    at = open_dashboard(world, "demo@acme.example", "demo")
    at.button_group(key=recovery.PERIOD_KEY).set_value(7).run()
    assert not at.exception, [e.value for e in at.exception]
    expected = expected_cards(engine, t, 7, world.now)
    assert "Recovered 7d" in expected
    assert cards(at) == expected
    assert list(funnel_shown(at).values()) == expected_funnel(engine, t, 7, world.now)


def test_funnel_counts_equal_sql(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    counts = expected_funnel(engine, t, 30, world.now)
    assert all(counts), counts
    at = open_dashboard(world, "demo@acme.example", "demo")
    assert funnel_shown(at) == dict(
        zip(
            ["Entered recovery (leads)", "Sent (messages)", "Delivered", "Engaged", "Replied", "Recovered"],
            counts,
            strict=True,
        )
    )
    assert any("Entered recovery" in c.value and "Engaged" in c.value for c in at.caption), "stages defined"


def test_feed_shows_the_newest_twenty_newest_first_as_plain_text(world: factories.World, engine: Engine) -> None:
    at = open_dashboard(world, "boss@acme.example", factories.ADMIN_PASSWORD, "Feed Co")
    [feed] = at.table
    shown = feed.value
    expected = expected_feed(engine, world.tenants["feed"], world.now)
    leads = [lead for _, lead in expected]
    assert len(shown) == 20
    assert shown["Lead"].tolist() == [fmt.plain(name) for name in leads]
    assert HOSTILE_NAME in leads
    assert "](" not in "".join(shown["Lead"]), "a name never becomes a Markdown link"
    # Item k of Feed Co happened 3k + 1 min 20 s before the pinned clock (k = 0 … 25; the
    # enrollment, 90 min before, is older than the newest twenty): k = 0 reads "1 min ago",
    # k = 19 "58 min ago".
    assert shown["When"].tolist() == [f"{3 * k + 1} min ago" for k in range(20)]
    whats = set(shown["What"])
    assert {"Email written \\(sent\\)", "Email reply \\(interested\\)", "Agent run\\: sender succeeded"} <= whats
    assert "Recovered\\, \\$1\\,500" in whats


def test_filters_narrow_the_worklist_in_sql(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    owner = world.operators["demo@acme.example"]
    at = open_dashboard(world, "demo@acme.example", "demo")
    at.selectbox(key="dashboard.filter.sort").set_value("value")
    at.multiselect(key="dashboard.filter.rungs").set_value([0, 1, 2])
    at.multiselect(key="dashboard.filter.owners").set_value([owner])
    at.slider(key="dashboard.filter.score").set_range(10, 90)
    at.number_input(key="dashboard.filter.min").set_value(600.0).run()
    assert not at.exception, [e.value for e in at.exception]
    expected = expected_silent_ids(
        engine,
        t,
        world.now,
        "silence_level IN (0, 1, 2) AND owner_id = :o AND intent_score BETWEEN 10 AND 90 AND deal_value >= 600",
        "deal_value DESC, intent_score DESC, id",
        o=owner,
    )
    assert expected
    assert at.dataframe[0].value["id"].tolist() == expected


def test_unowned_and_a_value_ceiling(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    at = open_dashboard(world, "demo@acme.example", "demo")
    at.selectbox(key="dashboard.filter.sort").set_value("longest_silent")
    at.multiselect(key="dashboard.filter.owners").set_value([NO_OWNER])
    at.number_input(key="dashboard.filter.max").set_value(2500.0).run()
    expected = expected_silent_ids(
        engine, t, world.now, "owner_id IS NULL AND deal_value <= 2500", "last_activity_at, id"
    )
    assert expected
    assert at.dataframe[0].value["id"].tolist() == expected


@pytest.mark.parametrize(
    ("sort", "order"),
    [("longest_silent", "last_activity_at, id"), ("recently_silent", "last_activity_at DESC, id DESC")],
)
def test_silence_sorts_cut_at_the_limit_in_order(world: factories.World, engine: Engine, sort: str, order: str) -> None:
    """The silence sorts merge one ordered range per state: ties and the cut must still match one sort."""
    t = world.tenants["acme"]
    expected = expected_silent_ids(engine, t, world.now, "true", order)[:5]
    assert len(expected) == 5
    shown = dashboard.silent_leads(engine, t, SilentFilter(sort=sort), limit=5, now=world.now)
    assert shown["id"].tolist() == expected


def test_filters_matching_nothing_say_to_widen_them(world: factories.World) -> None:
    at = open_dashboard(world, "demo@acme.example", "demo")
    at.number_input(key="dashboard.filter.min").set_value(10_000_000.0).run()
    assert not at.dataframe
    assert any("No silent lead matches these filters" in i.value for i in at.info)


def test_a_tenant_without_activity_explains_each_part(world: factories.World) -> None:
    at = open_dashboard(world, "boss@acme.example", factories.ADMIN_PASSWORD, "Quiet Co")
    infos = " ".join(i.value for i in at.info)
    assert "No silent leads right now" in infos
    assert "No recovery activity in the last 30 days" in infos
    assert "Nothing has happened yet" in infos
    assert not at.table
    assert not [c for c in at.get("plotly_chart") if '"funnel"' in c.proto.spec]
    shown = cards(at)
    assert shown["Recovered 30d"] == ("0", "±0 vs prior")
    assert shown["Recovery rate"] == ("—", "")
