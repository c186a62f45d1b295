"""Who a campaign writes to: criteria on the lead's own fields, or leads picked by hand.

A campaign's `audience` column keeps one of two shapes:
- `{"criteria": {...}}`: every lead of the tenant matching all the criteria given, counted
  again at launch (a lead who went silent since joins; one who bought meanwhile may not match);
- `{"lead_ids": [...]}`: exactly these leads, as the lead map handed them over.
A new draft has `{}`: no audience chosen yet, which may be saved but not launched.

The criteria are plain values checked here, so the service can turn them into one set-based
statement without trusting anything typed in the console.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

MAX_SCORE = 100
MAX_LEADS = 100_000
"""The most leads a hand-picked audience may name (the lead map's selection is far smaller)."""


@dataclass(frozen=True)
class AudienceCriteria:
    """All given criteria must hold; an empty tuple or None leaves that field open.

    `silent_hours_*` bound the hours since the lead's last activity; `tags` match a lead with
    any of them; `owner_ids` with `unowned` match leads of those owners or with no owner.
    """

    stages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    score_min: int = 0
    score_max: int = MAX_SCORE
    silent_hours_min: float | None = None
    silent_hours_max: float | None = None
    tags: tuple[str, ...] = ()
    value_min: float | None = None
    value_max: float | None = None
    owner_ids: tuple[int, ...] = ()
    unowned: bool = False

    def problems(self) -> list[str]:
        """Every reason these criteria cannot be counted, written for the person who set them."""
        found = []
        if not 0 <= self.score_min <= self.score_max <= MAX_SCORE:
            found.append(f"Score: need 0 ≤ from ≤ to ≤ {MAX_SCORE}, got {self.score_min}-{self.score_max}")
        found += _range_problems("Silence (hours)", self.silent_hours_min, self.silent_hours_max)
        found += _range_problems("Deal value", self.value_min, self.value_max)
        return found

    def to_json(self) -> dict[str, Any]:
        """Only what differs from the open default, so a stored audience reads as what was chosen."""
        default = AudienceCriteria()
        out: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value != getattr(default, field.name):
                out[field.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AudienceCriteria:
        """The criteria `to_json` wrote; raises ValueError for anything else."""
        unknown = set(data) - {field.name for field in fields(cls)}
        if unknown:
            raise ValueError(f"unknown audience criteria: {', '.join(sorted(unknown))}")
        return cls(
            stages=_texts(data.get("stages", ())),
            sources=_texts(data.get("sources", ())),
            score_min=int(data.get("score_min", 0)),
            score_max=int(data.get("score_max", MAX_SCORE)),
            silent_hours_min=_number(data.get("silent_hours_min")),
            silent_hours_max=_number(data.get("silent_hours_max")),
            tags=_texts(data.get("tags", ())),
            value_min=_number(data.get("value_min")),
            value_max=_number(data.get("value_max")),
            owner_ids=tuple(int(i) for i in data.get("owner_ids", ())),
            unowned=bool(data.get("unowned", False)),
        )


def _range_problems(name: str, low: float | None, high: float | None) -> list[str]:
    found = []
    for bound in (low, high):
        if bound is not None and (not math.isfinite(bound) or bound < 0):
            found.append(f"{name}: bounds must be 0 or more, got {bound}")
    if low is not None and high is not None and low > high:
        found.append(f"{name}: 'from' ({low:g}) is above 'to' ({high:g})")
    return found


def _texts(values: Any) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise ValueError(f"expected a list of texts, got {values!r}")
    return tuple(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Audience:
    """Criteria, or hand-picked lead ids (exactly one of the two)."""

    criteria: AudienceCriteria | None = None
    lead_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if (self.criteria is None) == (not self.lead_ids):
            raise ValueError("an audience is either criteria or a non-empty list of lead ids")
        if len(self.lead_ids) > MAX_LEADS:
            raise ValueError(f"at most {MAX_LEADS:,} hand-picked leads, got {len(self.lead_ids):,}")

    @classmethod
    def of_leads(cls, lead_ids: Any) -> Audience:
        return cls(lead_ids=tuple(sorted({int(i) for i in lead_ids})))

    def problems(self) -> list[str]:
        return self.criteria.problems() if self.criteria is not None else []

    def to_json(self) -> dict[str, Any]:
        if self.criteria is not None:
            return {"criteria": self.criteria.to_json()}
        return {"lead_ids": list(self.lead_ids)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Audience | None:
        """The stored audience; None when none was chosen yet (`{}`). Raises ValueError when malformed."""
        if not data:
            return None
        if set(data) == {"criteria"} and isinstance(data["criteria"], Mapping):
            return cls(criteria=AudienceCriteria.from_json(data["criteria"]))
        if set(data) == {"lead_ids"} and isinstance(data["lead_ids"], list):
            return cls.of_leads(data["lead_ids"])
        raise ValueError(f"an audience is {{'criteria': {{...}}}} or {{'lead_ids': [...]}}, got keys {sorted(data)}")
