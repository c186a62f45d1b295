"""The lead drawer's insight and what the drawer shows as written: offline and through Claude
(the real SDK against the local fake), stored once and served free on reopening, a viewer
who may read but not pay for one, and a lead name never read as Markdown."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa
from sqlalchemy import Engine

from pages.leads import lead_map, picks
from tests.app import factories
from tests.app.driver import value
from tests.app.lead_drawer_world import (  # fixtures (world, no_key, claude) are used by name
    MODEL,
    PROMPT_HASH,
    STAR_ALONE_OFFLINE,
    STAR_OFFLINE,
    add_history,
    claude,
    drawer_on,
    insight_rows,
    leads_page,
    no_key,
    star_lead,
    texts,
    world,
)
from tests.fakes.anthropic_server import FakeAnthropic, ok, server_error

__all__ = ["claude", "no_key", "world"]


def test_offline_insight_is_written_on_request_labelled_and_served_free_later(
    world: factories.World, engine: Engine, no_key: None
) -> None:
    lead_id = star_lead(engine, world)
    add_history(engine, world, lead_id)
    at = drawer_on(leads_page(), lead_id)
    assert insight_rows(engine, lead_id) == [], "opening the drawer writes nothing"
    at.button(key="leads.drawer.write_insight").click().run()
    assert not at.exception, [e.value for e in at.exception]

    assert texts(at) == STAR_OFFLINE
    assert any(c.value.startswith("Written offline by rules") and "no Claude key" in c.value for c in at.caption)
    [stored] = insight_rows(engine, lead_id)
    assert (stored.model, stored.cost_usd, json.loads(stored.output)) == (
        "offline",
        0,
        {"why_silent": STAR_OFFLINE[0], "next_step": STAR_OFFLINE[1]},
    )
    assert re.fullmatch(PROMPT_HASH, stored.prompt_hash)

    again = drawer_on(leads_page(), lead_id)  # a new session: the answer comes from ai_generations
    assert texts(again) == STAR_OFFLINE
    assert any("served free" in c.value for c in again.caption)
    assert "leads.drawer.write_insight" not in [b.key for b in again.button]
    assert len(insight_rows(engine, lead_id)) == 1


def test_claude_insight_through_the_sdk_is_stored_with_its_cost_and_not_asked_twice(
    world: factories.World, engine: Engine, claude: FakeAnthropic
) -> None:
    lead_id = star_lead(engine, world)
    add_history(engine, world, lead_id)
    answer = {"why_silent": "The price put them off.", "next_step": "Offer a smaller first phase."}
    claude.script(ok(json.dumps(answer)))
    at = drawer_on(leads_page(), lead_id)
    at.button(key="leads.drawer.write_insight").click().run()
    assert not at.exception, [e.value for e in at.exception]

    assert texts(at) == [answer["why_silent"], answer["next_step"]]
    assert any(c.value == f"Written by Claude ({MODEL})" for c in at.caption)
    assert claude.call_count == 1
    call = claude.calls[0]
    first_name = value(engine, "SELECT first_name FROM leads WHERE id = :l", l=lead_id)
    assert f"first_name: {first_name}" in call.user_text
    assert "objections: price, timing" in call.user_text
    assert "days_silent: 5\n" in call.user_text
    [stored] = insight_rows(engine, lead_id)
    assert stored.model == MODEL
    assert re.fullmatch(PROMPT_HASH, stored.prompt_hash)
    assert stored.tokens_in > 0
    assert stored.tokens_out > 0
    assert stored.cost_usd > 0

    again = drawer_on(leads_page(), lead_id)
    assert texts(again) == [answer["why_silent"], answer["next_step"]]
    assert claude.call_count == 1, "reopening costs nothing"


def test_claude_failing_falls_back_offline_and_says_why(
    world: factories.World, engine: Engine, claude: FakeAnthropic
) -> None:
    lead_id = star_lead(engine, world)
    claude.script(server_error(500), server_error(500))  # the ask and its one retry
    at = drawer_on(leads_page(), lead_id)
    at.button(key="leads.drawer.write_insight").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert texts(at) == STAR_ALONE_OFFLINE
    assert any(
        c.value == "Written offline by rules from the lead's facts: Claude did not answer (500)" for c in at.caption
    )
    assert [r.model for r in insight_rows(engine, lead_id)] == ["offline"]


def test_one_point_picked_on_the_map_opens_in_the_drawer(world: factories.World, engine: Engine) -> None:
    at = leads_page()
    lead_id = int(value(engine, "SELECT min(id) FROM leads WHERE tenant_id = :t", t=world.tenants["acme"]))
    key = lead_map.scatter_key(0)  # a fresh page: no recovery round yet
    points = [{"curve_number": 0, "point_index": 0, "customdata": [lead_id, 0.0]}]
    at.session_state[key] = {"selection": {"points": points, "point_indices": [], "box": [], "lasso": []}}
    at.run()
    at.button(key="leads.open_selected").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[picks.DRAWER] == lead_id
    name = value(engine, "SELECT trim(first_name || ' ' || last_name) FROM leads WHERE id = :l", l=lead_id)
    assert name in [h.value for h in at.subheader]


def test_a_viewer_reads_the_drawer_but_cannot_pay_for_an_insight(
    world: factories.World, engine: Engine, no_key: None
) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE operators SET role = 'viewer' WHERE email = 'demo@acme.example'"))
    lead_id = star_lead(engine, world)
    at = drawer_on(leads_page(), lead_id)
    assert at.button(key="leads.drawer.write_insight").disabled
    assert insight_rows(engine, lead_id) == []


def test_a_lead_name_is_shown_as_written_never_as_markdown(world: factories.World, engine: Engine) -> None:
    lead_id = star_lead(engine, world)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE leads SET first_name = '[Win](http://evil.example)', last_name = '**now**' WHERE id = :l"),
            {"l": lead_id},
        )
    at = drawer_on(leads_page(), lead_id)
    assert r"\[Win\]\(http\:\/\/evil\.example\) \*\*now\*\*" in [h.value for h in at.subheader]
