"""One incoming activity (`POST /api/activities`), checked field by field.

An activity names its lead by our id (`lead_id`) or the CRM's (`external_id`), exactly one of
them; says what happened (`kind`, one of the timeline's kinds) and when (`occurred_at`, read
like a lead's last activity: a moment without a zone is the tenant's local time, none in the
future). `channel`, `summary` and `details` are optional and kept as given.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.intake import dates, rows, values
from app.domain.intake.fields import FieldError, Invalid

ACTIVITY_FIELDS = ("lead_id", "external_id", "kind", "occurred_at", "channel", "summary", "details")
MAX_SUMMARY = 1_000
MAX_CHANNEL = 32


@dataclass(frozen=True)
class ActivityValues:
    """A valid activity; exactly one of `lead_id` and `external_id` is set."""

    kind: str
    occurred_at: datetime
    lead_id: int | None = None
    external_id: str | None = None
    channel: str | None = None
    summary: str = ""
    details: dict[str, Any] = field(default_factory=dict, hash=False)


def check_activity(
    raw: Mapping[str, Any], *, kinds: Collection[str], zone: ZoneInfo, now: datetime
) -> ActivityValues | list[FieldError]:
    """The activity, or every reason it is refused."""
    errors = [FieldError(str(key), "not an activity field") for key in raw if key not in ACTIVITY_FIELDS]
    lead_id, external_id = raw.get("lead_id"), raw.get("external_id")
    if (lead_id is None) == (external_id is None):
        errors.append(FieldError("lead_id", "name the lead by lead_id or by external_id (one of them)"))
    elif lead_id is not None and (isinstance(lead_id, bool) or not isinstance(lead_id, int) or lead_id <= 0):
        errors.append(FieldError("lead_id", "must be a positive whole number"))
    found: dict[str, Any] = {}

    def read(name: str, reader: Any) -> None:
        try:
            found[name] = reader(raw.get(name))
        except Invalid as problem:
            errors.append(FieldError(name, str(problem)))

    read("external_id", rows.external_id)
    read("kind", lambda v: _kind(v, kinds))
    read("occurred_at", lambda v: _required(dates.moment(v, zone=zone, now=now, order="mdy")))
    read("channel", lambda v: values.text(v, limit=MAX_CHANNEL))
    read("summary", _summary)
    read("details", values.attributes)
    if errors:
        return errors
    return ActivityValues(
        kind=found["kind"],
        occurred_at=found["occurred_at"],
        lead_id=lead_id if isinstance(lead_id, int) else None,
        external_id=found["external_id"],
        channel=found["channel"],
        summary=found["summary"],
        details=found["details"] or {},
    )


def _kind(value: Any, kinds: Collection[str]) -> str:
    if not isinstance(value, str) or value not in kinds:
        raise Invalid(f"must be one of {', '.join(kinds)}")
    return value


def _required(moment: datetime | None) -> datetime:
    if moment is None:
        raise Invalid(f"is required, {dates.EXAMPLE}")
    return moment


def _summary(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid("must be text")
    cleaned = value.strip()
    if len(cleaned) > MAX_SUMMARY:
        raise Invalid(f"at most {MAX_SUMMARY} characters (got {len(cleaned)})")
    return cleaned
