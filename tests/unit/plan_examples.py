"""A valid plan of every node kind, and helpers that break one field of it, for the validation tests."""

import copy
from typing import Any

from app.domain.plan import validate_plan

PLAN: dict[str, Any] = {
    "version": 2,
    "timezone": "America/Chicago",
    "quiet_hours": {"start": 21, "end": 8},
    "send_window": {"start": 8, "end": 20},
    "start": "rung-1",
    "nodes": [
        {
            "id": "rung-1",
            "kind": "send",
            "channels": ["email", "sms"],
            "brief": "a gentle check-in",
            "variants": [{"name": "A", "weight": 1}, {"name": "B", "weight": 3, "template": "tpl-7"}],
            "next": "wait-1",
        },
        {
            "id": "wait-1",
            "kind": "wait",
            "duration": "PT24H",
            "next": "vip?",
            "transitions": [{"on": "clicked", "to": "stop"}],
        },
        {
            "id": "vip?",
            "kind": "branch",
            "cases": [{"if": {"field": "deal_value", "op": ">=", "value": 5000}, "to": "call-me"}],
            "else": "done",
        },
        {
            "id": "call-me",
            "kind": "send",
            "channels": ["sms"],
            "template": "tpl-9",
            "transitions": [
                {"on": "clicked", "to": "stop", "within": "P2D"},
                {"on": "no_click", "to": "done", "after": "P2D"},
            ],
        },
        {"id": "done", "kind": "stop"},
        {"id": "stop", "kind": "stop", "result": "stopped"},
    ],
}


def problems_of(plan: dict[str, Any]) -> list[str]:
    return [str(problem) for problem in validate_plan(plan)]


def edited(**changes: Any) -> dict[str, Any]:
    plan = copy.deepcopy(PLAN)
    plan.update(changes)
    return plan


def with_node(index: int, **changes: Any) -> dict[str, Any]:
    plan = copy.deepcopy(PLAN)
    plan["nodes"][index].update(changes)
    return plan
