"""The plan drawn as a flow: every node with what it does, every arrow with what takes it."""

from __future__ import annotations

from datetime import timedelta

from app.domain.plan.wizard import FollowUp, MessageText, WizardPlan, build_plan
from components.flow import plan_dot, readable


def test_a_wizard_plan_reads_as_a_flow() -> None:
    wizard = WizardPlan(
        channels=("email", "sms"),
        message=MessageText(brief="hi"),
        variant_b=MessageText(brief="hey"),
        weights=(75.0, 25.0),
        follow_ups=(
            FollowUp("no_reply", timedelta(days=2), ("sms",), "nudge"),
            FollowUp("wait", timedelta(hours=36), ("email",), "last"),
        ),
    )
    dot = plan_dot(build_plan(wizard, template_prefix="c"))
    assert 'start -> "step-1";' in dot
    assert '"step-1" [shape=box, label="First message\\nemail → SMS\\nA 75% / B 25%"];' in dot
    assert '"step-1" -> "step-2" [label="no reply · 2 d"];' in dot
    assert '"step-2" -> "wait-3" [label=""];' in dot
    assert '"wait-3" [shape=ellipse, label="wait 1 d 12 h"];' in dot
    assert '"done" [shape=doublecircle, label="Done"];' in dot


def test_an_arrow_to_nowhere_is_drawn_as_the_missing_node() -> None:
    plan = {"start": "a", "nodes": [{"id": "a", "kind": "send", "channels": [], "next": "gone"}]}
    dot = plan_dot(plan)
    assert '"a" [shape=box, label="a\\nno channel yet"];' in dot
    assert '"gone" [shape=box, style=dashed, color=red, label="gone (missing)"];' in dot


def test_quotes_in_labels_cannot_break_the_diagram() -> None:
    dot = plan_dot({"nodes": [{"id": 'say "hi"', "kind": "stop"}]})
    assert '"say \\"hi\\"" [shape=doublecircle, label="say \\"hi\\""];' in dot


def test_durations_read_as_days_hours_minutes() -> None:
    assert [readable(d) for d in ("P2D", "PT36H", "PT90M", "P1W", "later")] == [
        "2 d",
        "1 d 12 h",
        "1 h 30 min",
        "7 d",
        "later",
    ]
