"""Each email carries its own Reply-To, even in a batched SendGrid request, and a reply written to it
finds its lead: the sender through the real SDK against the fake SendGrid, the answer through the
Inbound Parse door, read back in SQL.

The expected addresses are worked out here from the token format (`<tenant>-<message>-` and the
first 24 hex digits of HMAC-SHA256 over `reply:<tenant>-<message>` under SECRET_KEY).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api import create_app
from app.services import send
from app.settings import Settings, load_settings
from app.web import sendgrid_inbound
from app.web.twilio import webhook_settings
from tests.fakes import sendgrid_server
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.outbox import make_leads, make_messages, make_tenant
from tests.integration.twilio_door import AT, sql

SECRET = "test-secret-key-for-reply-tokens"
DOMAIN = "reply.lre.example"
INBOUND_SECRET = "inbound-" + "y" * 40


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def config(fake: FakeSendGrid, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "email_provider": "sendgrid",
        "sendgrid_api_key": sendgrid_server.API_KEY,
        "sendgrid_api_host": fake.url,
        "public_base_url": "https://lre.example",
        "secret_key": SECRET,
        "reply_domain": DOMAIN,
        "sendgrid_inbound_secret": INBOUND_SECRET,
        **overrides,
    }
    return load_settings(**values)


def expected_address(tenant_id: int, message_id: int) -> str:
    payload = f"{tenant_id}-{message_id}"
    signature = hmac.new(SECRET.encode(), f"reply:{payload}".encode(), hashlib.sha256).hexdigest()[:24]
    return f"reply+{payload}-{signature}@{DOMAIN}"


@pytest.fixture
def inbound(db: Engine, sendgrid: FakeSendGrid) -> Iterator[TestClient]:
    api = create_app()
    settings = config(sendgrid)
    api.dependency_overrides[webhook_settings] = lambda: settings
    api.dependency_overrides[sendgrid_inbound.clock] = lambda: AT
    with TestClient(api) as client:
        yield client


def reply_to(client: TestClient, *, to: str, sender: str) -> None:
    """An Inbound Parse post of a reply with no In-Reply-To/References: only the address can match it."""
    fields = {
        "headers": f"Message-ID: <r-{sender}@mail.example>\nFrom: {sender}\nTo: {to}\nSubject: Re: hi\n",
        "to": to,
        "from": sender,
        "subject": "Re: hi",
        "text": "Yes please, send me the details.",
        "envelope": '{"to":["' + to + '"],"from":"' + sender + '"}',
        "charsets": '{"to":"UTF-8","text":"UTF-8"}',
    }
    answer = client.post(
        f"/webhooks/sendgrid/inbound/{INBOUND_SECRET}", files=[(k, (None, v)) for k, v in fields.items()]
    )
    assert answer.status_code == 200


def test_a_batch_gives_each_email_its_own_reply_to_and_the_reply_finds_its_lead(
    db: Engine, sendgrid: FakeSendGrid, inbound: TestClient
) -> None:
    tenant = make_tenant(db)
    leads = make_leads(db, tenant, 2)
    messages = make_messages(db, tenant, leads)

    assert send.send_due(settings=config(sendgrid))["sent"] == 2

    [mail] = sendgrid.mails()  # still one request for both
    assert mail["reply_to"] == {"email": f"-lre_reply-@{DOMAIN}"}
    got = {int(d["custom_args"]["message_id"]): d for d in sendgrid.delivered()}
    assert {m: got[m]["reply_to"] for m in messages} == {m: expected_address(tenant, m) for m in messages}
    assert all("-lre_" not in got[m]["body"] for m in messages)

    # Lead 2 answers the address its own email carried, from its own mailbox.
    reply_to(inbound, to=got[messages[1]]["reply_to"], sender="lead2@example.com")

    [row] = sql(db, "SELECT tenant_id, lead_id, message_id FROM inbound_messages")
    assert tuple(row) == (tenant, leads[1], messages[1])


def test_a_single_email_carries_its_reply_to_literally(db: Engine, sendgrid: FakeSendGrid) -> None:
    tenant = make_tenant(db)
    [message] = make_messages(db, tenant, make_leads(db, tenant, 1))

    send.send_due(settings=config(sendgrid))

    [mail] = sendgrid.mails()
    assert mail["reply_to"] == {"email": expected_address(tenant, message)}
    assert "substitutions" not in mail["personalizations"][0]


def test_without_a_reply_domain_no_reply_to_is_set(db: Engine, sendgrid: FakeSendGrid) -> None:
    tenant = make_tenant(db)
    make_messages(db, tenant, make_leads(db, tenant, 2))

    send.send_due(settings=config(sendgrid, reply_domain=None))

    [mail] = sendgrid.mails()
    assert "reply_to" not in mail
    assert all(set(p["substitutions"]) == {"-lre_body-"} for p in mail["personalizations"])
