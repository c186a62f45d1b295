"""The contact adapters: phones through libphonenumber, emails through email-validator, and the
once-per-domain shortcut giving exactly what `validate_email` gives."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given
from hypothesis import strategies as st

from app.domain.intake.fields import Invalid, Phone
from app.services import contacts


@pytest.mark.parametrize(
    ("written", "region", "phone"),
    [
        ("(415) 555-2671", "US", Phone("+14155552671", landline=False)),  # US: fixed line or mobile, not marked
        ("+1 415 555 2671", "GB", Phone("+14155552671", landline=False)),
        ("415.555.2671 ext. 12", "US", Phone("+14155552671", landline=False)),
        ("020 7946 0958", "GB", Phone("+442079460958", landline=True)),
        ("07400 123456", "GB", Phone("+447400123456", landline=False)),
        ("0044 20 7946 0958", "GB", Phone("+442079460958", landline=True)),
        ("030 123456", "DE", Phone("+4930123456", landline=True)),
    ],
)
def test_phones_become_e164(written: str, region: str, phone: Phone) -> None:
    assert contacts.check_phone(written, region) == phone


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("call me", "'call me' is not a phone number"),
        ("+999 123", "'+999 123' has a country code that does not exist"),
        ("123", "'123' is too short for a number in US (no country code given)"),
        ("+1 212 555 01", "'+1 212 555 01' is too short for a number in +1"),
        ("020 7946 0958", "'020 7946 0958' is too long for a number in US (no country code given)"),
        ("(555) 555-5555", "'(555) 555-5555' is not a valid number in US (no country code given): no such area code"),
        ("1234567890123456789012", "'1234567890123456789012' is too long for a phone number"),
    ],
)
def test_wrong_phones_say_why(written: str, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        contacts.check_phone(written, "US")
    assert str(refused.value).startswith(reason)


def test_the_region_is_the_tenants_country_when_libphonenumber_knows_it() -> None:
    assert [contacts.region_of(c) for c in (None, "", "gb", "DE", "XX")] == ["US", "US", "GB", "DE", "US"]


def test_emails_are_lower_cased_and_checked_without_dns() -> None:
    assert contacts.check_email("Ada.Lovelace@Example.COM") == "ada.lovelace@example.com"
    assert contacts.check_email("jé@exämple.com") == "jé@exämple.com"
    with pytest.raises(Invalid, match=r"An email address cannot have two periods in a row\."):
        contacts.check_email("a..b@example.com")
    with pytest.raises(Invalid, match="special-use or reserved name"):
        contacts.check_email("a@host.test")
    with pytest.raises(Invalid, match=r"It should have a period\."):
        contacts.check_email("a@localhost")


def _whole(address: str) -> str | None:
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def _ours(address: str) -> str | None:
    try:
        return contacts.check_email(address)
    except Invalid:
        return None


local_chars = st.sampled_from(list("abcXYZ019.-_+!#$%&'*/=?^`{|}~\"@ é"))
labels = st.text(alphabet=st.sampled_from(list("abz09-_ .é")), min_size=0, max_size=12)


@given(
    st.text(local_chars, min_size=0, max_size=70),
    st.lists(labels, min_size=1, max_size=4),
    st.sampled_from(["com", "org", "test", "x", "co.uk", "123", "local"]),
)
def test_the_per_domain_shortcut_agrees_with_validate_email(local: str, parts: list[str], tld: str) -> None:
    address = f"{local}@{'.'.join([*parts, tld])}"
    assert _ours(address) == _whole(address)


@pytest.mark.parametrize(
    "address",
    [
        "a@b.com",
        "a.b@c.org",
        ".a@b.com",
        "a.@b.com",
        "a@-b.com",
        "a@b-.com",
        "a@b..com",
        "a@b.123",
        "x" * 65 + "@b.com",
        "a@" + "b" * 64 + ".com",
        "a@" + ".".join(["b" * 60] * 5) + ".com",
        '"quoted"@b.com',
        "a b@c.com",
    ],
)
def test_the_shortcut_agrees_on_edge_cases(address: str) -> None:
    assert _ours(address) == _whole(address)
