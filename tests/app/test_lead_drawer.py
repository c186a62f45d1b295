"""Leads & scores: the call list ("Who to call first") and the lead drawer it opens.

The queue is checked against every queued lead of a small tenant ranked by the formula written
out in SQL here (at this size the query's candidate set holds every lead, so it must be exact);
two leads whose facts the test sets top it, and their priority and "why" are worked out by
hand. The drawer's timeline is checked against each source table read on its own; the insight,
offline and through Claude (the real SDK against the local fake), against texts written by hand
for the facts the test gives the lead, stored once and served free on reopening. Nothing of
`app/domain/priority.py` or `app/ai/insight.py` computes an expected value.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.settings import get_settings
from db.models import Activity, Conversion, InboundMessage, MessageEvent, OutboundMessage
from pages.leads import lead_map, picks
from tests.app import factories
from tests.app.driver import open_page, rows, signed_in, truncate, value
from tests.fakes.anthropic_server import FakeAnthropic, ok, server_error

MODEL = "claude-sonnet-5-5"
QUEUE_TABLE = 2  # after the leads table and the "Why this score?" breakdown
QUEUE_SIZE = 10  # the call list shows ten leads
PROMPT_HASH = r"insight:[0-9a-f]{64}"

# The star: silent, intent 85, a $20,000 deal, quiet for 5 days 6 hours (5.25 days).
#   priority = 0.85 × 20,000 × 0.5 ^ (5.25 ÷ 14) = 17,000 × 0.77111 = 13,108.79
#   why: intent ≥ 70 is high; under 14 days quiet reads in whole days.
STAR_PRIORITY = 13_108.79
STAR_WHY = "high intent (85), $20,000 deal, quiet 5 d"
# The runner-up: in recovery, intent 25, a $200,000 deal, quiet for 30 days 6 hours (30.25 days).
#   priority = 0.25 × 200,000 × 0.5 ^ (30.25 ÷ 14) = 50,000 × 0.22365 = 11,182.28
#   why: the state first, intent under 30 is low, past 14 days it is cold and the weight shows.
RUNNER_UP_PRIORITY = 11_182.28
RUNNER_UP_WHY = "a recovery is messaging them, low intent (25), $200,000 deal, cold: quiet 30 d (weight 0.22)"
# Every other lead of the factory is worth at most 8,000 × 1.00 × 0.5 ^ (2 h ÷ 24 ÷ 14) = 7,967.06.

# The offline insight of the star with its history (`add_history`): quiet 5 days, a reply 5 days
# ago with intent not_now that names a price ("expensive") and a timing ("next year") objection,
# one email sent and opened, no click, its own last step a form 9 days ago; price comes first.
STAR_OFFLINE = [
    "Quiet for 5 days. Their last reply (5 days ago) said not now. Their replies raised price, timing. "
    "Their last own step was a form 9 days ago.",
    "Lead with value, not a discount: offer a smaller first step on what they asked about and ask which "
    "budget range would work for them.",
]
# The star without any history: nothing sent, no reply, no step of its own.
STAR_ALONE_OFFLINE = [
    "Quiet for 5 days. They have never reached out themselves.",
    "Introduce yourself briefly and ask whether what they asked about is still on their list.",
]


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    built = factories.build(engine)
    yield built
    truncate(engine)


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    """The settings name a key and point the SDK at the fake, as an operator's environment would."""
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("ANTHROPIC_MODEL", MODEL)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


def leads_page() -> AppTest:
    return open_page(signed_in("demo@acme.example", factories.DEMO_PASSWORD), "pages/lead_scores.py")


def set_facts(engine: Engine, lead_id: int, *, state: str, score: int, deal: int, quiet: dt.timedelta) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """UPDATE leads SET recovery_state = :state, intent_score = :score, deal_value = :deal,
                          last_activity_at = now() - :quiet, phone = NULL, attributes = '{}'
                   WHERE id = :l"""
            ),
            {"l": lead_id, "state": state, "score": score, "deal": deal, "quiet": quiet},
        )


def star_lead(engine: Engine, world: factories.World) -> int:
    """Acme's first silent lead, given the star's facts (see STAR_*): it tops the call list."""
    lead_id = int(
        value(engine, "SELECT min(id) FROM leads WHERE tenant_id = :t AND recovery_state = 'silent'", t=acme(world))
    )
    set_facts(engine, lead_id, state="silent", score=85, deal=20_000, quiet=dt.timedelta(days=5, hours=6))
    return lead_id


def runner_up(engine: Engine, world: factories.World) -> int:
    """Acme's first active lead, given the runner-up's facts (see RUNNER_UP_*): second on the list."""
    lead_id = int(
        value(engine, "SELECT min(id) FROM leads WHERE tenant_id = :t AND recovery_state = 'active'", t=acme(world))
    )
    set_facts(engine, lead_id, state="in_recovery", score=25, deal=200_000, quiet=dt.timedelta(days=30, hours=6))
    return lead_id


def acme(world: factories.World) -> int:
    return world.tenants["acme"]


def expected_queue(engine: Engine, tenant_id: int, limit: int = QUEUE_SIZE) -> list[tuple[int, float]]:
    """(id, priority) of the best `limit` leads a rep may still work, by the formula of the page's
    help text: intent ÷ 100 × deal value × 0.5 ^ (days silent ÷ 14); ties to the higher score, then the lower id."""
    found = rows(
        engine,
        """SELECT id, intent_score / 100.0 * deal_value::float8
                      * power(0.5, greatest(extract(epoch FROM now() - last_activity_at) / 86400, 0) / 14) AS priority
           FROM leads WHERE tenant_id = :t AND recovery_state IN ('active', 'silent', 'in_recovery', 'replied')
           ORDER BY 2 DESC, intent_score DESC, id LIMIT :n""",
        t=tenant_id,
        n=limit,
    )
    return [(int(r.id), float(r.priority)) for r in found]


def open_from_queue(at: AppTest, position: int) -> AppTest:
    """Click a row of the call list as a browser would (AppTest sets a selection through its key)."""
    at.session_state["leads.queue"] = {"selection": {"rows": [position], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_call_list_ranks_every_queued_lead_by_priority(world: factories.World, engine: Engine) -> None:
    star, second = star_lead(engine, world), runner_up(engine, world)
    at = leads_page()
    queue = at.dataframe[QUEUE_TABLE].value
    expected = expected_queue(engine, acme(world))
    assert len(expected) == QUEUE_SIZE
    assert queue["id"].tolist() == [lead for lead, _ in expected]
    assert queue["priority"].tolist() == pytest.approx([p for _, p in expected], rel=1e-3)
    top = queue.head(2)
    assert top["id"].tolist() == [star, second]
    assert top["priority"].tolist() == pytest.approx([STAR_PRIORITY, RUNNER_UP_PRIORITY], rel=1e-4)
    assert top["why"].tolist() == [STAR_WHY, RUNNER_UP_WHY]
    assert top["state"].tolist() == ["silent", "in recovery"]
    held_out = {
        r.id for r in rows(engine, "SELECT id FROM leads WHERE recovery_state IN ('control', 'lost', 'recovered')")
    }
    assert not held_out & set(queue["id"]), "control, lost and recovered leads are never on the call list"


def test_an_empty_tenant_explains_the_empty_call_list(world: factories.World, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE leads SET recovery_state = 'lost' WHERE tenant_id = :t"), {"t": world.tenants["acme"]}
        )
    at = leads_page()
    assert any("Nobody to call yet" in i.value for i in at.info)


# --- the drawer ----------------------------------------------------------------------------------


def add_history(engine: Engine, world: factories.World, lead_id: int) -> None:
    """A lead with one of everything the timeline shows, each at its own distinct time."""
    now, tenant = world.now, world.tenants["acme"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE leads SET timezone = 'America/Chicago' WHERE id = :l"), {"l": lead_id})

        def insert(model: type, **values: Any) -> int:
            statement = sa.insert(model).values(tenant_id=tenant, **values).returning(model.id)  # type: ignore[attr-defined]
            return int(conn.execute(statement).scalar_one())

        insert(
            Activity, lead_id=lead_id, kind="form", occurred_at=now - dt.timedelta(days=9), summary="Asked for a quote"
        )
        insert(
            Activity,
            lead_id=lead_id,
            kind="page_view",
            occurred_at=now - dt.timedelta(days=8),
            summary="Viewed /pricing",
        )
        message = insert(
            OutboundMessage,
            lead_id=lead_id,
            channel="email",
            to_address="lead@example.com",
            subject="About your quote",
            body="Hi",
            status="delivered",
            sent_at=now - dt.timedelta(days=7),
            dedupe_key=f"test:{lead_id}:1",
        )
        insert(
            MessageEvent,
            message_id=message,
            lead_id=lead_id,
            event_type="open",
            occurred_at=now - dt.timedelta(days=6, hours=5),
            natural_key=f"test-open-{lead_id}",
        )
        insert(
            InboundMessage,
            lead_id=lead_id,
            channel="email",
            from_address="lead@example.com",
            body="Too expensive for us right now, maybe next year.",
            intent="not_now",
            sentiment="neutral",
            received_at=now - dt.timedelta(days=5, hours=6),
        )
        insert(
            Conversion,
            lead_id=lead_id,
            value=Decimal("1234.50"),
            method="manual",
            converted_at=now - dt.timedelta(days=2),
        )


def expected_timeline(engine: Engine, lead_id: int) -> list[tuple[str, str]]:
    """(kind, what) of every row the timeline should show, newest first, each source read on its own."""
    found: list[tuple[dt.datetime, str, str]] = []
    for sql, kind in (
        ("SELECT occurred_at AS at, kind AS what FROM activities WHERE lead_id = :l", "activity"),
        (
            "SELECT coalesce(sent_at, created_at) AS at, channel AS what FROM outbound_messages WHERE lead_id = :l",
            "message",
        ),
        (
            """SELECT e.occurred_at AS at, e.event_type AS what FROM message_events e
               WHERE e.message_id IN (SELECT id FROM outbound_messages WHERE lead_id = :l)""",
            "event",
        ),
        (
            "SELECT received_at AS at, coalesce(intent, channel) AS what FROM inbound_messages WHERE lead_id = :l",
            "reply",
        ),
        ("SELECT converted_at AS at, method AS what FROM conversions WHERE lead_id = :l", "conversion"),
        (
            """SELECT e.enrolled_at AS at, c.name AS what FROM enrollments e JOIN campaigns c ON c.id = e.campaign_id
               WHERE e.lead_id = :l""",
            "enrollment",
        ),
    ):
        found += [(r.at, kind, r.what) for r in rows(engine, sql, l=lead_id)]
    found.sort(key=lambda item: (-item[0].timestamp(), item[1]))
    return [(kind, what) for _, kind, what in found]


def test_picking_a_queued_lead_opens_its_drawer(world: factories.World, engine: Engine) -> None:
    star = star_lead(engine, world)
    at = leads_page()
    lead_id = int(at.dataframe[QUEUE_TABLE].value["id"].iloc[0])
    assert lead_id == star
    add_history(engine, world, lead_id)
    at = open_from_queue(at, 0)
    assert at.session_state[picks.DRAWER] == lead_id

    lead = rows(
        engine,
        """SELECT trim(first_name || ' ' || last_name) AS name, intent_score, deal_value FROM leads WHERE id = :l""",
        l=lead_id,
    )[0]
    assert lead.name in [h.value for h in at.subheader]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Intent score"] == str(lead.intent_score)
    assert shown["Deal value"] == f"${float(lead.deal_value):,.0f}"

    events = at.dataframe[QUEUE_TABLE + 1].value
    assert list(zip(events["kind"], events["what"], strict=True)) == expected_timeline(engine, lead_id)
    reply = events[events["kind"] == "reply"].iloc[0]
    assert reply["detail"] == "Too expensive for us right now, maybe next year."
    assert reply["status"] == "neutral"
    # Times are the lead's wall clock.
    form_at = value(engine, "SELECT occurred_at FROM activities WHERE lead_id = :l AND kind = 'form'", l=lead_id)
    local = form_at.astimezone(ZoneInfo("America/Chicago")).replace(tzinfo=None)
    assert events[events["what"] == "form"]["local_at"].iloc[0].to_pydatetime() == local

    # The drawer shows this lead's breakdown (its maths is worked by hand in test_score_breakdown):
    # the six parts in order, and the parts that name the lead's own facts name the ones in SQL.
    parts = at.dataframe[QUEUE_TABLE + 2].value
    assert parts["part"].tolist() == ["recency", "engagement", "sentiment", "value", "source", "stage"]
    facts = rows(engine, "SELECT source, stage FROM leads WHERE id = :l", l=lead_id)[0]
    why = dict(zip(parts["part"], parts["why"], strict=True))
    assert why["sentiment"] == "latest reply was neutral"  # the one reply add_history wrote
    assert why["source"] == f"came from {facts.source.replace('_', ' ')}"
    assert why["stage"] == f"at stage {facts.stage.replace('_', ' ')}"

    at.button(key="leads.drawer.close").click().run()
    assert picks.DRAWER not in at.session_state
    assert lead.name not in [h.value for h in at.subheader], (
        "closing hides the drawer; the same pick does not reopen it"
    )


def test_a_new_pick_in_the_table_moves_the_drawer(world: factories.World, engine: Engine) -> None:
    at = open_from_queue(leads_page(), 0)
    table_lead = int(at.dataframe[0].value["id"].iloc[3])
    at.session_state["leads.table"] = {"selection": {"rows": [3], "columns": [], "cells": []}}
    at.run()
    assert at.session_state[picks.DRAWER] == table_lead
    assert [t.value for t in at.toast] == ["Opened in the lead drawer, under the call list."]


# --- the insight ---------------------------------------------------------------------------------


def insight_rows(engine: Engine, lead_id: int) -> list[Any]:
    return rows(
        engine,
        """SELECT model, prompt_hash, output, tokens_in, tokens_out, cost_usd FROM ai_generations
           WHERE purpose = 'insight' AND lead_id = :l ORDER BY id""",
        l=lead_id,
    )


def drawer_on(at: AppTest, lead_id: int) -> AppTest:
    at.session_state[picks.DRAWER] = lead_id
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


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
