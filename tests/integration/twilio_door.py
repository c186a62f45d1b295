"""Posting to the Twilio webhooks as Twilio does: form bodies signed with the SDK's own validator,
over the public URL; plus the rows the tests start from and read back in SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from rq import SimpleWorker
from sqlalchemy import Engine
from twilio.request_validator import RequestValidator

from app import queue
from app.api import create_app
from app.settings import Settings, load_settings
from app.web.twilio import clock, webhook_settings

TOKEN = "test-twilio-auth-token"
PUBLIC = "https://lre.example"
SHARED_NUMBER = "+15550009999"
"""TWILIO_FROM_NUMBER: the number of every tenant without its own sender_phone."""
AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
"""The pinned clock of the inbound route."""
STATUS = "/webhooks/twilio/status"
SMS = "/webhooks/twilio/sms"
ACCOUNT = "AC" + "0" * 31 + "1"


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "twilio_auth_token": TOKEN,
        "public_base_url": PUBLIC,
        "twilio_from_number": SHARED_NUMBER,
        **overrides,
    }
    return load_settings(**values)


def client_for(config: Settings) -> TestClient:
    api = create_app()
    api.dependency_overrides[webhook_settings] = lambda: config
    api.dependency_overrides[clock] = lambda: AT
    return TestClient(api)


def signature(url: str, fields: dict[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, fields))


def post(
    client: TestClient,
    path: str,
    fields: dict[str, str],
    *,
    query: str = "",
    sign: bool = True,
    signed_fields: dict[str, str] | None = None,
    token: str = TOKEN,
) -> Any:
    """POST a form as Twilio would, signed over PUBLIC + path + query (or over `signed_fields`, to tamper)."""
    suffix = f"?{query}" if query else ""
    headers = {"X-Twilio-Signature": signature(PUBLIC + path + suffix, signed_fields or fields, token)} if sign else {}
    return client.post(path + suffix, data=fields, headers=headers)


def status_fields(sid: str, status: str, *, to: str, error_code: str | None = None) -> dict[str, str]:
    fields = {
        "AccountSid": ACCOUNT,
        "ApiVersion": "2010-04-01",
        "From": SHARED_NUMBER,
        "To": to,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
    }
    if error_code is not None:
        fields["ErrorCode"] = error_code
    return fields


def text_fields(sid: str, body: str, *, sender: str, to: str = SHARED_NUMBER) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT,
        "ApiVersion": "2010-04-01",
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }


def run_worker(connection: redis.Redis) -> None:
    """The applier job the route enqueued, run by a real RQ worker until the queues are empty."""
    SimpleWorker(list(queue.QUEUES), connection=connection).work(burst=True)


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def enroll(engine: Engine, tenant_id: int, lead_ids: list[int]) -> list[int]:
    """One active enrollment per lead in a running campaign, each with a pending timer; ids in lead order."""
    campaign = sql(
        engine,
        "INSERT INTO campaigns (tenant_id, name, status) VALUES (:t, 'Win back', 'running') RETURNING id",
        t=tenant_id,
    )[0].id
    rows = sql(
        engine,
        """INSERT INTO enrollments (tenant_id, campaign_id, lead_id, current_node, rung, status)
           SELECT :t, :c, l, 'rung-1', 1, 'active' FROM unnest(CAST(:leads AS bigint[])) AS l RETURNING id, lead_id""",
        t=tenant_id,
        c=campaign,
        leads=lead_ids,
    )
    sql(
        engine,
        """INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key)
           SELECT :t, e.id, e.lead_id, 'send', 'rung-2', now(), 'k:' || e.id FROM enrollments AS e
           WHERE e.campaign_id = :c""",
        t=tenant_id,
        c=campaign,
    )
    return [r.id for r in sorted(rows, key=lambda r: r.lead_id)]


def mark_sent(engine: Engine, message_id: int, sid: str, *, status: str = "sent") -> None:
    """The row as the sender leaves it after Twilio accepted it (or `held`, without a SID, when no answer came)."""
    sql(
        engine,
        """UPDATE outbound_messages SET status = :s, provider = 'twilio', attempts = 1,
                  provider_message_id = CASE WHEN :s = 'held' THEN NULL ELSE :sid END,
                  sent_at = CASE WHEN :s = 'held' THEN NULL ELSE now() END,
                  last_error = CASE WHEN :s = 'held' THEN 'no response from Twilio: read timeout' END
           WHERE id = :id""",
        s=status,
        sid=sid,
        id=message_id,
    )


SNAPSHOT_TABLES = (
    "outbound_messages",
    "message_events",
    "suppressions",
    "inbound_messages",
    "activities",
    "enrollments",
    "campaign_transitions",
    "scheduled_actions",
    "leads",
    "tenants",
)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a webhook may change, to show that a refused one changed none."""
    return {table: [tuple(r) for r in sql(engine, f"SELECT * FROM {table} ORDER BY id")] for table in SNAPSHOT_TABLES}


def tenant_snapshot(engine: Engine, tenant_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """`snapshot` of one tenant's rows: another tenant's text must leave them as they were."""
    return {
        table: [
            tuple(r)
            for r in sql(
                engine,
                f"SELECT * FROM {table} WHERE {'id' if table == 'tenants' else 'tenant_id'} = :t ORDER BY id",
                t=tenant_id,
            )
        ]
        for table in SNAPSHOT_TABLES
    }


def deliveries(engine: Engine) -> list[sa.Row[Any]]:
    return sql(engine, "SELECT * FROM webhook_deliveries ORDER BY id")
