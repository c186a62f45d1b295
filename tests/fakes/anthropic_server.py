"""A local stand-in for the Anthropic Messages API, spoken to by the real `anthropic` SDK.

It runs in a daemon thread of the test (or bench) process, answers `POST /v1/messages` with
the wire format the SDK parses (content blocks, `usage` with cache creation and cache read
tokens), checks the headers the SDK sends (`x-api-key` or `Authorization: Bearer`, and
`anthropic-version`), and counts every call. Tests script the next answers: a normal reply
(by default one written from the lead fields of the request, so it passes our checks), a 429
with `retry-after`, a 5xx, a 529 `overloaded_error` with `x-should-retry`, a slow answer that
outlasts the client's timeout, any exact text, a `refusal` stop, or a reply cut at `max_tokens`
(half the text, `output_tokens` equal to the request's `max_tokens`).

Structured outputs: a request with `output_config.format` of type `json_schema` gets the
JSON text as its one text block, as the API answers; the schema is kept on the call so tests
can see what was asked. The Message Batches endpoints live in `anthropic_batches`.

Prompt caching is imitated the way the API documents it: a `cache_control` system prompt of
at least `cache_min_tokens` is written to the cache on first sight and read on later calls.
Tokens are estimated at four characters each.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.anthropic_batches import Batches


@dataclass(frozen=True)
class Answer:
    """What the fake does with one request."""

    status: int = 200
    text: str | None = None  # None: write a reply from the request's lead fields
    headers: dict[str, str] = field(default_factory=dict)
    hold_seconds: float = 0.0  # answer only after this long (or when released)
    stop_reason: str = "end_turn"


def ok(text: str | None = None) -> Answer:
    return Answer(text=text)


def rate_limited(retry_after: str = "0") -> Answer:
    return Answer(status=429, headers={"retry-after": retry_after})


def server_error(status: int = 500) -> Answer:
    return Answer(status=status)


def overloaded(should_retry: str | None = "true") -> Answer:
    """The API's 529, with the `x-should-retry` header it sends (None: no header)."""
    return Answer(status=529, headers={"x-should-retry": should_retry} if should_retry else {})


def refusal(text: str = "") -> Answer:
    """A reply stopped by the safety classifier: `stop_reason` "refusal", the text so far."""
    return Answer(text=text, stop_reason="refusal")


def cut(text: str | None = None) -> Answer:
    """A reply that ran out of `max_tokens`: half the text it would have written."""
    return Answer(text=text, stop_reason="max_tokens")


def slow(seconds: float = 30.0) -> Answer:
    return Answer(hold_seconds=seconds)


ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    500: "api_error",
    404: "not_found_error",
    529: "overloaded_error",
}


@dataclass
class Call:
    headers: dict[str, str]
    body: dict[str, Any]
    status: int
    peer: str = ""  # the client's host:port: one kept-alive connection shows one client

    @property
    def user_text(self) -> str:
        first = self.body.get("messages", [{}])[0].get("content", "")
        return first if isinstance(first, str) else " ".join(b.get("text", "") for b in first)


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def field_of(text: str, name: str) -> str | None:
    match = re.search(rf"^{re.escape(name)}: (.+)$", text, re.M)
    return match.group(1).strip() if match else None


def written_reply(user_text: str) -> str:
    """A draft a careful writer would produce from the request: named, one question, signed."""
    first = field_of(user_text, "first_name") or "there"
    sender = field_of(user_text, "sender_name") or "the team"
    interest = field_of(user_text, "interested_in")
    rung_match = re.search(r"rung (\d+) (email|sms)", user_text)
    rung, channel = (int(rung_match.group(1)), rung_match.group(2)) if rung_match else (1, "email")
    topic = f"your {interest}" if interest else "what you were looking into"
    if channel == "sms":
        body = f"Hi {first}, it's {sender}. Still thinking about {topic}? Happy to help by text. Reply STOP to opt out."
        if len(body) > 160:
            body = f"Hi {first}, it's {sender}. Any questions I can answer? Reply STOP to opt out."
        return json.dumps({"body": body})
    opener = {
        1: "Thanks again for getting in touch about",
        2: "I had one more idea about",
        3: "This is my last note about",
    }
    body = (
        f"Hi {first},\n\n{opener.get(rung, opener[3])} {topic}. I didn't want it to get lost in a busy week.\n\n"
        f"Would a short call help you decide, or shall I send a couple of options by email?\n\nBest,\n{sender}"
    )
    subject = f"About {topic}" if rung < 3 else "Should I close your file?"
    return json.dumps({"subject": subject, "body": body})


class FakeAnthropic:
    def __init__(
        self,
        *,
        api_key: str = "sk-ant-test",
        latency: float = 0.0,
        cache_min_tokens: int = 1024,
        writer: Callable[[str], str] = written_reply,
    ) -> None:
        self.api_key = api_key
        self.latency = latency
        self.cache_min_tokens = cache_min_tokens
        self.writer = writer
        self.calls: list[Call] = []
        self._script: deque[Answer] = deque()
        self._cached_prefixes: set[str] = set()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.batches = Batches(lambda: self.url, lambda params: self._message(params, Answer()))

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def call_count(self) -> int:
        with self._lock:
            return len(self.calls)

    def start(self) -> FakeAnthropic:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *answers: Answer) -> None:
        """The next requests get these answers, in order; afterwards normal replies again."""
        with self._lock:
            self._script.extend(answers)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._script.clear()
            self._cached_prefixes.clear()

    def respond(self, headers: dict[str, str], raw: bytes, peer: str = "") -> tuple[int, dict[str, str], bytes]:
        lowered = {k.lower(): v for k, v in headers.items()}
        problem = self._refuse(lowered)
        body = json.loads(raw or b"{}") if problem is None else {}
        with self._lock:
            answer = self._script.popleft() if self._script and problem is None else Answer()
            status = problem[0] if problem else answer.status
            self.calls.append(Call(lowered, body, status, peer))
        if answer.hold_seconds:
            self._release.wait(answer.hold_seconds)
        if self.latency:
            time.sleep(self.latency)
        if problem is not None:
            return _error(*problem)
        if answer.status != 200:
            return _error(answer.status, "scripted failure", answer.headers)
        reply = json.dumps(self._message(body, answer)).encode()
        return 200, {"content-type": "application/json", "request-id": "req_fake"}, reply

    def batch_request(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """`POST /v1/messages/batches`, `GET .../{id}` and `GET .../{id}/results`."""
        problem = self._refuse({k.lower(): v for k, v in headers.items()})
        if problem is not None:
            return _error(*problem)
        parts = path.split("?")[0].removeprefix("/v1/messages/batches").strip("/").split("/")
        json_type = {"content-type": "application/json"}
        if method == "POST" and parts == [""]:
            status, payload = self.batches.create(json.loads(raw or b"{}"))
            return status, json_type, json.dumps(payload).encode()
        if method == "GET" and len(parts) == 1 and parts[0]:
            status, payload = self.batches.retrieve(parts[0])
            return status, json_type, json.dumps(payload).encode()
        if method == "GET" and len(parts) == 2 and parts[1] == "results":
            status, lines = self.batches.results(parts[0])
            return status, {"content-type": "application/binary"}, lines
        return _error(404, f"no route {method} {path}")

    def _refuse(self, headers: dict[str, str]) -> tuple[int, str] | None:
        key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ").strip()
        if key != self.api_key:
            return 401, "invalid x-api-key"
        if not headers.get("anthropic-version"):
            return 400, "anthropic-version header is required"
        return None

    def _message(self, body: dict[str, Any], answer: Answer) -> dict[str, Any]:
        messages = body.get("messages", [])
        user_text = Call({}, body, 200).user_text
        text = answer.text if answer.text is not None else self.writer(user_text)
        if answer.stop_reason == "max_tokens":
            text = text[: len(text) // 2]
        cache_write, cache_read = self._prompt_cache(body.get("system"))
        fresh = tokens(json.dumps(messages)) + (
            0 if cache_write or cache_read else tokens(json.dumps(body.get("system")))
        )
        usage = {
            "input_tokens": fresh,
            "output_tokens": body.get("max_tokens", 0) if answer.stop_reason == "max_tokens" else tokens(text),
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
        }
        return {
            "id": f"msg_fake_{len(self.calls)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-sonnet-4-5"),
            "content": [{"type": "text", "text": text}],
            "stop_reason": answer.stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }

    def _prompt_cache(self, system: Any) -> tuple[int, int]:
        """(cache write, cache read) tokens for this system prompt, as the API would bill them."""
        if not isinstance(system, list) or not any(block.get("cache_control") for block in system):
            return 0, 0
        prefix = json.dumps(system, sort_keys=True)
        size = tokens(prefix)
        if size < self.cache_min_tokens:
            return 0, 0
        with self._lock:
            seen = prefix in self._cached_prefixes
            self._cached_prefixes.add(prefix)
        return (0, size) if seen else (size, 0)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    payload = {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}
    return status, {"content-type": "application/json", **(headers or {})}, json.dumps(payload).encode()


def _handler(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/v1/messages/batches"):
                self._send(*fake.batch_request("POST", self.path, dict(self.headers.items()), raw))
            elif self.path.split("?")[0] != "/v1/messages":
                self._send(*_error(404, f"no route {self.path}"))
            else:
                peer = f"{self.client_address[0]}:{self.client_address[1]}"
                self._send(*fake.respond(dict(self.headers.items()), raw, peer))

        def do_GET(self) -> None:
            if self.path.startswith("/v1/messages/batches"):
                self._send(*fake.batch_request("GET", self.path, dict(self.headers.items()), b""))
            else:
                self._send(*_error(404, f"no route {self.path}"))

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to tell it

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
