"""Claude as the writer, through the official SDK's Messages API, answering in a JSON schema.

A batch of due sends must finish even when the API does not answer, so nothing here waits
long. Transient failures (429, 5xx, 529 overloaded, whatever `x-should-retry` allows) are
retried by the SDK a bounded number of times with waits capped by `app.ai.client`; what still
fails counts here: a rate limit pauses Claude for the wait the API asked, and a few failures in
a row pause the writer instead of spending the whole batch on a dead API. Credentials that are
refused pause it for good (the batch cannot fix them).

The answer is a structured output (`app.ai.schemas`), and `stop_reason` is read before it:
a `refusal` is final (asking again would be paid twice for the same no) and the lead gets the
offline writer; a `max_tokens` cut is asked once more with twice the room. A valid draft that
fails `app.domain.messages.check` is sent back once with the reasons; a second failure falls
back too. Every call's tokens are returned, kept or not, because they were paid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from anthropic import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from anthropic.types import Message, MessageParam

from app.ai import client as clients
from app.ai import health, prompt, schemas
from app.ai.context import LeadContext
from app.ai.cost import Usage
from app.domain.messages import Draft, check, with_sms_opt_out
from app.settings import Settings

DEFAULT_TIMEOUT = 30.0
MAX_RETRY_WAIT = clients.MAX_WAIT
FAILURES_BEFORE_PAUSE = 3
PAUSE_SECONDS = 60.0
REFUSED_PAUSE_SECONDS = 3600.0
ATTEMPTS = 2  # drafts judged by our checks: the first and one corrected
ROOM_GROWTH = 2  # a reply cut at max_tokens is asked once more with this much more room

UNPARSABLE = "the reply was not the JSON object asked for"
REFUSED = "Claude declined to write this message"
CUT = "the reply was cut at max_tokens twice"


class ClaudeUnavailable(Exception):
    """The API did not give us a draft this time; the caller falls back."""


@dataclass(frozen=True)
class ClaudeResult:
    draft: Draft | None
    model: str
    usage: Usage
    calls: int
    latency_ms: int
    problems: tuple[str, ...] = ()
    raw: str = ""
    stop_reason: str | None = None
    batch: bool = False  # answered through the Message Batches API: billed at batch prices

    @property
    def ok(self) -> bool:
        return self.draft is not None and not self.problems


@dataclass(frozen=True)
class Judged:
    """What one reply gives: a draft that passed (no problems), or the reasons it cannot be used."""

    draft: Draft | None
    problems: tuple[str, ...]
    raw: str
    final: bool  # no point asking again (a refusal)


def request_params(model: str, messages: list[MessageParam], channel: str, max_tokens: int) -> dict[str, Any]:
    """The Messages API request for a draft, shared by direct calls and batch requests."""
    config: dict[str, Any] = {"format": schemas.output_format(schemas.WRITER_SCHEMAS[channel])}
    if prompt.supports_effort(model):
        config["effort"] = prompt.EFFORT
    return {
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": prompt.SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}],
        "messages": messages,
        "output_config": config,
    }


def first_request(model: str, context: LeadContext) -> dict[str, Any]:
    messages: list[MessageParam] = [{"role": "user", "content": prompt.user_content(context)}]
    return request_params(model, messages, context.channel, prompt.MAX_TOKENS[context.channel])


def judge(reply: Message, context: LeadContext) -> Judged:
    """Read the stop reason, then the structured answer, then our checks."""
    raw = text_of(reply)
    if reply.stop_reason == "refusal":
        return Judged(None, (REFUSED,), raw, final=True)
    if reply.stop_reason == "max_tokens":
        return Judged(None, (CUT,), raw, final=False)
    draft = parse_reply(raw, context.channel)
    if draft is None:
        return Judged(None, (UNPARSABLE,), raw, final=False)
    return Judged(draft, tuple(check(draft, context.facts()).problems), raw, final=False)


class ClaudeWriter:
    """One writer per batch: its pause state is this batch's view of the API; the client is the process's."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retry_wait: float = MAX_RETRY_WAIT,
        max_retries: int = clients.MAX_RETRIES,
    ) -> None:
        self.model = model
        self.timeout = timeout
        self.calls = 0
        self._client = clients.shared(
            api_key=api_key, base_url=base_url, max_retries=max_retries, max_wait=max_retry_wait
        )
        self._failures = 0
        self._paused_until = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> ClaudeWriter | None:
        """A writer when a key is configured; None means offline, and no network at all."""
        if settings.anthropic_api_key is None:
            return None
        key = settings.anthropic_api_key.get_secret_value()
        return cls(api_key=key, model=settings.anthropic_model, base_url=clients.base_url(settings), **options)

    def close(self) -> None:
        """Nothing to release: the client is shared by the process (kept for `with Writer`)."""

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._paused_until

    def write(self, context: LeadContext) -> ClaudeResult:
        """Ask for a draft; one more ask after a max_tokens cut, one more with the reasons after failed checks."""
        started, calls_before = time.monotonic(), self.calls
        messages: list[MessageParam] = [{"role": "user", "content": prompt.user_content(context)}]
        room, grown, checked = prompt.MAX_TOKENS[context.channel], False, 0
        usage, stop = Usage(), None
        judged = Judged(None, ("not attempted",), "", final=True)
        while True:
            try:
                reply = self._send(request_params(self.model, messages, context.channel, room))
            except ClaudeUnavailable as error:
                judged = Judged(None, (str(error),), judged.raw, final=True)
                break
            usage, stop = usage + usage_of(reply), reply.stop_reason
            judged = judge(reply, context)
            if not judged.problems or judged.final:
                break
            if stop == "max_tokens":
                if grown:
                    break
                room, grown = room * ROOM_GROWTH, True
                continue
            checked += 1
            if checked >= ATTEMPTS:
                break
            messages = [{"role": "user", "content": prompt.retry_content(context, judged.raw, judged.problems)}]
        latency_ms = int((time.monotonic() - started) * 1000)
        calls = self.calls - calls_before
        return ClaudeResult(judged.draft, self.model, usage, calls, latency_ms, judged.problems, judged.raw, stop)

    def _send(self, params: dict[str, Any]) -> Message:
        """One request (the SDK's bounded retries inside it); failures become pauses and ClaudeUnavailable."""
        if not self.available:
            raise ClaudeUnavailable("paused after earlier API failures")
        self.calls += 1
        try:
            reply = self._client.messages.create(**params, timeout=self.timeout)
        except RateLimitError as error:
            wait = retry_after(error.response.headers)
            self._pause(wait or PAUSE_SECONDS)
            health.note_fallback("HTTP 429 rate limited")
            raise ClaudeUnavailable(f"rate limited (retry-after {wait})") from None
        except (AuthenticationError, PermissionDeniedError, NotFoundError) as error:
            self._pause(REFUSED_PAUSE_SECONDS)
            raise ClaudeUnavailable(f"refused: HTTP {error.status_code}") from None
        except APIStatusError as error:
            self._fail()
            if error.status_code >= 500:  # overloaded (529) or down: the API's trouble, not our request's
                health.note_fallback(f"HTTP {error.status_code}")
            raise ClaudeUnavailable(f"HTTP {error.status_code}") from None
        except APIConnectionError as error:
            self._fail()
            health.note_fallback(type(error).__name__)
            raise ClaudeUnavailable(type(error).__name__) from None
        self._failures = 0
        return reply

    def _fail(self) -> None:
        self._failures += 1
        if self._failures >= FAILURES_BEFORE_PAUSE:
            self._pause(PAUSE_SECONDS)

    def _pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)


def retry_after(headers: Any) -> float | None:
    """Seconds the API asks us to wait: `retry-after-ms`, `retry-after` seconds, or an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def usage_of(reply: Message) -> Usage:
    usage = reply.usage
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_input_tokens or 0,
        cache_write_tokens=usage.cache_creation_input_tokens or 0,
    )


def text_of(reply: Message) -> str:
    return "".join(getattr(block, "text", "") for block in reply.content if block.type == "text")


def parse_reply(text: str, channel: str) -> Draft | None:
    """The structured answer as a Draft, or None when it is not exactly the channel's schema."""
    answer = schemas.parse(schemas.writer_model(channel), text)
    if isinstance(answer, schemas.SmsDraft):
        return Draft("sms", with_sms_opt_out(" ".join(answer.body.split())))
    if isinstance(answer, schemas.EmailDraft):
        return Draft(channel, answer.body.strip().replace("\r\n", "\n"), " ".join(answer.subject.split()))
    return None
