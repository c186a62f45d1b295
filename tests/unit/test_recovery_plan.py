"""The default recovery campaign's plan: one send node per rung, stopping on a reply."""

from __future__ import annotations

from app.domain.recovery_plan import recovery_plan, rung_node


def test_one_send_node_per_rung_with_the_ladder_channels() -> None:
    plan = recovery_plan([24, 48, 72], timezone="America/Chicago")

    sends = [node for node in plan["nodes"] if node["kind"] == "send"]
    assert [node["id"] for node in sends] == ["rung-1", "rung-2", "rung-3"]
    assert [node["channel"] for node in sends] == ["email", "sms", "email"]
    assert [node["after_silence"] for node in sends] == ["PT24H", "PT48H", "PT72H"]
    assert (plan["start"], plan["timezone"], plan["climb"]) == ("rung-1", "America/Chicago", "silence_scan")


def test_a_reply_stops_and_silence_ends_the_rung_at_the_next_threshold() -> None:
    plan = recovery_plan([12, 36])
    first, last = (node for node in plan["nodes"] if node["kind"] == "send")

    assert {"on": "replied", "to": "stop"} in first["transitions"]
    assert {"on": "no_reply", "to": "done", "after": "PT24H"} in first["transitions"]
    assert {"on": "no_reply", "to": "done", "after": "PT36H"} in last["transitions"]
    assert {node["id"] for node in plan["nodes"] if node["kind"] == "stop"} == {"done", "stop"}


def test_rung_nodes_are_named_as_the_pipeline_expects() -> None:
    assert rung_node(2) == "rung-2"
