"""The SendGrid event webhook's pure parts: the signature verdict (the SDK's verifier over keys and
signatures made here), the body's shape, and the rewrite of a body PostgreSQL cannot read."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sendgrid.helpers.eventwebhook import EventWebhook

from app.domain import sendgrid_events as domain
from app.services import sendgrid_events
from app.services.sendgrid_events import signature_problem
from app.settings import get_settings
from tests.sendgrid_signing import new_key

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp()))
BODY = b'[{"event":"delivered","email":"lead1@example.com","timestamp":1796137200}]'
KEY = new_key()


def verdict(
    *,
    key: str | None = KEY.public_b64,
    body: bytes = BODY,
    signature: str | None = None,
    timestamp: str | None = STAMP,
    now: datetime = NOW,
) -> str | None:
    signed = KEY.sign(timestamp or STAMP, BODY) if signature is None else signature
    return signature_problem(public_key=key, text=body.decode(), signature=signed, timestamp=timestamp, now=now)


def test_the_sdk_accepts_what_the_test_signer_signs_and_nothing_altered() -> None:
    """The test signer follows SendGrid's construction: the SDK itself agrees."""
    sdk = EventWebhook(KEY.public_b64)
    assert sdk.verify_signature(BODY.decode(), KEY.sign(STAMP, BODY), STAMP) is True
    assert sdk.verify_signature(BODY.decode() + " ", KEY.sign(STAMP, BODY), STAMP) is False
    assert sdk.verify_signature(BODY.decode(), KEY.sign(STAMP, BODY), str(int(STAMP) + 1)) is False


def test_a_fresh_signature_over_the_exact_body_is_trusted() -> None:
    assert verdict() is None
    # 5 minutes either way is still inside the window
    assert verdict(now=NOW + timedelta(minutes=5)) is None
    assert verdict(now=NOW - timedelta(minutes=5)) is None


@pytest.mark.parametrize(
    ("case", "kwargs", "expected"),
    [
        ("tampered body", {"body": BODY.replace(b"delivered", b"bounce")}, "does not match"),
        ("another timestamp", {"signature": KEY.sign(str(int(STAMP) - 10), BODY)}, "does not match"),
        ("another key", {"key": new_key().public_b64}, "does not match"),
        ("stale", {"now": NOW + timedelta(minutes=5, seconds=1)}, "more than 5 minutes"),
        ("from the future", {"now": NOW - timedelta(minutes=5, seconds=1)}, "more than 5 minutes"),
        ("no signature", {"signature": ""}, "missing"),
        ("no timestamp", {"timestamp": None}, "missing"),
        ("timestamp not seconds", {"timestamp": "2026-12-01T15:00:00Z"}, "not Unix seconds"),
        ("signature not base64", {"signature": "%%%"}, "does not match"),
        ("signature not ascii", {"signature": "é" * 8}, "does not match"),
        ("signature of garbage bytes", {"signature": base64.b64encode(b"x" * 70).decode()}, "does not match"),
        ("no key configured", {"key": None}, "no SENDGRID_WEBHOOK_PUBLIC_KEY"),
        ("key not base64 DER", {"key": "bm90IGEga2V5"}, "not an ECDSA P-256"),
    ],
)
def test_anything_else_is_refused_with_its_reason(case: str, kwargs: dict[str, object], expected: str) -> None:
    problem = verdict(**kwargs)  # type: ignore[arg-type]
    assert problem is not None, case
    assert expected in problem, case


def test_an_rsa_key_is_not_a_sendgrid_key() -> None:
    der = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    problem = verdict(key=base64.b64encode(der).decode())
    assert problem is not None
    assert "not an ECDSA P-256" in problem


@pytest.fixture
def configured_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    pem = KEY.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv("SENDGRID_WEBHOOK_PUBLIC_KEY", pem.decode())
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("SENDGRID_WEBHOOK_PUBLIC_KEY")
    get_settings.cache_clear()


def test_a_key_pasted_as_pem_is_read_as_its_base64(configured_key: None) -> None:
    assert sendgrid_events.webhook_public_key() == KEY.public_b64


# --- what PostgreSQL cannot read (what each event means is read in PostgreSQL: tests/integration/sendgrid)


def test_a_body_postgresql_refuses_is_rewritten_with_the_same_events() -> None:
    body = '[{"event": "click", "url": "https://a.example/\\u0000x", "reason": "\\ud800 lone", "\\u0000k": 1e999}]'
    rewritten = domain.storable(body)
    assert "\\u0000" not in rewritten
    assert "\\ud800" not in rewritten
    assert json.loads(rewritten) == [{"event": "click", "url": "https://a.example/x", "reason": "? lone", "k": {}}]


def test_a_body_already_readable_keeps_its_events() -> None:
    events = [{"event": "open", "timestamp": 1796137200, "sg_event_id": "é", "message_id": "12", "n": [1, 2.5, None]}]
    assert json.loads(domain.storable(json.dumps(events))) == events


def test_what_is_not_a_batch_is_not_rewritten() -> None:
    with pytest.raises(domain.MalformedBatch, match="got an object"):
        domain.storable('{"event": "open"}')


# --- the body's shape ------------------------------------------------------------------------


def test_a_body_is_an_array_of_objects() -> None:
    assert domain.parse_batch('[{"event": "open"}, {}]') == [{"event": "open"}, {}]
    assert domain.parse_batch("[]") == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"event": "open"}', "got an object"),
        ("[1, 2]", "event 0 is a number"),
        ('[{"event": "open"}, "x"]', "event 1 is a string"),
        ('[{"event": "open"', "malformed JSON"),
        ('[{"timestamp": NaN}]', "malformed JSON"),
        ("[" * 100_000 + "]" * 100_000, "malformed JSON"),
        ("", "malformed JSON"),
    ],
)
def test_anything_else_is_malformed(body: str, expected: str) -> None:
    with pytest.raises(domain.MalformedBatch, match=expected):
        domain.parse_batch(body)
