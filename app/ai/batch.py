"""A Message Batch's answers standing in for Claude when the batch agent writes the deferred sends.

The writer asks its `Drafter` for a draft; here the draft is already in: the stored result of
the lead's batch request, judged exactly as a direct answer is (stop reason, schema, checks).
There is no second ask: a refusal, a cut, an answer failing the checks, an errored, canceled
or expired request, or no answer before the slot, and the writer falls back to the offline
writer. Answers are billed at batch prices (`ClaudeResult.batch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from anthropic.types import Message

from app.ai.claude import ClaudeResult, judge, usage_of
from app.ai.context import LeadContext
from app.ai.cost import Usage


@dataclass(frozen=True)
class StoredResult:
    """One request's outcome as the batch reported it: its type and, when it succeeded, the Message."""

    result_type: str | None  # None: the batch has not answered (yet)
    message: dict[str, Any] | None = None


class BatchAnswers:
    """The stored answers of one pass, by lead; leads without one get a failure (and the offline writer)."""

    def __init__(self, model: str, answers: dict[int, StoredResult]) -> None:
        self.model = model
        self.answers = answers

    @property
    def available(self) -> bool:
        return True

    def close(self) -> None:
        """Nothing to release."""

    def write(self, context: LeadContext) -> ClaudeResult:
        stored = self.answers.get(context.lead_id, StoredResult(None))
        if stored.result_type != "succeeded" or stored.message is None:
            problem = f"batch request {stored.result_type}" if stored.result_type else "no batch answer before the slot"
            return ClaudeResult(None, self.model, Usage(), 0, 0, (problem,), batch=True)
        message = Message.model_validate(stored.message)
        judged = judge(message, context)
        draft = judged.draft if not judged.problems else None
        usage = usage_of(message)
        return ClaudeResult(draft, message.model, usage, 1, 0, judged.problems, judged.raw, message.stop_reason, True)
