"""An incoming activity checked field by field; expectations worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.domain.intake.activities import ActivityValues, check_activity
from app.domain.intake.fields import FieldError

NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
KINDS = ("form", "call", "note")


def check(raw: dict[str, object]) -> ActivityValues | list[FieldError]:
    return check_activity(raw, kinds=KINDS, zone=ZoneInfo("Europe/Paris"), now=NOW)


def test_a_valid_activity() -> None:
    assert check(
        {
            "external_id": " HS-1 ",
            "kind": "call",
            "occurred_at": "2026-12-09 10:30",
            "summary": " Called ",
            "details": {"m": 3},
        }
    ) == ActivityValues(
        kind="call",
        occurred_at=datetime(2026, 12, 9, 9, 30, tzinfo=UTC),  # 10:30 in Paris
        external_id="HS-1",
        summary="Called",
        details={"m": 3},
    )
    assert check({"lead_id": 7, "kind": "form", "occurred_at": "2026-12-09T11:00:00Z"}) == ActivityValues(
        kind="form", occurred_at=datetime(2026, 12, 9, 11, 0, tzinfo=UTC), lead_id=7
    )


def test_every_reason_at_once() -> None:
    assert check(
        {"lead_id": True, "kind": "dance", "occurred_at": "2026-12-10T00:00:00Z", "summary": "x" * 1001, "mood": 1}
    ) == [
        FieldError("mood", "not an activity field"),
        FieldError("lead_id", "must be a positive whole number"),
        FieldError("kind", "must be one of form, call, note"),
        FieldError("occurred_at", "'2026-12-10T00:00:00Z' is in the future"),
        FieldError("summary", "at most 1000 characters (got 1001)"),
    ]
    assert check({"lead_id": 1, "external_id": "HS-1", "kind": "call"}) == [
        FieldError("lead_id", "name the lead by lead_id or by external_id (one of them)"),
        FieldError("occurred_at", "is required, e.g. 2026-12-01, 12/01/2026 or 2026-12-01T14:30:00Z"),
    ]
