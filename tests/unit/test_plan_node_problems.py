"""Plan validation node by node: transitions, durations, variants, channels, branch conditions."""

import copy
from typing import Any

import pytest

from tests.unit.plan_examples import PLAN, problems_of, with_node


def test_a_timer_needs_after_and_an_event_takes_within_only() -> None:
    plan = with_node(
        3,
        transitions=[
            {"on": "clicked", "to": "stop", "after": "P1D"},
            {"on": "no_click", "to": "done", "within": "P1D", "after": "P1D"},
        ],
    )
    assert problems_of(plan) == [
        "$.nodes[3].transitions[0].after: 'after' is for the timers (no_open, no_click, no_reply), not 'clicked'",
        "$.nodes[3].transitions[1].within: a timer fires 'after' a duration; 'within' is for events, not 'no_click'",
    ]


def test_an_unknown_trigger_and_a_second_timer_of_one_kind() -> None:
    plan = with_node(
        3,
        transitions=[
            {"on": "liked", "to": "stop"},
            {"on": "no_click", "to": "done", "after": "P1D"},
            {"on": "no_click", "to": "stop", "after": "P2D"},
        ],
    )
    assert problems_of(plan) == [
        "$.nodes[3].transitions[0].on: unknown trigger 'liked' (delivered, opened, clicked, replied, bounced, "
        "unsubscribed, converted, no_open, no_click, no_reply)",
        "$.nodes[3].transitions[2].on: a second 'no_click' timer: one of them would never fire",
    ]


def test_a_bad_duration() -> None:
    assert problems_of(with_node(1, duration="24 hours")) == [
        "$.nodes[1].duration: '24 hours' is not an ISO-8601 duration such as 'PT24H', 'P2DT6H' or 'P1W'"
    ]


@pytest.mark.parametrize(
    ("variants", "problem"),
    [
        ([], "$.nodes[0].variants: no variants: leave the key out for a single message"),
        ([{"name": "A", "weight": 0}], "$.nodes[0].variants[0].weight: a weight must be a positive number, got 0"),
        ([{"name": "A", "weight": -2}], "$.nodes[0].variants[0].weight: a weight must be a positive number, got -2"),
        ([{"name": "A", "weight": "1"}], "$.nodes[0].variants[0].weight: a weight must be a positive number, got '1'"),
        (
            [{"name": "A", "weight": float("inf")}],
            "$.nodes[0].variants[0].weight: a weight must be a positive number, got inf",
        ),
        (
            [{"name": "A", "weight": 1}, {"name": "A", "weight": 1}],
            "$.nodes[0].variants[1].name: variant 'A' listed twice",
        ),
    ],
)
def test_bad_variants(variants: list[dict[str, Any]], problem: str) -> None:
    assert problems_of(with_node(0, variants=variants)) == [problem]


def test_a_variant_needs_content_when_its_node_has_none() -> None:
    plan = copy.deepcopy(PLAN)
    del plan["nodes"][0]["brief"]
    assert problems_of(plan) == [
        "$.nodes[0].variants[0]: this variant has no template or brief, and neither has its node"
    ]
    del plan["nodes"][0]["variants"]
    assert problems_of(plan) == ["$.nodes[0]: a send needs a template or a brief (on the node or on each variant)"]


@pytest.mark.parametrize(
    ("channels", "problem"),
    [
        ([], "$.nodes[0].channels: a send needs at least one channel (email, sms)"),
        (["email", "email"], "$.nodes[0].channels[1]: channel 'email' listed twice"),
        ("email", "$.nodes[0].channels: must be a list, got str"),
    ],
)
def test_bad_channels(channels: Any, problem: str) -> None:
    assert problems_of(with_node(0, channels=channels)) == [problem]


def test_a_send_needs_next_or_a_timer_and_not_both() -> None:
    neither = copy.deepcopy(PLAN)
    del neither["nodes"][3]["transitions"]
    assert problems_of(neither) == [
        "$.nodes[3]: a send needs 'next' or a timer transition (no_open, no_click, no_reply with 'after')"
    ]
    both = with_node(0, transitions=[{"on": "no_open", "to": "done", "after": "P1D"}])
    assert problems_of(both) == [
        "$.nodes[0].transitions: a send with 'next' moves on at once: its transitions would never apply"
    ]


def test_a_wait_takes_no_timer_transition() -> None:
    plan = with_node(1, transitions=[{"on": "no_reply", "to": "stop", "after": "P1D"}])
    assert problems_of(plan) == [
        "$.nodes[1].transitions[0].on: 'no_reply' belongs on a send node; a wait's own timer is its duration"
    ]


def test_an_unsubscribe_may_only_lead_to_a_stop() -> None:
    plan = with_node(1, transitions=[{"on": "unsubscribed", "to": "call-me"}])
    assert problems_of(plan) == [
        "$.nodes[1].transitions[0].to: an unsubscribe may only lead to a stop node, not the send 'call-me'"
    ]


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        (
            {"field": "salary", "op": ">", "value": 1},
            "$.nodes[2].cases[0].if.field: unknown field 'salary' (deal_value, "
            "intent_score, silent_hours, stage, source, tags, email_ok, sms_ok)",
        ),
        ({"field": "stage", "op": ">", "value": "won"}, "$.nodes[2].cases[0].if.op: stage takes =, !=, in, not '>'"),
        (
            {"field": "deal_value", "op": ">=", "value": "5000"},
            "$.nodes[2].cases[0].if.value: must be a number, got '5000'",
        ),
        ({"field": "deal_value", "op": "in", "value": []}, "$.nodes[2].cases[0].if.value: 'in' takes a non-empty list"),
        (
            {"field": "stage", "op": "in", "value": ["new", 3]},
            "$.nodes[2].cases[0].if.value: every item must be a text, got 3",
        ),
        ({"field": "sms_ok", "op": "=", "value": 1}, "$.nodes[2].cases[0].if.value: must be true or false, got 1"),
        ({"field": "stage", "op": "="}, "$.nodes[2].cases[0].if.value: missing"),
        ("deal_value >= 5000", "$.nodes[2].cases[0].if: a condition is an object {field, op, value}"),
    ],
)
def test_a_branch_with_a_bad_condition(condition: Any, problem: str) -> None:
    plan = with_node(2, cases=[{"if": condition, "to": "call-me"}])
    assert problems_of(plan) == [problem]
