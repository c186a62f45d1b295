"""What the sender's tests share: settings that point the real SDKs at the local fakes, and
a tenant with one email due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from app import runtime
from app.services.ratelimit import TokenBuckets
from app.settings import Settings, load_settings
from tests.fakes import sendgrid_server
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.fakes.twilio_server import FakeTwilio
from tests.integration import outbox
from tests.integration.outbox import make_leads, make_messages, make_tenant

SECRET = "test-secret-key-for-unsubscribe"
PUBLIC = "https://lre.example"
FROM_NUMBER = "+15550009999"


def sendgrid_settings(fake: FakeSendGrid) -> Settings:
    return load_settings(
        email_provider="sendgrid",
        sendgrid_api_key=sendgrid_server.API_KEY,
        sendgrid_api_host=fake.url,
        public_base_url=PUBLIC,
        secret_key=SECRET,
    )


def twilio_settings(fake: FakeTwilio) -> Settings:
    return outbox.twilio_settings(fake, from_number=FROM_NUMBER, secret_key=SECRET)


def later(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


def daytime(hours: float = 0) -> datetime:
    """Noon UTC tomorrow, plus `hours`: a sender clock inside 08-21 in the leads' zone (UTC) for
    texts, whatever the hour the suite runs at; the rows made today are due long before it."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, 12, tzinfo=UTC) + timedelta(hours=hours)


def one_email(db: Engine, **tenant: Any) -> int:
    tenant_id = make_tenant(db, **tenant)
    return make_messages(db, tenant_id, make_leads(db, tenant_id, 1))[0]


def buckets() -> TokenBuckets:
    return TokenBuckets(runtime.redis_client())
