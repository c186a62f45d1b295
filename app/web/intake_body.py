"""What `POST /api/leads` and `POST /api/activities` share: reading the JSON body, and the answer's shape.

The body is read by the route itself, capped while it streams, so every refusal says what is
wrong instead of a generic validation error: a body over 5 MB or a batch over 1,000 items is
413, a content type other than JSON 415, anything that is not `{"<name>": [ ...items ]}` (bad
UTF-8 or JSON, NaN, another top-level field, an empty list) 400. Items are not validated here:
each gets its own answer from the service, so one bad item never refuses the batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_ITEMS = 1000
JSON = "application/json"

_ERROR: dict[str, Any] = {"content": {JSON: {"example": {"detail": "why"}}}}


def refusals(name: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI of the refusals every intake route shares."""
    return {
        400: {
            **_ERROR,
            "description": f'Not UTF-8 JSON of the form {{"{name}": [...]}} with 1 to {MAX_ITEMS:,} items.',
        },
        401: {**_ERROR, "description": "No API key, or a malformed, unknown or revoked one."},
        413: {**_ERROR, "description": f"Body over {MAX_BODY_BYTES // 1024 // 1024} MB, or over {MAX_ITEMS:,} items."},
        415: {**_ERROR, "description": "Content type other than application/json."},
        422: {**_ERROR, "description": "The Idempotency-Key was used before with a different body."},
    }


def intake_clock() -> datetime:
    """Now, for "not in the future" and a new lead's last activity (a test pins it)."""
    return datetime.now(UTC)


class Refused(Exception):
    """A request refused before any item is looked at: the status and the reason."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def response(self) -> JSONResponse:
        return JSONResponse({"detail": self.detail}, status_code=self.status)


@dataclass(frozen=True)
class Batch:
    """The items of a body, and the body as parsed (its digest keys idempotency)."""

    items: list[Any]
    payload: dict[str, Any]


async def read_batch(request: Request, name: str) -> Batch:
    """The body's `name` list; `Refused` (400, 413, 415) for anything else (see the module)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != JSON and not (media_type.startswith("application/") and media_type.endswith("+json")):
        raise Refused(415, f"send the body as {JSON}, not {media_type or 'no content type'}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refused(413, f"the body is {int(declared):,} bytes; the limit is {MAX_BODY_BYTES:,}")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise Refused(413, f"the body is over the limit of {MAX_BODY_BYTES:,} bytes")
    payload = _parsed(bytes(raw))
    if not isinstance(payload, dict) or set(payload) != {name}:
        raise Refused(
            400, f'the body must be a JSON object with one field, "{name}": a list of 1 to {MAX_ITEMS:,} items'
        )
    items = payload[name]
    if not isinstance(items, list) or not items:
        raise Refused(400, f'"{name}" must be a list of 1 to {MAX_ITEMS:,} items')
    if len(items) > MAX_ITEMS:
        raise Refused(413, f'"{name}" has {len(items):,} items; send at most {MAX_ITEMS:,} per request')
    return Batch(items=items, payload=payload)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise Refused(400, "the body is not UTF-8") from None
    except (ValueError, RecursionError) as error:
        raise Refused(400, f"the body is not valid JSON: {error}") from None


def idempotency_key(request: Request) -> str | None:
    """The `Idempotency-Key` header, trimmed; `Refused` (400) when empty or over 200 characters."""
    value = request.headers.get("idempotency-key")
    if value is None:
        return None
    key = value.strip()
    if not 1 <= len(key) <= 200:
        raise Refused(400, "Idempotency-Key: 1 to 200 characters")
    return key


def replayed_header(answer: Any) -> dict[str, str]:
    """`Idempotent-Replayed: true` on a stored answer given again (as Stripe's API says it)."""
    return {"Idempotent-Replayed": "true"} if getattr(answer, "replayed", False) else {}


IDEMPOTENCY_HEADER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the first answer is stored for 24 hours and a request with the same key "
    "and body gets it again (with `Idempotent-Replayed: true`) without writing anything; the same key with "
    "another body gets 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


class RowError(BaseModel):
    field: str = Field(description="The item's field that is wrong (`row` when the item itself is).")
    message: str = Field(description="Why, as a person reads it.")


class ItemResult(BaseModel):
    index: int = Field(description="The item's position in the request, from 0.")
    status: Literal["created", "updated", "rejected"] = Field(
        description="`created` (a new row), `updated` (an existing lead matched; leads only) or `rejected`."
    )
    id: int | None = Field(description="Our id of the lead (or activity) written; null when rejected.")
    errors: list[RowError] = Field(default_factory=list, description="Every reason the item was rejected.")


class ItemResults(BaseModel):
    results: list[ItemResult] = Field(description="One result per item, in the request's order.")
