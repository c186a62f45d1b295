"""The lead fields an import may set, and how a problem with one of them is told.

One catalogue for every door (the CSV file, the console's upload, `POST /api/leads`), so a
field means the same and fails with the same words wherever a lead comes in. The names are
the `leads` columns; `full_name` exists only in files ("Name": split into first and last).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

LEAD_FIELDS = (
    "external_id",
    "first_name",
    "last_name",
    "company",
    "title",
    "email",
    "phone",
    "timezone",
    "source",
    "stage",
    "deal_value",
    "tags",
    "attributes",
    "consent_email",
    "consent_sms",
    "last_activity_at",
)
IDENTITY_FIELDS = ("external_id", "email", "phone")
"""What a lead is matched on, in this order; a row needs at least one of them."""

FULL_NAME = "full_name"
ATTRIBUTE = "attribute"
"""A file's column kept under `attributes`, by its header."""
IGNORE = "ignore"

TEXT_LIMITS = {
    "external_id": 255,
    "first_name": 100,
    "last_name": 100,
    FULL_NAME: 200,
    "company": 200,
    "title": 200,
    "source": 100,
    "stage": 100,
}
"""The longest value each text field keeps (characters); longer is refused, never cut."""


class Invalid(ValueError):
    """A value refused, with the reason as a person reads it (the field is the caller's to say)."""


@dataclass(frozen=True)
class FieldError:
    """One reason a row was refused: the field (`row` for the row as a whole) and why."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Phone:
    """A phone number as an adapter read it: E.164, and whether it is a fixed line (no texts)."""

    e164: str
    landline: bool = False


@dataclass(frozen=True)
class LeadValues:
    """A valid row: each field the row gave, normalised; None where it gave nothing.

    "Nothing" never erases: an update writes only the fields that are not None, so a file
    without a company column leaves every lead's company as it was.
    """

    external_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_landline: bool = False
    timezone: str | None = None
    source: str | None = None
    stage: str | None = None
    deal_value: Decimal | None = None
    tags: tuple[str, ...] | None = None
    attributes: dict[str, Any] | None = field(default=None, hash=False, compare=True)
    consent_email: bool | None = None
    consent_sms: bool | None = None
    last_activity_at: datetime | None = None

    def identity(self) -> tuple[str | None, str | None, str | None]:
        return (self.external_id, self.email, self.phone)
