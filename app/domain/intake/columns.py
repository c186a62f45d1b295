"""Which lead field each column of a file holds, guessed from its header.

Headers are compared folded: case, accents, punctuation and spacing ignored, so `E-mail`,
`EMAIL ADDRESS` and `email_address` are the same header. The synonyms are what CRMs,
spreadsheets and form tools name these columns. A column no synonym names is kept under the
lead's `attributes` by its header (nothing in the file is dropped unless the operator says so);
a second column for a field already taken is kept the same way, and the operator can change
any column's field before importing (the console's mapping).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from app.domain.intake.fields import ATTRIBUTE, FULL_NAME, IDENTITY_FIELDS, IGNORE, LEAD_FIELDS

TARGETS = (*[f for f in LEAD_FIELDS if f != "attributes"], FULL_NAME, ATTRIBUTE, IGNORE)
"""What a column may be mapped to."""

REJECTED_ROW = "rejected_row"
PROBLEMS = "problems"
"""The two columns our own rejected-rows file adds: ignored when that file comes back corrected."""

SYNONYMS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "external id",
        "id",
        "crm id",
        "contact id",
        "lead id",
        "record id",
        "customer id",
        "hubspot id",
        "salesforce id",
        "record id contact",
    ),
    "first_name": ("first name", "firstname", "first", "given name", "forename"),
    "last_name": ("last name", "lastname", "last", "surname", "family name"),
    FULL_NAME: ("name", "full name", "fullname", "contact", "contact name", "lead name", "customer name"),
    "company": ("company", "company name", "organisation", "organization", "account", "account name", "business"),
    "title": ("title", "job title", "jobtitle", "position", "role"),
    "email": ("email", "e mail", "email address", "e mail address", "mail", "work email", "primary email"),
    "phone": (
        "phone",
        "phone number",
        "mobile",
        "mobile phone",
        "mobile number",
        "mobile phone number",
        "cell",
        "cell phone",
        "telephone",
        "tel",
    ),
    "timezone": ("timezone", "time zone", "tz"),
    "source": ("source", "lead source", "origin", "original source"),
    "stage": ("stage", "lead stage", "deal stage", "lifecycle stage", "status", "lead status"),
    "deal_value": ("deal value", "value", "amount", "deal amount", "deal size", "opportunity value"),
    "tags": ("tags", "tag", "labels", "label", "lists"),
    "consent_email": (
        "consent email",
        "email consent",
        "email opt in",
        "email optin",
        "accepts email",
        "email subscribed",
        "marketing email consent",
        "email marketing consent",
    ),
    "consent_sms": (
        "consent sms",
        "sms consent",
        "sms opt in",
        "sms optin",
        "text consent",
        "accepts sms",
        "sms subscribed",
        "sms marketing consent",
    ),
    "last_activity_at": (
        "last activity at",
        "last activity",
        "last activity date",
        "last engagement",
        "last engagement date",
        "last seen",
        "last touch",
    ),
}


def fold(header: str) -> str:
    """A header as compared: lower case, accents and punctuation gone, one space between words."""
    decomposed = unicodedata.normalize("NFKD", header.replace("\ufeff", ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


_BY_FOLDED = {fold(name): target for target, names in SYNONYMS.items() for name in (target, *names)}
_BY_FOLDED |= {name.replace(" ", ""): target for name, target in list(_BY_FOLDED.items())}


def guess(header: str) -> str | None:
    """The field a header names, or None when no synonym matches."""
    folded = fold(header)
    return _BY_FOLDED.get(folded) or _BY_FOLDED.get(folded.replace(" ", ""))


def auto_map(headers: Sequence[str]) -> list[str]:
    """One target per column: the field its header names (the first such column wins), our own
    rejected-file columns and nameless ones ignored, anything else kept as an attribute."""
    taken: set[str] = set()
    mapping: list[str] = []
    for header in headers:
        folded = fold(header)
        if not folded or folded.replace(" ", "_") in (REJECTED_ROW, PROBLEMS):
            mapping.append(IGNORE)
            continue
        field = guess(header)
        if field is None or field in taken:
            mapping.append(ATTRIBUTE)
            continue
        taken.add(field)
        mapping.append(field)
    return mapping


def mapping_problems(headers: Sequence[str], mapping: Sequence[str]) -> list[str]:
    """Why a mapping cannot import anything (empty when it can): a field chosen twice, an unknown
    target, or no column that names a lead (an external id, an email or a phone)."""
    if len(mapping) != len(headers):
        return [f"the mapping has {len(mapping)} entries for {len(headers)} columns"]
    problems = [
        f"column {header!r}: {target!r} is not a field"
        for header, target in zip(headers, mapping, strict=True)
        if target not in TARGETS
    ]
    chosen: dict[str, list[str]] = {}
    for header, target in zip(headers, mapping, strict=True):
        if target not in (ATTRIBUTE, IGNORE):
            chosen.setdefault(target, []).append(header)
    problems += [
        f"{target} is chosen for {len(columns)} columns ({', '.join(repr(c) for c in columns)}): choose one"
        for target, columns in chosen.items()
        if len(columns) > 1
    ]
    if not problems and not any(target in IDENTITY_FIELDS for target in mapping):
        shown = ", ".join(repr(h) for h in headers[:8]) + (", …" if len(headers) > 8 else "")
        problems.append(
            "no column holds an email, a phone or an external id, so no lead can be told apart "
            f"(the columns are {shown}); name one of them e.g. 'Email' or 'Phone'"
        )
    return problems
