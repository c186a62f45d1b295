"""One incoming lead, as a file row or an API item, checked field by field into `LeadValues`.

Every field is read (values.py, dates.py) and every problem is kept, so a rejected row says
all that is wrong with it at once, field by field. Phones and emails are read by adapters the
caller passes in (`Rules.phone`, `Rules.email`): the libraries that know every country's
numbering plan and the email address syntax live outside this pure core (app/services/contacts.py).

A row must name its lead: an external id, an email or a phone. A file's `full_name` column
("Name") fills first and last names the row does not give: "Ada Lovelace" and "Lovelace, Ada"
both read as Ada / Lovelace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.intake import dates, values
from app.domain.intake.fields import (
    ATTRIBUTE,
    FULL_NAME,
    IDENTITY_FIELDS,
    IGNORE,
    LEAD_FIELDS,
    TEXT_LIMITS,
    FieldError,
    Invalid,
    LeadValues,
    Phone,
)

PhoneCheck = Callable[[str, str], Phone]
"""(the number as written, the default region) -> the number; raises `Invalid`."""
EmailCheck = Callable[[str], str]
"""The address as written -> the address as stored; raises `Invalid`."""

_ACCEPTED = frozenset(LEAD_FIELDS) | {FULL_NAME}
_PLAIN_TEXT = ("external_id", "first_name", "last_name", "company", "title", "source", "stage")
MAX_EMAIL = 254
MAX_PHONE = 64
FORMULA_SIGNS = "=+-@\t\r"


@dataclass(frozen=True)
class Rules:
    """What reading a row depends on besides the row: the clock, the tenant's zone and phone
    region, the date order of a file's date column, and the two contact adapters."""

    now: datetime
    zone: ZoneInfo
    region: str
    phone: PhoneCheck
    email: EmailCheck
    date_order: dates.DateOrder = "mdy"


def normalise(raw: Mapping[str, Any], rules: Rules) -> LeadValues | list[FieldError]:
    """The row's values, or every reason it is refused (see the module)."""
    errors = (
        [] if raw.keys() <= _ACCEPTED else [FieldError(str(k), "not a lead field") for k in raw if k not in _ACCEPTED]
    )
    found: dict[str, Any] = {}
    for field, reader in _READERS:
        value = raw.get(field)
        if value is None or value == "":  # nothing given: no reader refuses it (the common case, kept fast)
            found[field] = None
            continue
        try:
            found[field] = reader(value, rules)
        except Invalid as problem:
            errors.append(FieldError(field, str(problem)))
    if not any(_given(raw.get(field)) for field in IDENTITY_FIELDS):
        errors.append(FieldError("row", "give an external_id, an email or a phone: nothing else tells leads apart"))
    if errors:
        return errors
    first, last = found["first_name"], found["last_name"]
    if found[FULL_NAME] is not None and first is None and last is None:
        first, last = split_name(found[FULL_NAME])
    phone: Phone | None = found["phone"]
    return LeadValues(
        external_id=found["external_id"],
        first_name=first,
        last_name=last,
        company=found["company"],
        title=found["title"],
        email=found["email"],
        phone=phone.e164 if phone else None,
        phone_landline=bool(phone and phone.landline),
        timezone=found["timezone"],
        source=found["source"],
        stage=found["stage"],
        deal_value=found["deal_value"],
        tags=found["tags"],
        attributes=found["attributes"],
        consent_email=found["consent_email"],
        consent_sms=found["consent_sms"],
        last_activity_at=found["last_activity_at"],
    )


def _text_reader(limit: int) -> Callable[[Any, Rules], str | None]:
    return lambda value, _rules: values.text(value, limit=limit)


def _email(value: Any, rules: Rules) -> str | None:
    return _contact(value, MAX_EMAIL, rules.email)  # type: ignore[no-any-return]


def _phone(value: Any, rules: Rules) -> Phone | None:
    return _contact(value, MAX_PHONE, lambda text: rules.phone(text, rules.region))  # type: ignore[no-any-return]


def _moment(value: Any, rules: Rules) -> Any:
    return dates.moment(value, zone=rules.zone, now=rules.now, order=rules.date_order)


def _plain(reader: Callable[[Any], Any]) -> Callable[[Any, Rules], Any]:
    return lambda value, _rules: reader(value)


def external_id(value: Any, _rules: Rules | None = None) -> str | None:
    """A CRM's id: text, or a whole number (many CRMs' ids are numbers in their JSON)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return values.text(value, limit=TEXT_LIMITS["external_id"])


_READERS: tuple[tuple[str, Callable[[Any, Rules], Any]], ...] = (
    ("external_id", external_id),
    *((field, _text_reader(TEXT_LIMITS[field])) for field in _PLAIN_TEXT if field != "external_id"),
    (FULL_NAME, _text_reader(TEXT_LIMITS[FULL_NAME])),
    ("email", _email),
    ("phone", _phone),
    ("timezone", _plain(values.timezone)),
    ("deal_value", _plain(values.deal_value)),
    ("tags", _plain(values.tags)),
    ("attributes", _plain(values.attributes)),
    ("consent_email", _plain(values.consent)),
    ("consent_sms", _plain(values.consent)),
    ("last_activity_at", _moment),
)
"""Each field and how it is read, in the order its problems are reported."""


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _contact(value: Any, limit: int, check: Callable[[str], Any]) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("must be text")
    cleaned = value.strip()
    if not cleaned:
        return None
    if len(cleaned) > limit:
        raise Invalid(f"at most {limit} characters (got {len(cleaned)})")
    return check(cleaned)


def split_name(full: str) -> tuple[str, str | None]:
    """(first, last) of a full name: "Lovelace, Ada" is last-comma-first, else the last word is the last name."""
    if "," in full:
        last, _, first = full.partition(",")
        if first.strip() and last.strip():
            return first.strip(), last.strip()
    words = full.split()
    if len(words) == 1:
        return words[0], None
    return " ".join(words[:-1]), words[-1]


def file_rows(headers: Sequence[str], rows: Sequence[Sequence[str]], mapping: Sequence[str]) -> list[dict[str, Any]]:
    """A file's rows as the fields `normalise` reads: each cell under its column's field, the
    attribute columns gathered into `attributes` by header, ignored columns dropped."""
    fields = [(index, target) for index, target in enumerate(mapping) if target not in (ATTRIBUTE, IGNORE)]
    kept = [(index, headers[index].strip()) for index, target in enumerate(mapping) if target == ATTRIBUTE]
    out: list[dict[str, Any]] = []
    for row in rows:
        raw: dict[str, Any] = {target: unescaped(row[index]) for index, target in fields}
        extra = {name: unescaped(cell.strip()) for index, name in kept if (cell := row[index]).strip()}
        if extra:
            raw["attributes"] = extra
        out.append(raw)
    return out


def unescaped(cell: str) -> str:
    """A cell without the apostrophe our rejected-rows file puts before `= + - @` (rejected.py), so
    that file, corrected, imports as its original: `'+1 415...` is the phone `+1 415...` again."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_SIGNS else cell


def date_order_of(rows: Sequence[Mapping[str, Any]], default: dates.DateOrder) -> dates.DateOrder:
    """How a file writes its dates (`dates.infer_order` over its `last_activity_at` cells)."""
    cells = [v for row in rows if isinstance(v := row.get("last_activity_at"), str) and v]
    return dates.infer_order(cells, default)
