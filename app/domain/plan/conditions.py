"""The branch condition language: one lead fact compared with one constant.

A condition is `{"field": "deal_value", "op": ">=", "value": 5000}`. It reads a fixed set of
facts the enrollment carries (`LeadFacts`), never an arbitrary column or expression, so a plan
typed by a user cannot reach anything else and every condition can be checked before launch.

The fields and the operators each takes:
- numbers `deal_value`, `intent_score`, `silent_hours`: `=`, `!=`, `<`, `<=`, `>`, `>=`, `in`;
- texts `stage`, `source`: `=`, `!=`, `in` (exact, case-sensitive: stages and sources are slugs);
- `tags`: `=` the lead has this tag, `!=` it has not, `in` it has at least one of these;
- flags `email_ok`, `sms_ok` (the lead has a usable address: present, consented, not
  suppressed): `=`, `!=` with true or false.
`in` takes a non-empty list of values of the field's type.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.domain.plan.paths import member

NUMBER = "number"
TEXT = "text"
TAGS = "tags"
FLAG = "flag"

FIELDS: dict[str, str] = {
    "deal_value": NUMBER,
    "intent_score": NUMBER,
    "silent_hours": NUMBER,
    "stage": TEXT,
    "source": TEXT,
    "tags": TAGS,
    "email_ok": FLAG,
    "sms_ok": FLAG,
}
OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    NUMBER: ("=", "!=", "<", "<=", ">", ">=", "in"),
    TEXT: ("=", "!=", "in"),
    TAGS: ("=", "!=", "in"),
    FLAG: ("=", "!="),
}
OPS = OPS_BY_TYPE[NUMBER]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

Scalar = float | str | bool
Value = Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class LeadFacts:
    """What the plan may know about the lead: its zone, its reachable channels, and the branch fields."""

    timezone: str | None = None
    email_ok: bool = False
    sms_ok: bool = False
    deal_value: float = 0.0
    intent_score: int = 0
    silent_hours: float = 0.0
    stage: str = ""
    source: str = ""
    tags: frozenset[str] = frozenset()

    def reaches(self, channel: str) -> bool:
        return self.email_ok if channel == "email" else self.sms_ok if channel == "sms" else False


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Value


def holds(condition: Condition, facts: LeadFacts) -> bool:
    """Whether the lead's fact satisfies the condition (a validated one: known field, fitting op)."""
    fact = getattr(facts, condition.field)
    if FIELDS[condition.field] == TAGS:
        return _tags_hold(condition, fact)
    if condition.op == "in":
        assert isinstance(condition.value, tuple)
        return fact in condition.value
    return _COMPARE[condition.op](fact, condition.value)


def _tags_hold(condition: Condition, tags: frozenset[str]) -> bool:
    if condition.op == "in":
        assert isinstance(condition.value, tuple)
        return not tags.isdisjoint(condition.value)
    has = condition.value in tags
    return has if condition.op == "=" else not has


def condition_problems(raw: Any) -> list[tuple[str, str]]:
    """Each problem of a raw condition as (path suffix, message); empty when it can be evaluated."""
    if not isinstance(raw, dict):
        return [("", "a condition is an object {field, op, value}")]
    problems = [(member("", key), f"unknown key {key!r} (field, op, value)") for key in raw if key not in _KEYS]
    field, op = raw.get("field"), raw.get("op")
    kind = FIELDS.get(field) if isinstance(field, str) else None
    if kind is None:
        return [*problems, (".field", f"unknown field {field!r} ({', '.join(FIELDS)})")]
    if op not in OPS_BY_TYPE[kind]:
        return [*problems, (".op", f"{field} takes {', '.join(OPS_BY_TYPE[kind])}, not {op!r}")]
    if "value" not in raw:
        return [*problems, (".value", "missing")]
    message = _value_problem(kind, op, raw["value"])
    return [*problems, (".value", message)] if message else problems


_KEYS = ("field", "op", "value")


def _value_problem(kind: str, op: str, value: Any) -> str | None:
    if op == "in":
        if not isinstance(value, list) or not value:
            return "'in' takes a non-empty list"
        wrong = [item for item in value if not _fits(kind, item)]
        return f"every item must be {_TYPE_NAMES[kind]}, got {wrong[0]!r}" if wrong else None
    return None if _fits(kind, value) else f"must be {_TYPE_NAMES[kind]}, got {value!r}"


_TYPE_NAMES = {NUMBER: "a number", TEXT: "a text", TAGS: "a tag (text)", FLAG: "true or false"}


def _fits(kind: str, value: Any) -> bool:
    if kind == FLAG:
        return isinstance(value, bool)
    if kind == NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def parse_condition(raw: dict[str, Any]) -> Condition:
    """The condition of a raw one `condition_problems` found nothing wrong with."""
    value = raw["value"]
    return Condition(raw["field"], raw["op"], tuple(value) if isinstance(value, list) else value)
