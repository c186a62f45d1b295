"""The pure rules of personal data: digests, the spellings a value is searched in, error scrubbing."""

from __future__ import annotations

import hashlib

from app.domain import privacy


def test_a_digest_is_sha256_of_key_channel_and_the_normalised_address() -> None:
    by_hand = "sha256:" + hashlib.sha256(b"k:email:ada@example.com").hexdigest()

    assert privacy.contact_digest("k", "email", "  Ada@Example.COM ") == by_hand
    assert privacy.contact_digest("k", "sms", "+14155552671") == (
        "sha256:" + hashlib.sha256(b"k:sms:+14155552671").hexdigest()
    )
    assert privacy.contact_digest("other", "email", "ada@example.com") != by_hand


def test_a_value_is_searched_as_typed_json_escaped_and_url_encoded() -> None:
    forms = privacy.encodings('Zoë "Z" O\'Neil+1@x.org')

    assert 'Zoë "Z" O\'Neil+1@x.org' in forms
    assert 'Zo\\u00eb \\"Z\\" O\'Neil+1@x.org' in forms
    assert "Zo%C3%AB+%22Z%22+O%27Neil%2B1%40x.org" in forms
    assert "Zo%C3%AB%20%22Z%22%20O%27Neil%2B1%40x.org" in forms
    assert [len(f) for f in forms] == sorted((len(f) for f in forms), reverse=True)


def test_short_values_are_not_swept_from_unrelated_text() -> None:
    assert privacy.sweep_values(["Ann", None, "", "  Al  "]) == []
    assert "Annabel Lee" in privacy.sweep_values(["Annabel Lee"])


def test_redact_replaces_every_spelling() -> None:
    values = privacy.sweep_values(["+14155552671"])

    assert privacy.redact("From=%2B14155552671&Body=hi", values) == "From=[erased]&Body=hi"


def test_errors_lose_addresses_and_numbers_and_keep_the_reason() -> None:
    scrub = privacy.scrub_contacts

    assert scrub("SendGrid bounce: 550 5.1.1 <ada.l@example.co.uk>: no such user") == (
        "SendGrid bounce: 550 5.1.1 <[email]>: no such user"
    )
    assert scrub("Twilio 400: Invalid 'To' Phone Number: +1 (415) 555-2671") == (
        "Twilio 400: Invalid 'To' Phone Number: [phone]"
    )
    assert scrub("gave up after 5 attempts: SendGrid 503: busy") == "gave up after 5 attempts: SendGrid 503: busy"
    assert scrub(None) is None
