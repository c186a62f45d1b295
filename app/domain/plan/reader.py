"""Reading untrusted plan JSON field by field, noting every problem instead of stopping at the first.

A plan is edited in a form and saved as a draft whatever its state, so the person fixing it
needs the whole list at once, each problem at the JSON path of the value to change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from app.domain.plan.durations import DurationError, parse_duration
from app.domain.plan.model import Problem
from app.domain.plan.paths import member


class Reader:
    """Typed getters over raw JSON that record a Problem and answer None for a bad value."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def object(self, raw: Any, path: str, what: str) -> dict[str, Any] | None:
        if isinstance(raw, dict):
            return raw
        self.add(path, f"{what} must be an object, got {_kind(raw)}")
        return None

    def array(self, raw: dict[str, Any], key: str, path: str, *, required: bool = False) -> list[Any]:
        value = raw.get(key)
        if value is None:
            if required:
                self.add(f"{path}.{key}", "missing")
            return []
        if not isinstance(value, list):
            self.add(f"{path}.{key}", f"must be a list, got {_kind(value)}")
            return []
        return value

    def keys(self, raw: dict[str, Any], allowed: Iterable[str], path: str) -> None:
        allowed = tuple(allowed)
        for key in raw:
            if key not in allowed:
                self.add(member(path, key), f"unknown key {key!r} (expected {', '.join(allowed)})")

    def text(self, raw: dict[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.add(f"{path}.{key}", "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(f"{path}.{key}", f"must be a non-empty text, got {value!r}")
            return None
        return value

    def integer(self, raw: dict[str, Any], key: str, path: str) -> int | None:
        value = raw.get(key)
        if value is None:
            self.add(f"{path}.{key}", "missing")
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.add(f"{path}.{key}", f"must be a whole number, got {value!r}")
            return None
        return value

    def duration(self, raw: dict[str, Any], key: str, path: str, *, required: bool = False) -> timedelta | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.add(f"{path}.{key}", "missing (an ISO-8601 duration such as 'PT24H')")
            return None
        try:
            return parse_duration(value)
        except DurationError as error:
            self.add(f"{path}.{key}", str(error))
            return None

    def choice(self, raw: dict[str, Any], key: str, path: str, options: tuple[str, ...], default: str) -> str:
        value = raw.get(key, default)
        if value not in options:
            self.add(f"{path}.{key}", f"must be one of {', '.join(options)}, got {value!r}")
            return default
        return str(value)


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
