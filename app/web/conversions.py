"""`POST /api/conversions`: another system (a CRM, a checkout, a spreadsheet job) reports deals won.

Each row names the lead (ours: `lead_id`, or the CRM's: `lead_external_id`) and the deal's
value; the tenant is the API key's. Rows are checked and recorded one by one
(`app.services.conversions.record_batch`): a batch may mix good and bad rows, a bad row changes
nothing and says which field is wrong, and a lead of another tenant is simply "not found".

Retries are safe when the client names its conversions: a row's `id`, or else the request's
`Idempotency-Key` header (the row's key is then `<header>:<row index>`), is recorded once per
tenant; a second delivery answers `duplicate` with the first row's id.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from app.domain.conversions import ConversionError
from app.services import conversions
from app.web.auth import Tenant

MAX_ROWS = 1000

router = APIRouter(prefix="/api", tags=["conversions"])


class ConversionIn(BaseModel):
    """One deal won by a lead. Name the lead by `lead_id` or by `lead_external_id`, not both."""

    model_config = ConfigDict(extra="forbid")

    lead_id: int | None = Field(None, description="Our id of the lead.", examples=[1042])
    lead_external_id: str | None = Field(
        None, description="The lead's id in your CRM (the `external_id` it was imported with).", examples=["HS-88213"]
    )
    value: Decimal = Field(
        description="The deal's value in dollars, at most two decimals; 0 or more.", examples=["1250.00"]
    )
    converted_at: dt.datetime | None = Field(
        None,
        description="When the deal closed, with a time zone (ISO 8601); default: now. Not in the future, "
        "at most 366 days ago.",
        examples=["2026-12-01T15:04:05Z"],
    )
    id: str | None = Field(
        None,
        max_length=255,
        description="Your own id of this conversion: a second delivery with the same id changes nothing.",
        examples=["order-99812"],
    )
    note: str | None = Field(None, max_length=1000, description="Free text kept with the conversion.")


class ConversionBatch(BaseModel):
    """Up to 1,000 conversions of the key's tenant."""

    model_config = ConfigDict(extra="forbid")  # the body refuses other fields: the OpenAPI says so

    conversions: list[Annotated[dict[str, Any], WithJsonSchema(ConversionIn.model_json_schema())]] = Field(
        min_length=1, max_length=MAX_ROWS, description="The conversions, each as `ConversionIn` describes."
    )


class RowError(BaseModel):
    field: str = Field(description="The field of the row that is wrong (`row` when the row itself is).")
    message: str


class ConversionResult(BaseModel):
    index: int = Field(description="The row's position in the request, from 0.")
    status: Literal["created", "duplicate", "rejected"]
    id: int | None = Field(description="Our id of the conversion (the first one's, for a duplicate); null if rejected.")
    errors: list[RowError] = Field(default_factory=list)


class ConversionResults(BaseModel):
    results: list[ConversionResult]


def _row_errors(error: ValidationError) -> list[RowError]:
    return [
        RowError(field=".".join(str(part) for part in e["loc"]) or "row", message=str(e["msg"]))
        for e in error.errors(include_url=False)
    ]


def _request(row: ConversionIn, key: str | None) -> conversions.ConversionRequest:
    return conversions.ConversionRequest(
        lead_id=row.lead_id,
        lead_external_id=row.lead_external_id,
        value=row.value,
        converted_at=row.converted_at,
        note=row.note,
        idempotency_key=key,
    )


@router.post(
    "/conversions",
    response_model=ConversionResults,
    summary="Record conversions (deals won)",
    responses={
        400: {"description": "The body is not JSON (`There was an error parsing the body`)."},
        401: {"description": "No API key, or a malformed, unknown or revoked one."},
    },
)
def post_conversions(
    tenant_id: Tenant,
    batch: Annotated[ConversionBatch, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Makes a retried request safe: rows without an `id` are recorded once under "
            "`<Idempotency-Key>:<row index>`.",
        ),
    ] = None,
) -> ConversionResults:
    """Record conversions (deals won) for the key's tenant.

    Each recorded conversion sets its lead `recovered` (value and date), stops the lead's active
    recovery sequences, and is credited to the last message sent to the lead in the 30 days before
    it (else it is organic), which is how the ROI page's attribution and revenue count it. Answers
    one result per row, in order: `created`, `duplicate` (its id was recorded before; nothing
    changed) or `rejected` with the fields that are wrong. Needs `Authorization: Bearer <API key>`.
    """
    results: list[ConversionResult | None] = [None] * len(batch.conversions)
    accepted: list[tuple[int, conversions.ConversionRequest]] = []
    for index, raw in enumerate(batch.conversions):
        try:
            row = ConversionIn.model_validate(raw)
        except ValidationError as error:
            results[index] = ConversionResult(index=index, status="rejected", id=None, errors=_row_errors(error))
            continue
        key = row.id if row.id is not None else (f"{idempotency_key}:{index}" if idempotency_key else None)
        accepted.append((index, _request(row, key)))
    recorded = conversions.record_batch(tenant_id=tenant_id, requests=[request for _, request in accepted])
    for (index, _), outcome in zip(accepted, recorded, strict=True):
        results[index] = _result(index, outcome)
    return ConversionResults(results=[r for r in results if r is not None])


def _result(index: int, outcome: conversions.Recorded | ConversionError) -> ConversionResult:
    if isinstance(outcome, ConversionError):
        return ConversionResult(
            index=index, status="rejected", id=None, errors=[RowError(field=outcome.field, message=outcome.message)]
        )
    return ConversionResult(index=index, status="created" if outcome.created else "duplicate", id=outcome.id)
