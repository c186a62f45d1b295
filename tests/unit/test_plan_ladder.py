"""The silence ladder as the tenant's default plan, and version 1 plans brought up to version 2."""

from datetime import timedelta
from typing import Any

import pytest

from app.domain.plan import (
    HourRange,
    Plan,
    SendNode,
    StopNode,
    Transition,
    WaitNode,
    default_recovery_plan,
    default_recovery_plan_json,
    load_plan,
    parse_plan,
    upgrade_v1,
)
from app.domain.recovery_plan import recovery_plan

ENDINGS = tuple(Transition(event, "stop") for event in ("replied", "clicked", "converted", "unsubscribed", "bounced"))


def test_the_default_plan_climbs_rung_by_rung_with_the_ladder_gaps() -> None:
    plan = default_recovery_plan([24, 48, 72], "America/Chicago", (21, 8), (8, 20))

    assert [node.id for node in plan.nodes] == [
        "rung-1",
        "wait-1",
        "rung-2",
        "wait-2",
        "rung-3",
        "wait-3",
        "done",
        "stop",
    ]
    assert (plan.start, plan.timezone, plan.quiet_hours, plan.send_window) == (
        "rung-1",
        "America/Chicago",
        HourRange(21, 8),
        HourRange(8, 20),
    )
    assert plan.node("rung-1") == SendNode("rung-1", ("email", "sms"), brief="a gentle check-in", next="wait-1", rung=1)
    assert plan.node("rung-2") == SendNode(
        "rung-2", ("sms", "email"), brief="a helpful nudge with something new", next="wait-2", rung=2
    )
    assert plan.node("rung-3") == SendNode(
        "rung-3", ("email", "sms"), brief="a last, no-pressure note", next="wait-3", rung=3
    )
    # The gaps: 48 - 24 = 24 h, 72 - 48 = 24 h, then the whole ladder (72 h) to answer the last rung.
    assert plan.node("wait-1") == WaitNode("wait-1", timedelta(hours=24), "rung-2", ENDINGS)
    assert plan.node("wait-2") == WaitNode("wait-2", timedelta(hours=24), "rung-3", ENDINGS)
    assert plan.node("wait-3") == WaitNode("wait-3", timedelta(hours=72), "done", ENDINGS)
    assert plan.node("done") == StopNode("done", "completed")
    assert plan.node("stop") == StopNode("stop", "stopped")


def test_an_uneven_ladder_waits_its_own_gaps() -> None:
    plan = default_recovery_plan([12, 36, 96, 168])
    waits = [node for node in plan.nodes if isinstance(node, WaitNode)]
    # 36 - 12 = 24, 96 - 36 = 60, 168 - 96 = 72, then 168 to answer the last.
    assert [wait.duration for wait in waits] == [timedelta(hours=h) for h in (24, 60, 72, 168)]
    assert [node.channels for node in plan.nodes if isinstance(node, SendNode)][3] == ("email", "sms")


@pytest.mark.parametrize("ladder", [[], [48, 24], [0, 24]])
def test_a_bad_ladder_is_refused(ladder: list[int]) -> None:
    with pytest.raises(ValueError, match="ladder"):
        default_recovery_plan(ladder)


def test_a_bad_zone_is_refused_with_its_problem() -> None:
    with pytest.raises(ValueError, match=r"\$\.timezone: unknown time zone 'Nowhere/Town'"):
        default_recovery_plan([24, 48, 72], "Nowhere/Town")


def test_the_json_is_version_2_and_reads_back_as_the_plan() -> None:
    data = default_recovery_plan_json([24, 48, 72])
    assert data["version"] == 2
    assert parse_plan(data) == default_recovery_plan([24, 48, 72])


def test_a_version_1_silence_ladder_becomes_the_default_plan_of_its_ladder() -> None:
    v1 = recovery_plan([12, 36], timezone="Europe/Paris", quiet_hours=(22, 7), send_window=(9, 18))

    upgraded = upgrade_v1(v1)

    assert upgraded == default_recovery_plan_json([12, 36], "Europe/Paris", (22, 7), (9, 18))
    plan = load_plan(v1)
    assert isinstance(plan, Plan)
    assert [node.id for node in plan.nodes] == ["rung-1", "wait-1", "rung-2", "wait-2", "done", "stop"]
    # 36 - 12 = 24 h between the rungs, then 36 h to answer the last.
    assert [plan.node("wait-1").duration, plan.node("wait-2").duration] == [timedelta(hours=24), timedelta(hours=36)]  # type: ignore[union-attr]


DEMO_V1: dict[str, Any] = {
    "version": 1,
    "timezone": "America/Denver",
    "quiet_hours": {"start": 21, "end": 8},
    "send_window": {"start": 9, "end": 19},
    "start": "2026-11-01T12:00:00+00:00",
    "nodes": [
        {
            "id": "rung-1",
            "kind": "send",
            "channel": "email",
            "fallback_channel": "sms",
            "brief": "Quick check-in",
            "variants": [{"name": "A", "weight": 50}, {"name": "B", "weight": 50}],
            "transitions": [
                {"on": "replied", "to": "stop"},
                {"on": "unsubscribed", "to": "stop"},
                {"on": "bounced", "to": "rung-2"},
                {"on": "no_reply", "to": "rung-2", "after": "PT24H"},
            ],
        },
        {
            "id": "rung-2",
            "kind": "send",
            "channel": "sms",
            "fallback_channel": "sms",
            "purpose": "a nudge",
            "transitions": [{"on": "replied", "to": "stop"}, {"on": "no_reply", "to": "stop", "after": "P4D"}],
        },
        {"id": "stop", "kind": "stop"},
    ],
}


def test_another_version_1_plan_keeps_its_nodes_with_channel_lists() -> None:
    upgraded = upgrade_v1(DEMO_V1)

    assert upgraded["version"] == 2
    assert upgraded["start"] == "rung-1"  # the demo wrote a date where the start node belongs
    first, second, _ = upgraded["nodes"]
    assert (first["channels"], "channel" in first, "fallback_channel" in first) == (["email", "sms"], False, False)
    assert (second["channels"], second["brief"], "purpose" in second) == (["sms"], "a nudge", False)
    plan = load_plan(DEMO_V1)
    assert isinstance(plan, Plan)
    assert plan.node("rung-1").transitions[3] == Transition("no_reply", "rung-2", after=timedelta(hours=24))


def test_what_an_upgrade_cannot_fix_is_left_for_validation() -> None:
    draft = {"version": 1, "timezone": "America/Denver", "nodes": []}
    assert [str(problem) for problem in load_plan(draft)] == [  # type: ignore[union-attr]
        "$.quiet_hours: quiet_hours ({start, end} in local hours) must be an object, got nothing",
        "$.send_window: send_window ({start, end} in local hours) must be an object, got nothing",
        "$.start: missing: the id of the node every enrollment begins at",
    ]


def test_upgrade_takes_version_1_only() -> None:
    with pytest.raises(ValueError, match="version 1"):
        upgrade_v1({"version": 2})
