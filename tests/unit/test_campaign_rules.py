"""A campaign's audience criteria and its status moves."""

from __future__ import annotations

import pytest

from app.domain.audience import Audience, AudienceCriteria
from app.domain.campaign_status import CampaignStateError, next_status


def test_criteria_store_only_what_was_chosen_and_read_back() -> None:
    criteria = AudienceCriteria(stages=("new", "quoted"), score_min=40, silent_hours_min=48, tags=("solar",))
    assert criteria.to_json() == {
        "stages": ["new", "quoted"],
        "score_min": 40,
        "silent_hours_min": 48,
        "tags": ["solar"],
    }
    assert AudienceCriteria.from_json(criteria.to_json()) == criteria
    assert Audience.from_json(Audience(criteria=criteria).to_json()) == Audience(criteria=criteria)
    assert Audience.from_json({"lead_ids": [5, 3, 5]}) == Audience(lead_ids=(3, 5))
    assert Audience.from_json({}) is None


def test_criteria_problems_name_the_field() -> None:
    bad = AudienceCriteria(score_min=80, score_max=20, silent_hours_min=-1, value_min=900, value_max=100)
    assert bad.problems() == [
        "Score: need 0 ≤ from ≤ to ≤ 100, got 80-20",
        "Silence (hours): bounds must be 0 or more, got -1",
        "Deal value: 'from' (900) is above 'to' (100)",
    ]
    assert AudienceCriteria().problems() == []


def test_a_malformed_audience_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown audience criteria: colour"):
        Audience.from_json({"criteria": {"colour": "red"}})
    with pytest.raises(ValueError, match="either criteria or a non-empty list"):
        Audience.from_json({"lead_ids": []})
    with pytest.raises(ValueError, match="expected a number"):
        Audience.from_json({"criteria": {"value_min": "lots"}})


@pytest.mark.parametrize(
    ("action", "status", "later", "expected"),
    [
        ("launch", "draft", False, "running"),
        ("launch", "draft", True, "scheduled"),
        ("start", "scheduled", False, "running"),
        ("pause", "running", False, "paused"),
        ("pause", "scheduled", True, "paused"),
        ("resume", "paused", False, "running"),
        ("resume", "paused", True, "scheduled"),
        ("kill", "running", False, "killed"),
        ("kill", "paused", False, "killed"),
        ("kill", "scheduled", False, "killed"),
    ],
)
def test_status_moves(action: str, status: str, later: bool, expected: str) -> None:
    assert next_status(action, status, starts_later=later) == expected


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        (
            "resume",
            "killed",
            "This campaign was killed: it cannot be changed or resumed; start a new campaign instead.",
        ),
        ("launch", "running", "Only a draft can be launched; this campaign is running."),
        ("pause", "draft", "A draft campaign cannot be paused."),
        ("kill", "completed", "A completed campaign cannot be killed."),
        ("resume", "running", "A running campaign cannot be resumed."),
    ],
)
def test_moves_that_do_not_apply_are_refused(action: str, status: str, message: str) -> None:
    with pytest.raises(CampaignStateError) as raised:
        next_status(action, status)
    assert str(raised.value) == message
