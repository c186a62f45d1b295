"""`POST /api/leads`: another system (a CRM, a form tool, a spreadsheet job) sends its leads.

Up to 1,000 leads per request, each upserted into the key's tenant: matched by external id,
else email, else phone; created when none matches. Each lead is checked on its own, so a batch
may mix good and bad items: the good ones land, the bad ones come back with each field's reason
(app/services/intake_api.py). The body's format is `LeadIn`; phones become E.164 (read in the
tenant's country when written without a country code), emails are checked for syntax (no DNS).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from app.services import intake_api
from app.web.auth import Tenant
from app.web.intake_body import (
    IDEMPOTENCY_HEADER,
    MAX_ITEMS,
    ItemResults,
    Refused,
    idempotency_key,
    intake_clock,
    read_batch,
    refusals,
    replayed_header,
)

router = APIRouter(prefix="/api", tags=["intake"])


class LeadIn(BaseModel):
    """One lead. Give at least one of `external_id`, `email` and `phone`: they tell leads apart.
    A field left out (or null) is not changed on an existing lead."""

    model_config = ConfigDict(extra="forbid")

    external_id: str | int | None = Field(
        None, description="Your CRM's id of the lead (text up to 255 characters, or a number).", examples=["HS-88213"]
    )
    first_name: str | None = Field(None, max_length=100, examples=["Ada"])
    last_name: str | None = Field(None, max_length=100, examples=["Lovelace"])
    full_name: str | None = Field(
        None,
        max_length=200,
        description="Instead of first and last name: `Ada Lovelace` or `Lovelace, Ada`, split in two "
        "(ignored when first_name or last_name is given).",
        examples=["Ada Lovelace"],
    )
    company: str | None = Field(None, max_length=200, examples=["Analytical Engines Ltd"])
    title: str | None = Field(None, max_length=200, examples=["Head of Operations"])
    email: str | None = Field(
        None, description="Checked for syntax, stored in lower case.", examples=["ada@example.com"]
    )
    phone: str | None = Field(
        None,
        description="Any common format; without a country code it is read in the tenant's country (US when unset). "
        "Stored as E.164. A fixed line is kept but marked unreachable for texts.",
        examples=["+1 415 555 2671"],
    )
    timezone: str | None = Field(
        None, description="IANA name; default for a new lead: the tenant's.", examples=["America/New_York"]
    )
    source: str | None = Field(None, max_length=100, description="Default for a new lead: `api`.", examples=["webinar"])
    stage: str | None = Field(
        None, max_length=100, description="Default for a new lead: `new`.", examples=["qualified"]
    )
    deal_value: Decimal | str | None = Field(
        None,
        description="0 or more, at most two decimals; text may carry `$` and thousands separators.",
        examples=["1250.00"],
    )
    tags: list[str] | str | None = Field(
        None, description="Labels, as a list or one text separated by `;`; at most 50.", examples=[["vip", "west"]]
    )
    attributes: dict[str, Any] | None = Field(
        None,
        description="Free-form facts; merged key by key into the lead's. At most 100 keys, 16 KB.",
        examples=[{"plan": "pro"}],
    )
    consent_email: bool | None = Field(None, description="May we email this lead? Default for a new lead: true.")
    consent_sms: bool | None = Field(None, description="May we text this lead? Default for a new lead: false.")
    last_activity_at: datetime | str | None = Field(
        None,
        description="The lead's last sign of life (ISO 8601; without a zone, the tenant's local time; "
        "not in the future). A later one than ours resets the lead's silence; default for a new lead: now.",
        examples=["2026-12-01T15:04:05Z"],
    )


class LeadBatch(BaseModel):
    """Up to 1,000 leads of the key's tenant."""

    model_config = ConfigDict(extra="forbid")  # the body refuses other fields: the OpenAPI says so

    leads: list[Annotated[dict[str, Any], WithJsonSchema(LeadIn.model_json_schema())]] = Field(
        min_length=1, max_length=MAX_ITEMS, description="The leads, each as `LeadIn` describes."
    )


@router.post(
    "/leads",
    response_model=ItemResults,
    summary="Create or update leads",
    responses=refusals("leads"),
    openapi_extra={
        "parameters": [IDEMPOTENCY_HEADER],
        "requestBody": {"required": True, "content": {"application/json": {"schema": LeadBatch.model_json_schema()}}},
    },
)
async def post_leads(
    request: Request, tenant_id: Tenant, now: Annotated[datetime, Depends(intake_clock)]
) -> JSONResponse:
    """Create or update up to 1,000 leads of the key's tenant.

    Each lead is matched to an existing one by `external_id`, else `email`, else `phone`, and
    updated (only the fields given), or created. Leads of one request that name the same person
    are written once, the later item's values winning. Answers one result per item, in order:
    `created`, `updated` or `rejected` with every field's reason; rejected items change nothing.
    Needs `Authorization: Bearer <API key>`.
    """
    try:
        key = idempotency_key(request)
        batch = await read_batch(request, "leads")
    except Refused as refused:
        return refused.response()
    answer = await run_in_threadpool(
        intake_api.receive_leads,
        tenant_id=tenant_id,
        items=batch.items,
        key=key,
        digest=intake_api.body_digest(batch.payload),
        now=now,
    )
    return JSONResponse(answer.body, status_code=answer.status, headers=replayed_header(answer))
