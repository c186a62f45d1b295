"""The SendGrid event webhook's pure parts: the signature verdict (the SDK's verifier over keys and
signatures made here), what each event means, and the body's shape."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sendgrid.helpers.eventwebhook import EventWebhook

from app.domain import sendgrid_events as domain
from app.services import sendgrid_apply, sendgrid_events
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


# --- what an event means ---------------------------------------------------------------------


def event(name: str, **fields: object) -> dict[str, object]:
    return {"event": name, "email": "Lead1@Example.com", "timestamp": 1796137200, **fields}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (event("bounce", type="bounce", status="5.1.1"), "bounce"),
        (event("bounce"), "bounce"),  # the older webhook sent no type: every bounce was hard
        (event("bounce", type="blocked", status="4.0.0"), None),
        (event("dropped", reason="Bounced Address"), "bounce"),
        (event("dropped", reason="Invalid"), "bounce"),
        (event("dropped", reason="Unsubscribed Address"), "unsubscribe"),
        (event("dropped", reason="Spam Reporting Address"), "spam"),
        (event("dropped", reason="Spam Content (if spam checker app enabled)"), None),
        (event("dropped", reason="Invalid SMTPAPI header"), None),
        (event("spamreport"), "spam"),
        (event("unsubscribe"), "unsubscribe"),
        (event("group_unsubscribe", asm_group_id=4), "unsubscribe"),
        (event("delivered"), None),
        (event("click", url="https://acme.example/pricing"), None),
    ],
)
def test_which_events_suppress_the_address_and_why(raw: dict[str, object], reason: str | None) -> None:
    facts = domain.interpret(raw)
    assert facts is not None
    assert facts.suppression_reason == reason


@pytest.mark.parametrize(
    ("name", "kind", "rank"),
    [
        ("processed", "processed", 1),
        ("deferred", "deferred", 0),
        ("delivered", "delivered", 3),
        ("open", "open", 0),
        ("click", "click", 0),
        ("bounce", "bounce", 2),
        ("dropped", "dropped", 2),
        ("spamreport", "spamreport", 0),
        ("unsubscribe", "unsubscribe", 0),
        ("group_unsubscribe", "unsubscribe", 0),
    ],
)
def test_each_known_event_has_its_kind_and_status_rank(name: str, kind: str, rank: int) -> None:
    facts = domain.interpret(event(name))
    assert facts is not None
    assert (facts.kind, facts.rank) == (kind, rank)


@pytest.mark.parametrize(
    "raw",
    [
        event("group_resubscribe"),
        event("machine_open"),
        {"email": "a@b.example", "timestamp": 1796137200},
        event("delivered", timestamp=None),
        event("delivered", timestamp="yesterday"),
        event("delivered", timestamp=True),
        event("delivered", timestamp=-1),
        event("delivered", timestamp=10**20),
    ],
)
def test_unknown_kinds_and_unusable_timestamps_are_not_acted_on(raw: dict[str, object]) -> None:
    assert domain.interpret(raw) is None


def test_an_event_is_flattened_for_the_bulk_load() -> None:
    facts = domain.interpret(
        event(
            "bounce",
            sg_event_id="ZmFrZS1ldmVudA",
            sg_message_id="14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            tenant_id="7",
            message_id="1234",
            lead_id=99,
            status="5.1.1",
            reason="550 5.1.1 no such user",
        )
    )
    assert facts is not None
    assert facts.occurred_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 1796137200 s after the epoch
    assert facts.stamp == "1796137200"
    assert facts.provider_message_id == "14c5d75ce93"
    assert facts.email == "lead1@example.com"
    assert (facts.tenant_id, facts.message_id, facts.lead_id, facts.by_custom_args) == (7, 1234, 99, True)
    assert (facts.error_code, facts.error) == ("5.1.1", "SendGrid bounce: 550 5.1.1 no such user")


@pytest.mark.parametrize(
    ("value", "parsed"), [("12", 12), (12, 12), ("x", None), (True, None), (0, None), (2**63, None)]
)
def test_custom_args_are_our_positive_bigint_ids(value: object, parsed: int | None) -> None:
    facts = domain.interpret(event("open", message_id=value))
    assert facts is not None
    assert (facts.message_id, facts.by_custom_args) == (parsed, True)


def test_without_custom_args_the_event_falls_back_to_the_provider_id() -> None:
    facts = domain.interpret(event("open", sg_message_id="abc.def"))
    assert facts is not None
    assert (facts.message_id, facts.by_custom_args, facts.provider_message_id) == (None, False, "abc")


def test_texts_postgresql_refuses_are_made_safe() -> None:
    facts = domain.interpret(event("click", url="https://a.example/\x00x", reason="\ud800 lone"))
    assert facts is not None
    assert facts.url == "https://a.example/x"
    long_id = domain.interpret(event("open", sg_event_id="e" * 500))
    assert long_id is not None
    assert long_id.sg_event_id == "sha256:" + hashlib.sha256(b"e" * 500).hexdigest()


def test_each_fact_is_staged_in_its_column() -> None:
    """The applier stages (delivery id, position, *facts) against its own column list: in step."""
    names = [name for name, _ in sendgrid_apply._COLUMNS]
    assert names[:2] == ["delivery_id", "ordinal"]
    assert list(zip(domain.EventFacts._fields, names[2:], strict=True)) == [
        ("event", "event"),
        ("kind", "kind"),
        ("seconds", "occurred_at"),
        ("stamp", "stamp"),
        ("sg_event_id", "sg_event_id"),
        ("provider_message_id", "provider_id"),
        ("email", "email"),
        ("url", "url"),
        ("url_key", "url_key"),
        ("message_id", "arg_message"),
        ("tenant_id", "arg_tenant"),
        ("lead_id", "arg_lead"),
        ("by_custom_args", "by_args"),
        ("rank", "rank"),
        ("error_code", "error_code"),
        ("error", "error"),
        ("suppression_reason", "suppression"),
    ]


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
