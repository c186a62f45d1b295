"""Reading one value of a lead field: text, money, yes/no, tags, attributes, a time zone.

Every reader takes what a door hands over (a file's text, or a JSON value from the API) and
returns the normalised value, None for "nothing given" (an empty cell, a JSON null), or raises
`Invalid` with the reason. Nothing is guessed silently: an ambiguous amount or a word that is
neither yes nor no is refused with what to write instead.

A cell that starts like a spreadsheet formula (`=...`, or `+`/`-`/`@` followed by a call or a
pipe) is refused in every text field: stored, it would run in the spreadsheet of whoever
exports it later ("CSV injection"). A leading `+` or `-` alone (`+1 415...`, `-`) is not a formula.
"""

from __future__ import annotations

import functools
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.intake.fields import Invalid

MAX_DEAL_VALUE = Decimal("999999999999.99")  # leads.deal_value is Numeric(14, 2)
MAX_TAGS = 50
MAX_TAG_LENGTH = 64
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTES_JSON = 16_384
TAG_SEPARATORS = re.compile(r"[;,|]")
YES = frozenset(
    {"yes", "y", "true", "t", "1", "on", "x", "✓", "✔", "opted in", "opt in", "optin", "subscribed", "granted"}
    | {"consented", "accepted", "allowed", "ok"}
)
NO = frozenset(
    {"no", "n", "false", "f", "0", "off", "opted out", "opt out", "optout", "unsubscribed", "declined", "revoked"}
    | {"denied", "withdrawn", "refused", "none"}
)
_FORMULA_AFTER_SIGN = re.compile(r"[(!|=]")
_CURRENCY = re.compile(r"^(?:[$€£¥]|usd|eur|gbp|cad|aud)\s*|\s*(?:[$€£¥]|usd|eur|gbp|cad|aud)$", re.IGNORECASE)
_THOUSANDS_COMMA = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_THOUSANDS_DOT = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_AMBIGUOUS_DOT = re.compile(r"^[1-9]\d{0,2}\.\d{3}$")
_DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$")
_PLAIN = re.compile(r"^\d+(?:\.\d+)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode's Cc: C0, DEL and C1
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def is_formula(value: str) -> bool:
    """True when a spreadsheet would run this cell (see the module)."""
    if not value:
        return False
    if value[0] == "=":
        return True
    return value[0] in "+-@" and _FORMULA_AFTER_SIGN.search(value) is not None


def text(value: object, *, limit: int) -> str | None:
    """Trimmed text with runs of white space made one space; None when empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("must be text")
    cleaned = " ".join(value.split())
    if not cleaned:
        return None
    if _CONTROL.search(cleaned):
        raise Invalid("contains control characters")
    if is_formula(cleaned):
        raise Invalid(f"looks like a spreadsheet formula ({_shown(cleaned)}); remove the leading {cleaned[0]!r}")
    if len(cleaned) > limit:
        raise Invalid(f"at most {limit} characters (got {len(cleaned)})")
    return cleaned


def consent(value: object) -> bool | None:
    """Yes or no: a JSON boolean, or a word a spreadsheet or a CRM export uses for it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if not isinstance(value, str):
        raise Invalid("must be yes or no (true or false)")
    word = " ".join(value.replace("-", " ").replace("_", " ").lower().split())
    if not word:
        return None
    if word in YES:
        return True
    if word in NO:
        return False
    raise Invalid(f"must be yes or no, got {_shown(value)}")


def deal_value(value: object) -> Decimal | None:
    """Dollars (or the tenant's currency): 0 to 999,999,999,999.99, at most two decimals.

    Text may carry a currency sign and thousands separators: `$1,250.50`, `1.250,50 €`,
    `1 250,50`. A comma followed by exactly three digits groups thousands; followed by one or
    two it is the decimal point. `1.234` alone is refused: a thousand or a one, we cannot tell.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise Invalid("must be an amount, e.g. 1250.50")
    if isinstance(value, int | float | Decimal):
        amount = _decimal(str(value), value)
    elif isinstance(value, str):
        cleaned = _SPACES.sub("", value.strip())
        if not cleaned:
            return None
        amount = _decimal(_plain_number(cleaned, value), value)
    else:
        raise Invalid("must be an amount, e.g. 1250.50")
    return _checked_amount(amount)


def _plain_number(cleaned: str, original: str) -> str:
    body, negative = cleaned, False
    if body.startswith("(") and body.endswith(")"):  # accounting's negative
        body, negative = body[1:-1], True
    for _ in range(2):  # "-$5", "$-5", "USD 5"
        body = _CURRENCY.sub("", body)
        if body and body[0] in "+-":
            negative = negative or body[0] == "-"
            body = body[1:]
    if "," in body and "." in body:
        body = body.replace(",", "") if body.rfind(".") > body.rfind(",") else body.replace(".", "").replace(",", ".")
    elif "," in body:
        if _THOUSANDS_COMMA.match(body):
            body = body.replace(",", "")
        elif _DECIMAL_COMMA.match(body):
            body = body.replace(",", ".")
        else:
            raise Invalid(f"must be an amount, e.g. 1250.50 (got {_shown(original)})")
    elif _THOUSANDS_DOT.match(body) and body.count(".") > 1:
        body = body.replace(".", "")
    elif _AMBIGUOUS_DOT.match(body):
        raise Invalid(f"{_shown(original)} is ambiguous: write {body.replace('.', '')} or {body[:-1]}")
    if not _PLAIN.match(body):
        raise Invalid(f"must be an amount, e.g. 1250.50 (got {_shown(original)})")
    return ("-" if negative else "") + body


def _decimal(number: str, original: object) -> Decimal:
    try:
        amount = Decimal(number)
    except InvalidOperation:
        raise Invalid(f"must be an amount, e.g. 1250.50 (got {_shown(str(original))})") from None
    if not amount.is_finite():
        raise Invalid("must be a finite amount")
    return amount


def _checked_amount(amount: Decimal) -> Decimal:
    if amount < 0:
        raise Invalid("cannot be negative")
    if amount > MAX_DEAL_VALUE:
        raise Invalid(f"at most {MAX_DEAL_VALUE:,}")
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise Invalid("at most 2 decimal places")
    return amount.quantize(Decimal("0.01"))


def tags(value: object) -> tuple[str, ...] | None:
    """Labels: a JSON list of strings, or one text split at `;`, `,` or `|`; duplicates dropped
    (ignoring case, the first spelling kept), order kept; None when there are none."""
    if value is None:
        return None
    if isinstance(value, str):
        parts = TAG_SEPARATORS.split(value)
    elif isinstance(value, list) and all(isinstance(p, str) for p in value):
        parts = value
    else:
        raise Invalid("must be a list of text labels")
    kept: dict[str, str] = {}
    for part in parts:
        tag = " ".join(part.split())
        if not tag:
            continue
        if is_formula(tag):
            raise Invalid(f"looks like a spreadsheet formula ({_shown(tag)})")
        if len(tag) > MAX_TAG_LENGTH:
            raise Invalid(f"each tag at most {MAX_TAG_LENGTH} characters ({_shown(tag)} is {len(tag)})")
        kept.setdefault(tag.casefold(), tag)
    if len(kept) > MAX_TAGS:
        raise Invalid(f"at most {MAX_TAGS} tags (got {len(kept)})")
    return tuple(kept.values()) or None


def attributes(value: object) -> dict[str, Any] | None:
    """Free-form facts kept with the lead: a JSON object of at most 100 keys and 16 KB."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and k.strip() for k in value):
        raise Invalid("must be an object with text keys")
    if len(value) > MAX_ATTRIBUTES:
        raise Invalid(f"at most {MAX_ATTRIBUTES} keys (got {len(value)})")
    for key, item in value.items():
        if isinstance(item, str) and is_formula(item.strip()):
            raise Invalid(f"{key}: looks like a spreadsheet formula ({_shown(item.strip())})")
    try:
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError):
        raise Invalid("must hold only JSON values") from None
    if size > MAX_ATTRIBUTES_JSON:
        raise Invalid(f"at most {MAX_ATTRIBUTES_JSON:,} characters of JSON (got {size:,})")
    return value or None


def timezone(value: object) -> str | None:
    """An IANA time zone name such as America/New_York."""
    name = text(value, limit=64)
    if name is None:
        return None
    if not _known_zone(name):
        raise Invalid(f"{_shown(name)} is not a time zone: use a name such as America/New_York")
    return name


@functools.lru_cache(maxsize=1024)
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _shown(value: str, limit: int = 40) -> str:
    """A value quoted in a message, cut so a 10 MB cell cannot make a 10 MB message."""
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")
