"""The ingest bench's load: SendGrid event batches like the provider's, and the clients that post them.

A batch is 1,000 events for the seeded messages, a realistic mix of kinds, 10 % of them copies of
recent events (half of those under a new `sg_event_id`, as SendGrid redelivers).
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

BATCH = 1000
DUPLICATE_SHARE = 0.10
KINDS = (  # a realistic mix of what SendGrid reports for re-engagement mail
    ("processed", 0.24),
    ("delivered", 0.30),
    ("open", 0.25),
    ("click", 0.10),
    ("deferred", 0.03),
    ("bounce", 0.02),
    ("dropped", 0.01),
    ("unsubscribe", 0.01),
    ("spamreport", 0.005),
    ("group_resubscribe", 0.035),  # a type we store and ignore
)


@dataclass(frozen=True)
class Message:
    id: int
    tenant_id: int
    lead_id: int
    to_address: str
    provider_message_id: str


@dataclass
class Generator:
    """Makes batches of events for the seeded messages: unique ones, plus duplicates of recent ones."""

    messages: list[Message]
    rng: random.Random
    counter: int = 0
    recent: list[dict[str, Any]] = field(default_factory=list)
    unique_known: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def batch(self) -> bytes:
        with self.lock:
            events = [self._one() for _ in range(BATCH)]
        return json.dumps(events, separators=(",", ":")).encode()

    def _one(self) -> dict[str, Any]:
        if self.recent and self.rng.random() < DUPLICATE_SHARE:
            copy = dict(self.rng.choice(self.recent))
            if self.rng.random() < 0.5:  # SendGrid sometimes redelivers under a new id
                copy["sg_event_id"] = f"re-{self.counter}-{copy['sg_event_id']}"
                self.counter += 1
            return copy
        self.counter += 1
        message = self.messages[self.rng.randrange(len(self.messages))]
        kind = self.rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
        event: dict[str, Any] = {
            "email": message.to_address,
            "timestamp": 1_764_000_000 + self.counter,  # distinct natural keys for distinct events
            "event": kind,
            "sg_event_id": f"ev-{self.counter}",
            "sg_message_id": f"{message.provider_message_id}.filter0001.{message.id}.0",
            "tenant_id": str(message.tenant_id),
            "message_id": str(message.id),
            "lead_id": str(message.lead_id),
            "category": ["lead-recovery", "rung-1"],
        }
        if kind == "click":
            event["url"] = "https://www.example.com/offer"
        if kind == "bounce":
            event.update({"type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 unknown user"})
        if kind == "dropped":
            event["reason"] = "Bounced Address"
        if kind != "group_resubscribe":
            self.unique_known += 1
        self.recent.append(event)
        if len(self.recent) > 5_000:
            del self.recent[:1_000]
        return event


@dataclass(frozen=True)
class Payload:
    """One signed POST, made before the clock starts."""

    body: bytes
    headers: dict[str, str]
    distinct: int
    """Events in it that no earlier payload carried (known kinds only): what should land once."""


def prepare(key: ec.EllipticCurvePrivateKey, generator: Generator, count: int) -> list[Payload]:
    """`count` batches, generated and signed now, in the order they are to be sent.

    SendGrid's side of the wire is not ours to measure, and on a 2-core machine generating a
    batch (~10 ms) and signing it cost the api a fifth of a core during the timed window. The
    signatures' timestamp is now: the door accepts it for 5 minutes.
    """
    stamp = str(int(time.time()))
    payloads = []
    for _ in range(count):
        known = generator.unique_known
        body = generator.batch()
        signature = base64.b64encode(key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
        headers = {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        }
        payloads.append(Payload(body, headers, generator.unique_known - known))
    return payloads


@dataclass(frozen=True)
class Timing:
    at: float
    """Seconds from the start of the load to the request's start."""
    ms: float
    status: int
    events: int
    distinct: int


def load(port: int, payloads: list[Payload], *, seconds: float, clients: int, rate: float) -> list[Timing]:
    """`clients` threads post the payloads, in order, on kept-alive connections until `seconds` have
    passed (or the payloads run out).

    With a `rate`, the load is open-loop: each client has its schedule of send times (together
    `rate` events a second) and sends as soon as it falls behind, so a slow answer shows as
    latency rather than as a politely lower offered load.
    """
    began = time.monotonic()
    deadline = began + seconds
    timings: list[Timing] = []
    lock = threading.Lock()
    queue = iter(payloads)

    interval = clients * BATCH / rate if rate else 0.0

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[Timing] = []
        due = time.monotonic() + index * interval / clients
        while time.monotonic() < deadline:
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # pacing the offered load, not synchronisation
            due += interval
            with lock:
                payload = next(queue, None)
            if payload is None:
                break
            at = time.monotonic() - began
            started = time.perf_counter()
            conn.request("POST", "/webhooks/sendgrid/events", body=payload.body, headers=payload.headers)
            response = conn.getresponse()
            response.read()
            ms = (time.perf_counter() - started) * 1000
            mine.append(Timing(at, ms, response.status, BATCH, payload.distinct))
        conn.close()
        with lock:
            timings.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings
