from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.unsubscribe import UnsubscribeClaim, claim_covers, make_token, mask_address, verify_token

SECRET = "a-test-secret"
ISSUED = date(2026, 12, 1)  # day 20788 since 1970-01-01


def test_a_token_names_tenant_channel_and_lead_and_covers_only_its_address() -> None:
    token = make_token(SECRET, tenant_id=7, channel="email", lead_id=42, address="Ann@Example.com", issued=ISSUED)

    claim = verify_token(SECRET, token)

    assert claim is not None
    assert token.split(".")[:4] == ["7", "email", "42", "20788"]
    assert (claim.tenant_id, claim.channel, claim.lead_id, claim.issued) == (7, "email", 42, ISSUED)
    assert claim_covers(SECRET, claim, "ann@example.com")  # case does not make another mailbox
    assert not claim_covers(SECRET, claim, "bob@example.com")
    assert "ann" not in token.lower()  # no address in a URL


def test_a_forged_or_foreign_token_is_refused() -> None:
    token = make_token(SECRET, tenant_id=7, channel="sms", lead_id=42, address="+15551234567", issued=ISSUED)
    tenant, channel, _lead, day, digest, signature = token.split(".")

    assert verify_token("another-secret", token) is None
    assert verify_token(SECRET, ".".join([tenant, channel, "43", day, digest, signature])) is None
    assert verify_token(SECRET, ".".join([tenant, channel, _lead, "99999", digest, signature])) is None
    assert verify_token(SECRET, ".".join([tenant, channel, _lead, digest, signature])) is None  # the day cut out
    assert verify_token(SECRET, token[:-1]) is None
    assert verify_token(SECRET, "garbage") is None


@given(st.text(max_size=80))
def test_no_text_crashes_the_verifier(text: str) -> None:
    assert verify_token(SECRET, text) is None


@pytest.mark.parametrize(
    ("channel", "address", "masked"),
    [
        ("email", "John.Smith@Example.com", "j***@example.com"),  # lower-cased, as it is stored
        ("email", "a@b.co", "a***@b.co"),
        ("email", "odd@local@example.com", "o***@example.com"),  # the last @ starts the domain
        ("email", "no-at-sign", "***"),
        ("sms", "+15551234567", "***4567"),
        ("sms", "1234", "***"),
    ],
)
def test_a_masked_address_shows_its_first_letter_and_domain_or_last_four_digits(
    channel: str, address: str, masked: str
) -> None:
    assert mask_address(channel, address) == masked


@pytest.mark.parametrize(
    ("valid_days", "age", "expired"),
    [
        (365, 365, False),
        (365, 366, True),
        (60, 60, False),
        (60, 61, True),
        (10, 60, False),  # a period under 60 days counts as 60
        (10, 61, True),
        (365, -3, False),  # issued "later" than today: a clock a little behind
    ],
)
def test_a_dated_token_expires_after_the_tenants_period_never_before_60_days(
    valid_days: int, age: int, expired: bool
) -> None:
    claim = UnsubscribeClaim(tenant_id=1, channel="email", lead_id=2, address_digest="d", issued=ISSUED)
    assert claim.expired(ISSUED + timedelta(days=age), valid_days) is expired


def test_an_undated_token_never_expires() -> None:
    claim = UnsubscribeClaim(tenant_id=1, channel="email", lead_id=2, address_digest="d", issued=None)
    assert not claim.expired(ISSUED + timedelta(days=10_000), 60)
