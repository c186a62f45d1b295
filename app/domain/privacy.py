"""Rules of personal data: how an erased contact is remembered without being kept, how a value is
found however a stored text encoded it, and how contact details are scrubbed from error texts.

An erased lead's addresses survive only as keyed digests (`contact_digest`): enough to refuse
the same address when it is imported again, never enough to read it back, and useless to
anyone without the server's key. The database computes the same digest in SQL
(`DIGEST_SQL`), so intake can match a whole batch in one statement.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.parse
from collections.abc import Iterable

DIGEST_PREFIX = "sha256:"
"""Marks a suppression whose address is a digest (reason `erased`), never a readable address."""
REDACTED = "[erased]"
ERASED_FIRST_NAME = "Erased"
KEY_PURPOSE = b"lre.erasure.v1"

DIGEST_SQL = (
    f"'{DIGEST_PREFIX}' || encode(sha256(convert_to("
    "CAST(:digest_key AS text) || ':' || {channel} || ':' || {address}, 'UTF8')), 'hex')"
)
"""The SQL twin of `contact_digest`, formatted with the SQL of the channel and the normalised address."""

EMAIL_SQL_PATTERN = "[A-Za-z0-9._%+!#$&*=?^`{|}~-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+"
"""Email addresses, as a PostgreSQL regular expression (for errors scrubbed in SQL)."""
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"(?<![\w+])\+\d[\d ().-]{6,}\d(?!\w)")
"""International numbers (a '+' first), as we store and send them and providers echo them; bare
digit runs are left alone, since SMTP codes ("550 5.1.1"), dates and ids are digits too."""
MIN_SWEEP_LENGTH = 5
"""Values shorter than this are not swept from unrelated rows: "Ann" would maul "Annual"."""


def digest_key(secret: str) -> str:
    """The key of the digests, derived from the server's secret for this one purpose.

    Rotating SECRET_KEY forgets which erased addresses were seen: keep it stable.
    """
    return hmac.new(secret.encode(), KEY_PURPOSE, hashlib.sha256).hexdigest()


def normalise(channel: str, address: str) -> str:
    """Emails compare lower-cased and trimmed; phones as stored (E.164), trimmed."""
    cleaned = address.strip()
    return cleaned.lower() if channel == "email" else cleaned


def contact_digest(key: str, channel: str, address: str) -> str:
    """The stored form of an erased address (see `DIGEST_SQL` for the same in SQL)."""
    raw = f"{key}:{channel}:{normalise(channel, address)}".encode()
    return DIGEST_PREFIX + hashlib.sha256(raw).hexdigest()


def encodings(value: str) -> list[str]:
    """The ways a stored text may spell `value`: as is, inside JSON, and URL-encoded (form
    bodies of Twilio, query strings), longest first so a replacement never leaves a tail."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value, safe=""),
        urllib.parse.quote(value, safe="@"),
        urllib.parse.quote_plus(value, safe="@"),
    }
    return sorted((form for form in forms if form), key=len, reverse=True)


def sweep_values(values: Iterable[str | None]) -> list[str]:
    """The distinct values worth sweeping from every text, in every encoding, longest first."""
    found: set[str] = set()
    for value in values:
        if value and len(value.strip()) >= MIN_SWEEP_LENGTH:
            found.update(form for form in encodings(value.strip()) if len(form) >= MIN_SWEEP_LENGTH)
    return sorted(found, key=len, reverse=True)


def redact(text: str, values: Iterable[str]) -> str:
    """`text` with every one of `values` (already encoded, longest first) replaced."""
    for value in values:
        text = text.replace(value, REDACTED)
    return text


def scrub_contacts(text: str | None) -> str | None:
    """An error text fit to store: email addresses and phone numbers replaced by placeholders.

    Providers echo the address they refused ("The 'To' number +1… is not valid"); stored errors
    are read by every operator and outlive an erasure, so they keep the reason and lose the who.
    """
    if not text:
        return text
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))
