"""Plan validation as a whole: typed reading, the graph (targets, start, reachability, loops), the
plan's own fields, and every problem at once, each at the JSON path of the value to fix."""

import copy
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.plan import (
    BranchNode,
    Case,
    Condition,
    HourRange,
    Plan,
    SendNode,
    StopNode,
    Transition,
    Variant,
    WaitNode,
    parse_plan,
    validate_plan,
)
from tests.unit.plan_examples import PLAN, edited, problems_of, with_node


def test_a_valid_plan_reads_into_typed_nodes() -> None:
    plan = parse_plan(PLAN)

    assert isinstance(plan, Plan)
    assert (plan.version, plan.timezone, plan.start) == (2, "America/Chicago", "rung-1")
    assert (plan.quiet_hours, plan.send_window) == (HourRange(21, 8), HourRange(8, 20))
    assert plan.node("rung-1") == SendNode(
        "rung-1",
        ("email", "sms"),
        brief="a gentle check-in",
        variants=(Variant("A", 1.0), Variant("B", 3.0, template="tpl-7")),
        next="wait-1",
    )
    assert plan.node("wait-1") == WaitNode("wait-1", timedelta(hours=24), "vip?", (Transition("clicked", "stop"),))
    assert plan.node("vip?") == BranchNode("vip?", (Case(Condition("deal_value", ">=", 5000), "call-me"),), "done")
    assert plan.node("call-me").transitions == (
        Transition("clicked", "stop", within=timedelta(days=2)),
        Transition("no_click", "done", after=timedelta(days=2)),
    )
    assert plan.node("stop") == StopNode("stop", "stopped")
    assert plan.node("done") == StopNode("done", "completed")
    assert validate_plan(PLAN) == []


def test_an_unknown_transition_target_is_named_at_its_path() -> None:
    plan = with_node(3, transitions=[{"on": "no_click", "to": "rung-9", "after": "P2D"}])
    assert problems_of(plan) == ["$.nodes[3].transitions[0].to: unknown node 'rung-9'"]


def test_every_problem_is_returned_at_once() -> None:
    plan = copy.deepcopy(PLAN)
    plan["timezone"] = "Mars/Olympus"
    plan["nodes"][0]["channels"] = ["email", "fax"]
    plan["nodes"][1]["duration"] = "P1M"
    plan["nodes"][3]["transitions"][1] = {"on": "no_click", "to": "done"}

    assert problems_of(plan) == [
        "$.timezone: unknown time zone 'Mars/Olympus' (an IANA name such as 'Europe/Paris')",
        "$.nodes[0].channels[1]: unknown channel 'fax' (email, sms)",
        "$.nodes[1].duration: 'P1M': months and years have no fixed length; use days (P30D) or weeks (P4W)",
        "$.nodes[3].transitions[1].after: missing (an ISO-8601 duration such as 'PT24H')",
    ]
    assert not isinstance(parse_plan(plan), Plan)


def test_an_unknown_node_kind() -> None:
    plan = with_node(4, kind="email")
    assert problems_of(plan) == ["$.nodes[4].kind: unknown node kind 'email' (send, wait, branch, stop)"]


def test_a_duplicate_id_points_at_the_first() -> None:
    plan = copy.deepcopy(PLAN)
    plan["nodes"].append({"id": "done", "kind": "stop"})
    assert problems_of(plan) == ["$.nodes[6].id: duplicate node id 'done' (first at $.nodes[4])"]


def test_a_missing_or_unknown_start() -> None:
    missing = copy.deepcopy(PLAN)
    del missing["start"]
    assert problems_of(missing)[0] == "$.start: missing: the id of the node every enrollment begins at"
    assert problems_of(edited(start="rung-0")) == ["$.start: unknown node 'rung-0'"]


def test_an_unreachable_node() -> None:
    plan = copy.deepcopy(PLAN)
    plan["nodes"].append({"id": "orphan", "kind": "stop"})
    assert problems_of(plan) == ["$.nodes[6]: node 'orphan' cannot be reached from start 'rung-1'"]


def test_a_loop_of_sends_and_branches_is_refused() -> None:
    through_a_wait = with_node(2, **{"else": "rung-1"})  # vip? → rung-1 → wait-1 → vip?
    assert problems_of(through_a_wait) == []
    looping = copy.deepcopy(PLAN)
    looping["start"] = "vip?"
    looping["nodes"][2]["else"] = "again"
    looping["nodes"].append({"id": "again", "kind": "send", "channels": ["email"], "brief": "b", "next": "vip?"})
    assert "$.nodes[2]: loop with no wait node and no timer on it: 'vip?' → 'again' → 'vip?' would never stop" in (
        problems_of(looping)
    )


def test_a_loop_through_a_timer_is_allowed_and_one_through_events_alone_is_not() -> None:
    by_timer = with_node(3, transitions=[{"on": "no_click", "to": "vip?", "after": "P2D"}])
    assert problems_of(by_timer) == []
    by_event = with_node(
        3, transitions=[{"on": "opened", "to": "vip?"}, {"on": "no_click", "to": "done", "after": "P1D"}]
    )
    assert problems_of(by_event) == [
        "$.nodes[2]: loop with no wait node and no timer on it: 'vip?' → 'call-me' → 'vip?' would never stop"
    ]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"quiet_hours": {"start": 25, "end": 8}}, "$.quiet_hours: quiet hours need hours 0-23, got 25-8"),
        (
            {"send_window": {"start": 20, "end": 8}},
            "$.send_window: a send window needs 0 <= start < end <= 24, got 20-8",
        ),
        ({"send_window": {"start": 8}}, "$.send_window.end: missing"),
        ({"send_window": {"start": "8", "end": 20}}, "$.send_window.start: must be a whole number, got '8'"),
        (
            {"quiet_hours": [21, 8]},
            "$.quiet_hours: quiet_hours ({start, end} in local hours) must be an object, got list",
        ),
        (
            {"quiet_hours": {"start": 6, "end": 22}},
            "$.quiet_hours: the quiet hours cover the whole send window: nothing could ever be sent",
        ),
        ({"timezone": ""}, "$.timezone: must be an IANA time zone such as 'America/Chicago', got ''"),
        ({"version": 3}, "$.version: must be 2, got 3"),
        ({"version": 1}, "$.version: a version 1 plan (the silence ladder) must be upgraded first: upgrade_v1"),
        (
            {"climb": "silence_scan"},
            "$.climb: unknown key 'climb' (expected version, timezone, quiet_hours, send_window, start, nodes)",
        ),
    ],
)
def test_bad_plan_fields(changes: dict[str, Any], problem: str) -> None:
    assert problems_of(edited(**changes)) == [problem]


def test_sms_with_no_hour_left_is_a_problem_at_its_channel() -> None:
    # A window 21-24 with no quiet hours leaves email 21:00-24:00 and SMS nothing (it ends at 21:00).
    plan = edited(send_window={"start": 21, "end": 24}, quiet_hours={"start": 0, "end": 0})
    assert problems_of(plan) == [
        "$.nodes[0].channels[1]: sms has no hour to send in this plan's send window and quiet hours",
        "$.nodes[3].channels[0]: sms has no hour to send in this plan's send window and quiet hours",
    ]


@pytest.mark.parametrize("garbage", [None, [], "plan", 3, {"nodes": "x"}, {"nodes": [None, 3, {"kind": "send"}]}])
def test_garbage_gives_problems_not_exceptions(garbage: Any) -> None:
    assert validate_plan(garbage) != []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(list(PLAN)), JSON, max_size=6))
def test_any_json_is_answered_with_a_plan_or_problems(data: dict[str, Any]) -> None:
    result = parse_plan({**PLAN, **data})
    assert isinstance(result, Plan) or all(problem.path.startswith("$") for problem in result)


def test_a_start_that_is_not_text_is_one_problem() -> None:
    assert problems_of(edited(start=3)) == ["$.start: must be a non-empty text, got 3"]
