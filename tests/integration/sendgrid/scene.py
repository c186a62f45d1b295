"""The SendGrid webhook tests' scene and helpers: a tenant with sent emails, events as SendGrid
posts them, a signed POST, a real RQ worker run, and what the database holds afterwards.

Keys are made in each test with `cryptography` (tests/sendgrid_signing.py); the api's clock is
pinned through its `webhook_clock` dependency, so the 5-minute window never depends on when
the suite runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx2 as httpx
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from rq import SimpleWorker
from sqlalchemy import Engine

from app import queue
from tests.integration.outbox import make_leads, make_messages, make_tenant
from tests.sendgrid_signing import SigningKey, body_of

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
T0 = int(NOW.timestamp()) - 600  # events happened in the ten minutes before the POST
URL = "/webhooks/sendgrid/events"
KEY_VARIABLE = "SENDGRID_WEBHOOK_PUBLIC_KEY"


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def post(client: TestClient, key: SigningKey, events: list[dict[str, Any]], **changes: Any) -> httpx.Response:
    body = body_of(events)
    return client.post(URL, content=body, headers=key.headers(body, NOW) | changes)


def work(connection: redis.Redis) -> None:
    """Run the queued applier job on a real worker (the 'high' queue, as the Procfile's workers do)."""
    SimpleWorker(["high"], connection=connection).work(burst=True)


def ev(message: int | None, tenant: int | None, name: str, at: int, **fields: Any) -> dict[str, Any]:
    """One event as SendGrid posts it, with our custom args at the top level (as the sender sets them)."""
    base: dict[str, Any] = {
        "email": f"lead{message}@example.com",
        "timestamp": at,
        "event": name,
        "sg_event_id": f"{name}-{message}-{at}-{fields.get('url', '')}",
        "sg_message_id": "XMSG1.filter0001.16648.5515E0B88.0",
        "category": ["lre"],
    }
    if message is not None:
        base |= {"tenant_id": str(tenant), "message_id": str(message)}
    return base | fields


class Scene:
    """A tenant, its silent leads (lead<n>@<slug>.example) and one sent email each, sharing one
    X-Message-Id as a batched request does; every lead enrolled in a running campaign."""

    def __init__(self, engine: Engine, count: int, *, slug: str = "acme") -> None:
        self.slug = slug
        self.tenant = make_tenant(engine, slug=slug)
        self.leads = make_leads(engine, self.tenant, count, domain=f"{slug}.example")
        self.messages = make_messages(engine, self.tenant, self.leads)
        sql(
            engine,
            """UPDATE outbound_messages SET status = 'sent', provider = 'sendgrid', provider_message_id = 'XMSG1',
               sent_at = to_timestamp(:t0 - 3600) WHERE id = ANY(:ids)""",
            t0=T0,
            ids=self.messages,
        )
        sql(
            engine,
            """UPDATE leads SET recovery_state = 'silent', silence_level = 2,
               last_activity_at = to_timestamp(:t0) - interval '20 days' WHERE id = ANY(:ids)""",
            t0=T0,
            ids=self.leads,
        )
        campaign = sql(
            engine,
            "INSERT INTO campaigns (tenant_id, name, status) VALUES (:t, 'Win back', 'running') RETURNING id",
            t=self.tenant,
        )[0].id
        sql(
            engine,
            """INSERT INTO enrollments (tenant_id, campaign_id, lead_id, current_node, rung, status)
               SELECT :t, :c, l, 'rung-1', 1, 'active' FROM unnest(CAST(:leads AS bigint[])) AS l""",
            t=self.tenant,
            c=campaign,
            leads=self.leads,
        )

    def address(self, index: int) -> str:
        return f"lead{index + 1}@{self.slug}.example"

    def ev(self, index: int, name: str, at: int, **fields: Any) -> dict[str, Any]:
        """An event for message `index`, with the custom args the sender sets (tenant, message, lead)."""
        ours = {"email": self.address(index), "lead_id": str(self.leads[index])}
        return ev(self.messages[index], self.tenant, name, at, **(ours | fields))


def fingerprint(engine: Engine) -> tuple[Any, ...]:
    """Everything an applied event could change, outside the delivery log."""
    return tuple(
        sql(
            engine,
            """SELECT (SELECT count(*) FROM message_events), (SELECT count(*) FROM activities),
                      (SELECT count(*) FROM suppressions), (SELECT count(*) FROM campaign_transitions),
                      (SELECT string_agg(id || status || coalesce(delivered_at::text, ''), ',' ORDER BY id)
                       FROM outbound_messages),
                      (SELECT string_agg(id || recovery_state || silence_level || last_activity_at, ',' ORDER BY id)
                       FROM leads)""",
        )[0]
    )


def deliveries(engine: Engine) -> list[sa.Row[Any]]:
    return sql(
        engine,
        """SELECT id, result, signature_valid, error, event_count, applied_count, duplicate_count,
                  unmatched_count, ignored_count, length(body) AS body_chars
           FROM webhook_deliveries ORDER BY id""",
    )


PRICING = "https://acme.example/pricing"


def enqueue_sweep(connection: redis.Redis) -> None:
    queue.enqueue(connection, "apply_webhooks")
