"""`POST /api/activities`: another system reports what its leads did (a form, a call, a page view...).

Each activity joins its lead's timeline; the lead's own signs of life (a form, a call or meeting,
a page view, an inbound email or text, a click) move its last activity and reset its silence,
by the timeline's rule (app/services/activities.py), and the leads are rescored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

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

ActivityKind = Literal[
    "form",
    "call",
    "meeting",
    "page_view",
    "email_in",
    "email_out",
    "sms_in",
    "sms_out",
    "open",
    "click",
    "note",
    "stage_change",
]


class ActivityIn(BaseModel):
    """One activity. Name the lead by `lead_id` or by `external_id`, not both."""

    model_config = ConfigDict(extra="forbid")

    lead_id: int | None = Field(
        None, description="Our id of the lead (a `POST /api/leads` result's `id`).", examples=[1042]
    )
    external_id: str | int | None = Field(None, description="The lead's id in your CRM.", examples=["HS-88213"])
    kind: ActivityKind = Field(
        description="What happened. form, call, meeting, page_view, email_in, sms_in and click are the lead's own "
        "signs of life: they reset its silence."
    )
    occurred_at: datetime | str = Field(
        description="When (ISO 8601; without a zone, the tenant's local time; not in the future).",
        examples=["2026-12-01T15:04:05Z"],
    )
    channel: str | None = Field(None, max_length=32, examples=["web"])
    summary: str | None = Field(
        None, max_length=1000, description="A line for the lead's timeline.", examples=["Booked a demo"]
    )
    details: dict[str, Any] | None = Field(None, description="Free-form facts kept with the activity (at most 16 KB).")


class ActivityBatch(BaseModel):
    """Up to 1,000 activities of the key's tenant's leads."""

    model_config = ConfigDict(extra="forbid")  # the body refuses other fields: the OpenAPI says so

    activities: list[Annotated[dict[str, Any], WithJsonSchema(ActivityIn.model_json_schema())]] = Field(
        min_length=1, max_length=MAX_ITEMS, description="The activities, each as `ActivityIn` describes."
    )


@router.post(
    "/activities",
    response_model=ItemResults,
    summary="Record lead activities",
    responses=refusals("activities"),
    openapi_extra={
        "parameters": [IDEMPOTENCY_HEADER],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ActivityBatch.model_json_schema()}},
        },
    },
)
async def post_activities(
    request: Request, tenant_id: Tenant, now: Annotated[datetime, Depends(intake_clock)]
) -> JSONResponse:
    """Record up to 1,000 activities of the key's tenant's leads.

    Answers one result per item, in order: `created` with the activity's id, or `rejected` with
    every field's reason (an unknown kind, a time in the future, a lead that is not the tenant's).
    Rejected items change nothing. Needs `Authorization: Bearer <API key>`.
    """
    try:
        key = idempotency_key(request)
        batch = await read_batch(request, "activities")
    except Refused as refused:
        return refused.response()
    answer = await run_in_threadpool(
        intake_api.receive_activities,
        tenant_id=tenant_id,
        items=batch.items,
        key=key,
        digest=intake_api.body_digest(batch.payload),
        now=now,
    )
    return JSONResponse(answer.body, status_code=answer.status, headers=replayed_header(answer))
