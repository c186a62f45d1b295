"""The ASGI app of the `api` process: `uvicorn app.api:app`.

`create_app()` builds a fresh app from the routers of `app/web/`, so tests can make their
own (with dependency overrides) without touching the module-level `app` that uvicorn
serves. Nothing here holds state: connections come from `app.runtime`, built once per
process from the settings.
"""

from __future__ import annotations

from fastapi import FastAPI

from app.services.health import app_version
from app.settings import get_settings
from app.web import activities, conversions, health, leads, sendgrid_events, sendgrid_inbound, twilio, unsubscribe


def create_app() -> FastAPI:
    """The api with every router mounted; later issues add their routers here."""
    get_settings()  # a malformed environment stops the process at start, with one line
    api = FastAPI(title="Lead Recovery Engine", version=app_version())
    api.include_router(health.router)
    api.include_router(sendgrid_events.router)
    api.include_router(sendgrid_inbound.router)
    api.include_router(twilio.router)
    api.include_router(unsubscribe.router)
    api.include_router(conversions.router)
    api.include_router(leads.router)
    api.include_router(activities.router)
    return api


app = create_app()
