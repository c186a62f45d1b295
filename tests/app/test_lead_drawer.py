"""Leads & scores: the call list ("Who to call first") and the lead drawer it opens.

The queue is checked against every queued lead of a small tenant ranked by the formula written
out in SQL here (at this size the query's candidate set holds every lead, so it must be exact);
two leads whose facts the test sets top it, and their priority and "why" are worked out by
hand. The drawer's timeline is checked against each source table read on its own; the insight,
offline and through Claude (the real SDK against the local fake), against texts written by hand
for the facts the test gives the lead, stored once and served free on reopening. Nothing of
`app/domain/priority.py` or `app/ai/insight.py` computes an expected value.

The insight tests: `test_lead_insight.py`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from pages.leads import picks
from tests.app import factories
from tests.app.driver import rows, value
from tests.app.lead_drawer_world import (  # fixtures (world, no_key, claude) are used by name
    QUEUE_SIZE,
    QUEUE_TABLE,
    RUNNER_UP_PRIORITY,
    RUNNER_UP_WHY,
    STAR_PRIORITY,
    STAR_WHY,
    acme,
    add_history,
    claude,
    expected_queue,
    expected_timeline,
    leads_page,
    no_key,
    open_from_queue,
    runner_up,
    star_lead,
    world,
)

__all__ = ["claude", "no_key", "world"]


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
