"""Plumbing shared by the fake provider servers: a threaded stdlib HTTP server with a memory.

A fake runs in the test process (a daemon thread) so that what it counts survives any worker
process the test kills. Tests script its next answers (`script(Reply(429, …), …)`), read what
it received (`requests`), count calls per our message id (`calls`, and `accepted` for calls
it answered 2xx, counted the moment it decides, whether or not the caller lives to read the
answer), raise a rate-limit storm on the test's clock (`storm`), and wait on it
(`wait_for_requests`) instead of sleeping.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, payload: object, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(payload).encode())


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    message_keys: list[Any]
    reply: Reply


class FakeServer:
    """Subclasses implement `answer(method, path, headers, body) -> (message keys, default reply)`."""

    def __init__(self, *, delay: float = 0.0, host: str = "127.0.0.1", port: int = 0) -> None:
        self.delay = delay
        self.requests: list[Received] = []
        self.calls: Counter[Any] = Counter()
        self.accepted: Counter[Any] = Counter()
        self._script: deque[Reply] = deque()
        self._storm: tuple[float, Callable[[], float]] | None = None
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *replies: Reply) -> None:
        """The next requests get these answers, in order; then the default again."""
        with self._cond:
            self._script.extend(replies)

    def storm(self, until: float, clock: Callable[[], float]) -> None:
        """A rate-limit storm: every send is refused (`rate_limited`) while `clock()` (epoch seconds,
        the test's own clock) is before `until`."""
        with self._cond:
            self._storm = (until, clock)

    def rate_limited(self, until: float, now: float) -> Reply:
        """The provider's 429 during a storm, with the headers it sends; subclasses say which."""
        raise NotImplementedError

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> bool:
        """Block until at least `count` requests arrived in all."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.requests) >= count, timeout=timeout)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[list[Any], Reply]:
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {
                "requests": len(self.requests),
                "calls": {str(k): v for k, v in self.calls.items()},
                "accepted": {str(k): v for k, v in self.accepted.items()},
            }

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if method == "GET" and path == "/_fake/stats":
            return Reply.json(200, self.stats())
        keys, default = self.answer(method, path, headers, body)
        with self._cond:
            reply = self._script.popleft() if self._script and keys else default
            if keys and self._storm and self._storm[1]() < self._storm[0]:
                reply = self.rate_limited(self._storm[0], self._storm[1]())
            self._count(keys, reply)
            self.requests.append(Received(method, path, headers, body, keys, reply))
            self._cond.notify_all()
        if self.delay:
            time.sleep(self.delay)
        return reply

    def _count(self, keys: Iterable[Any], reply: Reply) -> None:
        for key in keys:
            self.calls[key] += 1
            if 200 <= reply.status < 300:
                self.accepted[key] += 1


def _handler_for(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            reply = fake._handle(method, self.path, dict(self.headers.items()), body)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def serve_forever_cli(fake: FakeServer) -> None:
    """The subprocess variant: print the URL, then serve until killed (stats at GET /_fake/stats)."""
    fake.start()
    print(fake.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()
