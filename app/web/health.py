"""`GET /healthz`: 200 when PostgreSQL and Redis both answer, 503 otherwise, for load balancers
and for `make run`'s own readiness check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from app.services import health

router = APIRouter(tags=["health"])


def current_health() -> health.Health:
    """The probe, as a dependency, so a test can override it (`app.dependency_overrides`)."""
    return health.check()


@router.get("/healthz")
def healthz(report: Annotated[health.Health, Depends(current_health)]) -> JSONResponse:
    """A sync route: FastAPI runs it in its thread pool, so slow probes never block the event loop."""
    return JSONResponse(report.as_json(), status_code=200 if report.ok else 503)
