"""The JSON shape of each Claude task (writer, insight, triage), sent as a structured output and validated.

Why `output_config.format` and not forced tool use: the installed SDK (anthropic 2.12) sends
`output_config={"format": {"type": "json_schema", "schema": ...}}` on `messages.create`, and
the API then constrains decoding to the schema, so the answer is the text block itself and
costs no tool-definition tokens. We still validate every answer with pydantic, because a
refusal, a `max_tokens` cut, a proxy or a model without structured outputs can hand back
something else, and what is not valid is never used.

The schemas are written by hand in the subset structured outputs accepts (objects with
`additionalProperties: false`, every property required, enums); the pydantic models carry the
checks the schema language cannot (non-blank text, sentiment within -1..1).
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


def _object(properties: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


TEXT: dict[str, Any] = {"type": "string"}


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _not_blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be blank")
        return value


class EmailDraft(_Answer):
    subject: str
    body: str


class SmsDraft(_Answer):
    body: str


class InsightAnswer(_Answer):
    why_silent: str
    next_step: str


IntentName = Literal[
    "interested", "question", "not_now", "not_interested", "unsubscribe", "out_of_office", "wrong_person"
]
INTENTS: tuple[str, ...] = get_args(IntentName)
PRIORITIES = ("high", "medium", "low")


class TriageAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    intent: IntentName
    sentiment: float = Field(ge=-1, le=1)
    priority: Literal["high", "medium", "low"]
    reason: str = Field(pattern=r"\S")
    suggested_answer: str

    @field_validator("sentiment", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("sentiment must be a number")
        return value


WRITER_SCHEMAS: dict[str, dict[str, Any]] = {
    "email": _object({"subject": TEXT, "body": TEXT}),
    "sms": _object({"body": TEXT}),
}
INSIGHT_SCHEMA = _object({"why_silent": TEXT, "next_step": TEXT})
TRIAGE_SCHEMA = _object(
    {
        "intent": {"type": "string", "enum": list(INTENTS)},
        "sentiment": {"type": "number"},
        "priority": {"type": "string", "enum": list(PRIORITIES)},
        "reason": TEXT,
        "suggested_answer": TEXT,
    }
)


T = TypeVar("T", bound=BaseModel)


def output_format(schema: dict[str, Any]) -> Any:
    """The `output_config.format` value asking the API for `schema` (typed loosely: the SDK wants its TypedDict)."""
    return {"type": "json_schema", "schema": schema}


def parse(model: type[T], raw: str) -> T | None:
    """`raw` as a valid `model`, or None (not JSON, wrong shape, blank or out-of-range values)."""
    try:
        return model.model_validate(json.loads(raw, strict=False))
    except (ValueError, ValidationError):
        return None


def writer_model(channel: str) -> type[EmailDraft] | type[SmsDraft]:
    return SmsDraft if channel == "sms" else EmailDraft
