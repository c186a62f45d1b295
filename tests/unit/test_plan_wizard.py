"""The campaign wizard's answers as plan JSON: the exact plan for a hand-worked campaign, the
problems of an unfinished one by JSON path, the interpreter walking the plan it built, and
every answer read back as it was saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.plan import (
    Complete,
    Enrolled,
    EnrollmentState,
    LeadEvent,
    LeadFacts,
    Plan,
    Send,
    Stop,
    TimerFired,
    parse_plan,
    step,
    validate_plan,
)
from app.domain.plan.wizard import (
    FollowUp,
    MessageText,
    WizardPlan,
    build_plan,
    read_wizard,
    template_texts,
)

PREFIX = "campaign-7"
HELLO = MessageText(
    "Still thinking it over, {{first_name}}?",
    "Hi {{first_name}}, ...",
    "Hi {{first_name}}! Reply STOP to opt out.",
    "a gentle check-in",
)
WIZARD = WizardPlan(
    channels=("email", "sms"),
    message=HELLO,
    variant_b=MessageText(sms_body="{{first_name}}, still keen? Reply STOP to opt out."),
    weights=(70.0, 30.0),
    timezone="America/New_York",
    send_window=(9, 18),
    quiet_hours=(20, 8),
    follow_ups=(
        FollowUp("no_reply", timedelta(days=2), ("sms",), "a short nudge"),
        FollowUp("wait", timedelta(hours=24), ("email",), "a last note"),
    ),
)


def test_a_whole_campaign_builds_this_plan() -> None:
    assert build_plan(WIZARD, template_prefix=PREFIX) == {
        "version": 2,
        "timezone": "America/New_York",
        "quiet_hours": {"start": 20, "end": 8},
        "send_window": {"start": 9, "end": 18},
        "start": "step-1",
        "nodes": [
            {
                "id": "step-1",
                "kind": "send",
                "label": "First message",
                "channels": ["email", "sms"],
                "variants": [
                    {"name": "A", "weight": 70.0, "template": "campaign-7/step-1/A", "brief": "a gentle check-in"},
                    {"name": "B", "weight": 30.0, "template": "campaign-7/step-1/B"},
                ],
                "transitions": [{"on": "no_reply", "to": "step-2", "after": "P2D"}],
            },
            {
                "id": "step-2",
                "kind": "send",
                "label": "Follow-up 1: no reply after P2D",
                "channels": ["sms"],
                "brief": "a short nudge",
                "next": "wait-3",
            },
            {"id": "wait-3", "kind": "wait", "duration": "P1D", "next": "step-3"},
            {
                "id": "step-3",
                "kind": "send",
                "label": "Follow-up 2: in any case after P1D",
                "channels": ["email"],
                "brief": "a last note",
                "next": "done",
            },
            {"id": "done", "kind": "stop", "result": "completed", "label": "Done"},
        ],
    }
    assert validate_plan(build_plan(WIZARD, template_prefix=PREFIX)) == []


def test_the_texts_are_stored_by_the_names_the_plan_gives_them() -> None:
    assert template_texts(WIZARD, template_prefix=PREFIX) == {
        "campaign-7/step-1/A": HELLO,
        "campaign-7/step-1/B": WIZARD.variant_b,
    }
    brief_only = WizardPlan(channels=("email",), message=MessageText(brief="say hello"))
    assert template_texts(brief_only, template_prefix=PREFIX) == {}
    assert build_plan(brief_only, template_prefix=PREFIX)["nodes"][0] == {
        "id": "step-1",
        "kind": "send",
        "label": "First message",
        "channels": ["email"],
        "brief": "say hello",
        "next": "done",
    }


def test_a_new_draft_builds_a_plan_that_names_what_is_missing() -> None:
    problems = [str(p) for p in validate_plan(build_plan(WizardPlan(), template_prefix=PREFIX))]
    assert problems == [
        "$.nodes[0].channels: a send needs at least one channel (email, sms)",
        "$.nodes[0]: a send needs a template or a brief (on the node or on each variant)",
    ]


def test_a_variant_without_weight_or_content_is_named() -> None:
    wizard = WizardPlan(channels=("sms",), message=HELLO, variant_b=MessageText(), weights=(100.0, 0.0))
    problems = [str(p) for p in validate_plan(build_plan(wizard, template_prefix=PREFIX))]
    assert problems == [
        "$.nodes[0].variants[1].weight: a weight must be a positive number, got 0.0",
        "$.nodes[0].variants[1]: this variant has no template or brief, and neither has its node",
    ]


def test_quiet_hours_over_the_whole_window_cannot_launch() -> None:
    wizard = WizardPlan(channels=("email",), message=HELLO, send_window=(9, 17), quiet_hours=(8, 18))
    problems = [str(p) for p in validate_plan(build_plan(wizard, template_prefix=PREFIX))]
    assert problems == ["$.quiet_hours: the quiet hours cover the whole send window: nothing could ever be sent"]


T = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)  # 10:00 in New York (EDT): inside 09-18
LEAD = LeadFacts(timezone="America/New_York", email_ok=True, sms_ok=True)


def test_the_interpreter_walks_the_built_plan() -> None:
    plan = parse_plan(build_plan(WIZARD, template_prefix=PREFIX))
    assert isinstance(plan, Plan)
    state, actions = step(plan, EnrollmentState(), Enrolled(LEAD, draw=0.5), T)
    assert [a for a in actions if isinstance(a, Send)] == [
        Send("step-1", "email", "A", T, 1, "campaign-7/step-1/A", "a gentle check-in")
    ], "a draw of 0.5 falls in A's 70 %; email first"
    two_days = T + timedelta(days=2)
    state, actions = step(plan, state, TimerFired("no_reply", "step-1"), two_days)
    assert [a for a in actions if isinstance(a, Send)] == [
        Send("step-2", "sms", None, two_days, 1, None, "a short nudge")
    ]
    state, actions = step(plan, state, TimerFired("wait", "wait-3"), two_days + timedelta(days=1))
    assert [a.node for a in actions if isinstance(a, Send)] == ["step-3"]
    assert any(isinstance(a, Complete) for a in actions), "the last message ends the plan"


def test_a_reply_stops_before_any_follow_up() -> None:
    plan = parse_plan(build_plan(WIZARD, template_prefix=PREFIX))
    assert isinstance(plan, Plan)
    state, _ = step(plan, EnrollmentState(), Enrolled(LEAD, draw=0.9), T)
    assert state.variant == "B"
    state, actions = step(plan, state, LeadEvent("replied", T + timedelta(hours=3)), T + timedelta(hours=3))
    assert state.status == "stopped"
    assert any(isinstance(a, Stop) for a in actions)


@pytest.mark.parametrize(
    "wizard",
    [
        WizardPlan(),
        WIZARD,
        WizardPlan(channels=("sms",), message=MessageText(sms_body="Hi {{first_name}}. Reply STOP to opt out.")),
        WizardPlan(
            channels=("email", "sms"),
            message=MessageText(brief="hello"),
            follow_ups=(
                FollowUp("no_open", timedelta(hours=36), ("email",), "nudge"),
                FollowUp("no_click", timedelta(days=3), ("sms", "email")),
                FollowUp("wait", timedelta(days=7), ("sms",), "bye"),
            ),
        ),
    ],
)
def test_every_answer_reads_back_as_saved(wizard: WizardPlan) -> None:
    plan = build_plan(wizard, template_prefix=PREFIX)
    assert read_wizard(plan, template_texts(wizard, template_prefix=PREFIX)) == wizard


def test_a_plan_of_another_shape_reads_as_defaults() -> None:
    assert read_wizard({"version": 2, "nodes": "nonsense"}, {}) == WizardPlan()
