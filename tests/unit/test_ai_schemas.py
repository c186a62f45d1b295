"""The task schemas: what the API is asked for, and what an answer must be to be used."""

from __future__ import annotations

import json

import pytest

from app.ai import schemas
from app.ai.cost import Usage, cost_usd


def test_the_writer_asks_for_subject_and_body_by_email_and_a_body_by_sms() -> None:
    assert schemas.WRITER_SCHEMAS["email"] == {
        "type": "object",
        "properties": {"subject": {"type": "string"}, "body": {"type": "string"}},
        "required": ["subject", "body"],
        "additionalProperties": False,
    }
    assert schemas.WRITER_SCHEMAS["sms"]["required"] == ["body"]
    assert schemas.output_format(schemas.INSIGHT_SCHEMA)["type"] == "json_schema"


@pytest.mark.parametrize(
    "raw",
    [
        '{"body": "Hi", "extra": 1}',  # a property the schema does not have
        '{"body": "   "}',  # blank
        '{"body": 5}',  # not text
        'Sure! {"body": "Hi"}',  # prose around the object
        "",
    ],
)
def test_an_sms_answer_outside_the_schema_is_refused(raw: str) -> None:
    assert schemas.parse(schemas.SmsDraft, raw) is None


def test_a_valid_sms_answer_is_taken() -> None:
    assert schemas.parse(schemas.SmsDraft, '{"body": "Hi Ana"}') == schemas.SmsDraft(body="Hi Ana")


@pytest.mark.parametrize(
    ("field", "value"),
    [("sentiment", True), ("sentiment", 1.5), ("sentiment", "0.2"), ("intent", "maybe"), ("priority", "urgent"),
     ("reason", "  ")],
)  # fmt: skip
def test_a_triage_answer_breaking_a_rule_is_refused(field: str, value: object) -> None:
    answer = {"intent": "question", "sentiment": 0.2, "priority": "high", "reason": "asks", "suggested_answer": ""}
    answer[field] = value
    assert schemas.parse(schemas.TriageAnswer, json.dumps(answer)) is None


def test_a_batch_answer_costs_half_of_a_direct_one() -> None:
    usage = Usage(input_tokens=1_000, output_tokens=200)
    # claude-sonnet-5-5: $2 in, $10 out per million: 0.002 + 0.002 = $0.004 direct, $0.002 in a batch.
    assert str(cost_usd("claude-sonnet-5-5", usage)) == "0.004000"
    assert str(cost_usd("claude-sonnet-5-5", usage, batch=True)) == "0.002000"
