"""Claude as the writer, through the official SDK's Messages API.

A batch of due sends must finish even when the API does not answer, so nothing here waits
long: the SDK's own retries are off (`max_retries=0`) and we decide. A 429 is honoured once
when its `retry-after` is short, otherwise the lead gets the offline writer and Claude is
paused for the rest of the wait; timeouts, connection errors and 5xx count as failures, and
after a few in a row the writer pauses instead of spending the whole batch on a dead API.
Credentials that are refused pause it for good (the batch cannot fix them).

A draft that fails `app.domain.messages.check` is sent back once with the reasons; a second
failure falls back too. Thinking blocks (newer models think by default) are ignored: only
the text is the draft. Every call's tokens are returned, kept or not, because they were paid.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from anthropic import (
    Anthropic,
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from anthropic.types import Message, MessageParam

from app.ai import prompt
from app.ai.context import LeadContext
from app.ai.cost import Usage
from app.domain.messages import Draft, check, with_sms_opt_out
from app.settings import Settings

DEFAULT_TIMEOUT = 30.0
MAX_RETRY_WAIT = 2.0
FAILURES_BEFORE_PAUSE = 3
PAUSE_SECONDS = 60.0
REFUSED_PAUSE_SECONDS = 3600.0
ATTEMPTS = 2

UNPARSABLE = "the reply was not the JSON object asked for"


class ClaudeUnavailable(Exception):
    """The API did not give us a draft this time; the caller falls back."""


class _RateLimited(Exception):
    def __init__(self, wait: float | None) -> None:
        super().__init__(f"rate limited (retry-after {wait})")
        self.wait = wait


@dataclass(frozen=True)
class ClaudeResult:
    draft: Draft | None
    model: str
    usage: Usage
    calls: int
    latency_ms: int
    problems: tuple[str, ...] = ()
    raw: str = ""

    @property
    def ok(self) -> bool:
        return self.draft is not None and not self.problems


class ClaudeWriter:
    """One writer per batch: its pause state is about this batch's view of the API, not global."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retry_wait: float = MAX_RETRY_WAIT,
    ) -> None:
        self.model = model
        self.max_retry_wait = max_retry_wait
        self.calls = 0
        self._client = Anthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        self._failures = 0
        self._paused_until = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> ClaudeWriter | None:
        """A writer when a key is configured; None means offline, and no network at all."""
        if settings.anthropic_api_key is None:
            return None
        base_url = str(settings.anthropic_base_url).rstrip("/") if settings.anthropic_base_url else None
        key = settings.anthropic_api_key.get_secret_value()
        return cls(api_key=key, model=settings.anthropic_model, base_url=base_url, **options)

    def close(self) -> None:
        self._client.close()

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._paused_until

    def write(self, context: LeadContext) -> ClaudeResult:
        """Ask for a draft, retry once with the reasons if it fails the checks."""
        started, calls_before = time.monotonic(), self.calls
        messages: list[MessageParam] = [{"role": "user", "content": prompt.user_content(context)}]
        usage, raw = Usage(), ""
        problems: tuple[str, ...] = ("not attempted",)
        draft: Draft | None = None
        for _ in range(ATTEMPTS):
            try:
                reply = self._create(messages, context.channel)
            except ClaudeUnavailable as error:
                problems = (str(error),)
                break
            usage, raw = usage + usage_of(reply), text_of(reply)
            draft = parse_reply(raw, context.channel)
            problems = (UNPARSABLE,) if draft is None else tuple(check(draft, context.facts()).problems)
            if not problems:
                break
            messages = [{"role": "user", "content": prompt.retry_content(context, raw, problems)}]
        latency_ms = int((time.monotonic() - started) * 1000)
        return ClaudeResult(draft, self.model, usage, self.calls - calls_before, latency_ms, problems, raw)

    def _create(self, messages: list[MessageParam], channel: str) -> Message:
        """One call, plus one retry after a short `retry-after`."""
        try:
            return self._send(messages, channel)
        except _RateLimited as limited:
            if limited.wait is None or limited.wait > self.max_retry_wait:
                self._pause(limited.wait or PAUSE_SECONDS)
                raise ClaudeUnavailable(str(limited)) from None
            time.sleep(limited.wait)
        try:
            return self._send(messages, channel)
        except _RateLimited as again:
            self._pause(again.wait or PAUSE_SECONDS)
            raise ClaudeUnavailable(f"still {again}") from None

    def _send(self, messages: list[MessageParam], channel: str) -> Message:
        if not self.available:
            raise ClaudeUnavailable("paused after earlier API failures")
        self.calls += 1
        options: dict[str, Any] = {}
        if prompt.supports_effort(self.model):
            options["output_config"] = {"effort": prompt.EFFORT}
        try:
            reply = self._client.messages.create(
                model=self.model,
                max_tokens=prompt.MAX_TOKENS[channel],
                system=[{"type": "text", "text": prompt.SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}],
                messages=messages,
                **options,
            )
        except RateLimitError as error:
            raise _RateLimited(retry_after(error.response.headers)) from None
        except (AuthenticationError, PermissionDeniedError, NotFoundError) as error:
            self._pause(REFUSED_PAUSE_SECONDS)
            raise ClaudeUnavailable(f"refused: HTTP {error.status_code}") from None
        except APIStatusError as error:
            self._fail()
            raise ClaudeUnavailable(f"HTTP {error.status_code}") from None
        except APIConnectionError as error:
            self._fail()
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


OPEN_BRACE = re.compile(r"\{")
DECODER = json.JSONDecoder(strict=False)


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object with a body in `text`, whatever prose or code fences surround it."""
    for match in OPEN_BRACE.finditer(text):
        try:
            value, _ = DECODER.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and "body" in value:
            return value
    return None


def parse_reply(text: str, channel: str) -> Draft | None:
    data = first_json_object(text)
    body = data.get("body") if data else None
    if not isinstance(body, str) or not body.strip():
        return None
    if channel == "sms":
        return Draft("sms", with_sms_opt_out(" ".join(body.split())))
    subject = data.get("subject") if data else None
    clean_subject = " ".join(subject.split()) if isinstance(subject, str) else None
    return Draft(channel, body.strip().replace("\r\n", "\n"), clean_subject)
