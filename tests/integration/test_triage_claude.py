"""Claude's triage through the real SDK against the local fake; the offline reading when it fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest

from app.ai.triage import ClaudeTriage
from app.domain.triage import Intent, Triage, classify
from app.services.triage_model import model
from tests.fakes.anthropic_server import FakeAnthropic, ok, server_error

TEXT = "hmm maybe, what does it cost for two people?"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def reader(fake: FakeAnthropic) -> ClaudeTriage:
    return ClaudeTriage(api_key=fake.api_key, model="claude-sonnet-5-5", base_url=fake.url)


def offline() -> Triage:
    return classify(TEXT, model=model(), today=date(2026, 12, 6))


def run(fake: FakeAnthropic) -> Triage:
    triage = reader(fake)
    try:
        return triage.classify(TEXT, channel="sms", first_name="Ann", business="Acme", offline=offline())
    finally:
        triage.close()


def test_a_valid_answer_is_taken_and_the_schema_was_asked_for(fake: FakeAnthropic) -> None:
    answer = {
        "intent": "question",
        "sentiment": 0.4,
        "priority": "high",
        "reason": "asks the price for two",
        "suggested_answer": "Hi Ann, for two it is $90. Acme",
    }
    fake.script(ok(json.dumps(answer)))
    got = run(fake)
    assert got.intent is Intent.QUESTION
    assert got.source == "claude"
    assert got.reason == "asks the price for two"
    sent = fake.calls[0].body
    assert sent["output_config"]["format"]["type"] == "json_schema"
    assert "Ann" in fake.calls[0].user_text


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"intent": "angry", "sentiment": 0, "priority": "high", "reason": "x", "suggested_answer": ""}),
        json.dumps({"intent": "question", "sentiment": 3, "priority": "high", "reason": "x", "suggested_answer": ""}),
        json.dumps(
            {"intent": "question", "sentiment": 0.1, "priority": "urgent", "reason": "x", "suggested_answer": ""}
        ),
        json.dumps({"intent": "question"}),
    ],
)
def test_an_invalid_answer_falls_back_to_the_offline_reading(fake: FakeAnthropic, text: str) -> None:
    fake.script(ok(text))
    got = run(fake)
    assert got == offline()


def test_a_failed_call_falls_back_to_the_offline_reading(fake: FakeAnthropic) -> None:
    fake.script(*(server_error(500) for _ in range(3)))  # the ask and the SDK's two retries
    assert run(fake) == offline()
