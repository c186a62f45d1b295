"""The dashboard's "Recover now", through AppTest on real PostgreSQL and Redis: ticked rows
and a single lead are enrolled once however often the button is pressed, each lead's outcome
is said, the progress rows appear, and the worklist shows the leads moved."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rq import Queue
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services.operators import hash_password
from app.services.scan import RecoverOutcome
from pages import recovery, recovery_actions
from pages.recovery_actions import RecoverReport, RecoverRequest, should_submit
from tests.app import factories
from tests.app.driver import rows, signed_in, silent_lead_ids, truncate, value

VIEWER_EMAIL = "look@acme.example"
VIEWER_PASSWORD = "viewer-pass-123"


@pytest.fixture
def world(engine: Engine, redis_conn: redis.Redis) -> Iterator[factories.World]:
    """A fresh world per test (these tests write), with acme's holdout off so outcomes are certain."""
    truncate(engine)
    built = factories.build(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE tenants SET holdout_percent = 0 WHERE id = %s", (built.tenants["acme"],))
    yield built
    truncate(engine)


def select_rows(at: AppTest, positions: list[int]) -> AppTest:
    """Tick rows of the silent table as a browser would (AppTest sets a selection through its key)."""
    round_ = at.session_state.get(recovery_actions.ROUND, 0)
    key = recovery.table_key(round_)
    at.session_state[key] = {"selection": {"rows": positions, "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def recover_selected(at: AppTest) -> AppTest:
    at.button(key="dashboard.recover_selected").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sent_to_recovery(engine: Engine, lead_ids: list[int]) -> dict[str, list[tuple[Any, ...]]]:
    """Every enrollment and scheduled action of these leads, as rows."""
    return {
        "enrollments": [
            tuple(r)
            for r in rows(
                engine,
                "SELECT lead_id, status, rung FROM enrollments WHERE lead_id = ANY(:ids) ORDER BY lead_id",
                ids=lead_ids,
            )
        ],
        "actions": [
            tuple(r)
            for r in rows(
                engine,
                "SELECT lead_id, kind, node, status FROM scheduled_actions WHERE lead_id = ANY(:ids) "
                "ORDER BY lead_id, kind, node",
                ids=lead_ids,
            )
        ],
    }


def rung_and_wait(lead: int, rung: int) -> list[tuple[Any, ...]]:
    """What the recovery plan schedules for a lead starting at `rung`: its message, and the wait
    after it (`wait-<rung>`) whose timer climbs it to the next rung."""
    return [(lead, "send", f"rung-{rung}", "pending"), (lead, "wait", f"wait-{rung}", "pending")]


def table_ids(at: AppTest) -> list[int]:
    return [int(i) for i in at.dataframe[0].value["id"]]


def outcome_messages(at: AppTest) -> list[str]:
    return [m.value for m in (*at.success, *at.info) if m.value.startswith("Recover now:")]


def test_ticked_rows_are_enrolled_once_and_each_outcome_is_said(
    world: factories.World, engine: Engine, redis_conn: redis.Redis
) -> None:
    t = world.tenants["acme"]
    first, second, complete, suppressed = silent_lead_ids(engine, t)[:4]
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE leads SET silence_level = 0 WHERE id IN (%s, %s, %s)", (first, second, suppressed))
        conn.exec_driver_sql("UPDATE leads SET silence_level = 3 WHERE id = %s", (complete,))
        conn.exec_driver_sql(
            "INSERT INTO suppressions (tenant_id, channel, address, reason) "
            "SELECT tenant_id, 'email', email, 'unsubscribe' FROM leads WHERE id = %s",
            (suppressed,),
        )
    at = signed_in("demo@acme.example", "demo")
    assert table_ids(at)[:4] == [first, second, complete, suppressed]
    assert at.button(key="dashboard.recover_selected").disabled, "nothing ticked, nothing to recover"

    select_rows(at, [0, 1, 2, 3])
    assert at.button(key="dashboard.recover_selected").label == "Recover 4 selected"
    recover_selected(at)

    assert outcome_messages(at) == ["Recover now: 2 enrolled · 1 suppressed or no consent · 1 ladder complete."]
    asked = [first, second, complete, suppressed]
    once = {
        "enrollments": sorted([(first, "active", 1), (second, "active", 1)]),
        "actions": sorted(rung_and_wait(first, 1) + rung_and_wait(second, 1)),
    }
    assert sent_to_recovery(engine, asked) == once
    assert Queue("default", connection=redis_conn).count == 1, "one write_due job wakes the writer"

    shown = table_ids(at)
    assert not {first, second} & set(shown), "the worklist shows the enrolled leads moved"
    assert {complete, suppressed} <= set(shown)
    assert at.button(key="dashboard.recover_selected").disabled, "the selection is cleared after the action"

    progress = at.dataframe[1].value
    assert progress["lead_id"].tolist() == asked
    by_lead = dict(zip(progress["lead_id"], progress["outcome"], strict=True))
    assert by_lead == {
        first: "enrolled",
        second: "enrolled",
        complete: "ladder complete",
        suppressed: "suppressed or no consent",
    }
    assert set(progress.loc[progress["lead_id"].isin([first, second]), "send"]) == {"pending"}

    # A browser cannot press it again: the selection is gone and the button is disabled.
    assert at.button(key="dashboard.recover_selected").disabled


def test_a_double_click_enrolls_once(world: factories.World, engine: Engine, redis_conn: redis.Redis) -> None:
    """The second click of a double click reaches the server before the first one's run is done:
    the first press's request is still pending (its run cut short by the second click), and the
    second press carries the same ids and round. It must not start a second request."""
    t = world.tenants["acme"]
    leads = silent_lead_ids(engine, t)[:2]
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE leads SET silence_level = 0 WHERE id IN (%s, %s)", tuple(leads))
    at = select_rows(signed_in("demo@acme.example", "demo"), [0, 1])
    at.session_state[recovery_actions.PENDING] = RecoverRequest(t, tuple(leads), 0)

    recover_selected(at)

    assert outcome_messages(at) == ["Recover now: 2 enrolled."]
    assert sent_to_recovery(engine, leads) == {
        "enrollments": sorted((lead, "active", 1) for lead in leads),
        "actions": [action for lead in sorted(leads) for action in rung_and_wait(lead, 1)],
    }
    assert Queue("default", connection=redis_conn).count == 1
    assert recovery_actions.PENDING not in at.session_state or at.session_state[recovery_actions.PENDING] is None


def test_two_tabs_recovering_the_same_lead_enroll_it_once(world: factories.World, engine: Engine) -> None:
    """The second tab drew the lead before the first enrolled it; the service says it is taken."""
    lead = silent_lead_ids(engine, world.tenants["acme"])[0]
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE leads SET silence_level = 0 WHERE id = %s", (lead,))
    tab_a = select_rows(signed_in("demo@acme.example", "demo"), [0])
    tab_b = select_rows(signed_in("demo@acme.example", "demo"), [0])

    recover_selected(tab_a)
    recover_selected(tab_b)

    assert outcome_messages(tab_a) == ["Recover now: 1 enrolled."]
    assert outcome_messages(tab_b) == ["Recover now: 1 already in recovery."]
    assert sent_to_recovery(engine, [lead]) == {
        "enrollments": [(lead, "active", 1)],
        "actions": rung_and_wait(lead, 1),
    }


def test_one_lead_picked_by_name(world: factories.World, engine: Engine) -> None:
    t = world.tenants["acme"]
    lead = silent_lead_ids(engine, t)[5]
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE leads SET silence_level = 1 WHERE id = %s", (lead,))
    name = value(engine, "SELECT first_name || ' ' || last_name FROM leads WHERE id = :id", id=lead)
    at = signed_in("demo@acme.example", "demo")
    assert at.button(key="dashboard.recover_one").disabled

    picker = at.selectbox(key=recovery.one_lead_key(0))
    assert picker.format_func(lead) == name
    picker.set_value(lead).run()
    at.button(key="dashboard.recover_one").click().run()

    assert not at.exception
    assert outcome_messages(at) == ["Recover now: 1 enrolled."]
    assert sent_to_recovery(engine, [lead]) == {
        "enrollments": [(lead, "active", 2)],
        "actions": rung_and_wait(lead, 2),
    }
    assert lead not in table_ids(at)
    assert at.selectbox(key=recovery.one_lead_key(1)).value is None, "a new round starts with no lead picked"
    transition = value(engine, "SELECT reason FROM campaign_transitions ORDER BY id DESC LIMIT 1")
    operator = world.operators["demo@acme.example"]
    assert transition.startswith(f"recover now by operator {operator}")


def test_the_report_can_be_dismissed(world: factories.World, engine: Engine) -> None:
    at = recover_selected(select_rows(signed_in("demo@acme.example", "demo"), [0]))
    assert outcome_messages(at)
    at.button(key="dashboard.recover.dismiss").click().run()
    assert not at.exception
    assert outcome_messages(at) == []
    assert len(at.dataframe) == 1, "only the worklist is left"


def test_a_viewer_cannot_recover(world: factories.World, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO operators (tenant_id, email, name, role, password_hash) VALUES (%s, %s, 'Look', 'viewer', %s)",
            (world.tenants["acme"], VIEWER_EMAIL, hash_password(VIEWER_PASSWORD)),
        )
    at = select_rows(signed_in(VIEWER_EMAIL, VIEWER_PASSWORD), [0, 1])
    assert at.button(key="dashboard.recover_selected").disabled
    assert at.button(key="dashboard.recover_one").disabled


# --- the double-click guard, as a rule --------------------------------------------------------


def test_a_press_repeating_the_request_just_done_is_ignored() -> None:
    request = RecoverRequest(tenant_id=1, lead_ids=(5, 6), round=0)
    done = RecoverReport(request, {5: RecoverOutcome.ENROLLED, 6: RecoverOutcome.ENROLLED})

    assert should_submit(request, pending=None, last=None)
    assert not should_submit(request, pending=None, last=done), "the double click's second press"
    assert not should_submit(request, pending=request, last=None), "a request is under way"
    assert not should_submit(RecoverRequest(1, (), 0), pending=None, last=None), "nothing ticked"
    assert should_submit(RecoverRequest(1, (5, 6), 1), pending=None, last=done), "the same leads in a new round"
