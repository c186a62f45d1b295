"""The two contact adapters the intake rules take (`app.domain.intake.rows.Rules`): phones read
with `phonenumbers` (Google's libphonenumber), emails checked with `email-validator`.

Phones become E.164. A number written without a country code is read in the tenant's country
(`tenants.country`, US when unset). A number the numbering plan calls a fixed line is kept and
marked as one (`Phone.landline`): the intake marks the lead's phone unreachable for texts
(`leads.phone_unreachable`), keeps the lead's SMS consent as given, and the sender never texts
it, while a rep can still call it. Numbers the plan cannot tell apart (most North American
numbers are "fixed line or mobile") are not marked: the carrier tells us later (Twilio 21614).

Emails: syntax only, no DNS (`check_deliverability=False`), stored lower-cased so a lead is
found again however the next file spells it. The domain part's check (IDNA, special-use names,
label rules) is the costly half of `validate_email` and is the same for every address of a
domain, so it runs once per domain; a local part that is a plain RFC 5322 dot-atom (what
email-validator accepts without further rules) is joined to it, anything else goes through
`validate_email` whole. A test holds the two paths equal.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType, ValidationResult

from app.domain.intake.fields import Invalid, Phone

DEFAULT_REGION = "US"
MAX_EMAIL = 254
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "has a country code that does not exist",
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_LONG: "is too long for a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short after its international prefix",
    NumberParseException.TOO_SHORT_NSN: "is too short for a phone number",
}
_LENGTH = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "the wrong length",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number without its area code",
}


def region_of(country: str | None) -> str:
    """The region phones are read in: the tenant's country when libphonenumber knows it, else US."""
    code = (country or "").upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else DEFAULT_REGION


def check_phone(text: str, region: str) -> Phone:
    """The number in E.164 and whether it is a fixed line; `Invalid` saying what is wrong."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        raise Invalid(f"{text!r} {_PARSE_ERRORS.get(error.error_type, 'is not a phone number')}") from None
    kind = phonenumbers.number_type(number)  # UNKNOWN exactly when is_valid_number is False
    if kind == PhoneNumberType.UNKNOWN:
        where = (
            f"+{number.country_code}" if text.lstrip().startswith(("+", "00")) else f"{region} (no country code given)"
        )
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason in _LENGTH:
            raise Invalid(f"{text!r} is {_LENGTH[reason]} for a number in {where}")
        raise Invalid(f"{text!r} is not a valid number in {where}: no such area code or prefix")
    return Phone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        landline=kind == PhoneNumberType.FIXED_LINE,
    )


def check_email(text: str) -> str:
    """The address as stored (lower case, the domain normalised); `Invalid` with email-validator's reason."""
    local, at, domain = text.rpartition("@")
    if at and domain.isascii() and len(text) <= MAX_EMAIL and len(local) <= 64 and _DOT_ATOM.match(local):
        return f"{local}@{_domain(domain.lower())}".lower()
    return _whole(text)


@functools.lru_cache(maxsize=65_536)
def _domain(domain: str) -> str:
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError as error:
        raise Invalid(str(error)) from None


def _whole(text: str) -> str:
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise Invalid(str(error)) from None
