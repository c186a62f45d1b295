"""Set-based builders for sender tests: a tenant, its leads and their outbox rows, in a few statements."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from app.settings import Settings, load_settings
from tests.fakes import twilio_server
from tests.fakes.twilio_server import FakeTwilio

PHYSICAL_ADDRESS = "500 Market Street, Suite 4, San Francisco, CA 94105"


def make_tenant(engine: Engine, *, slug: str = "acme", settings: dict[str, Any] | None = None, **columns: Any) -> int:
    values = {
        "slug": slug,
        "name": slug.title(),
        "sender_name": "Acme Sales",
        "sender_email": f"sales@{slug}.example",
        "physical_address": PHYSICAL_ADDRESS,
        "send_window_start_hour": 0,
        "send_window_end_hour": 24,
        "quiet_start_hour": 0,  # no quiet hours: the sender tests pick their clock freely
        "quiet_end_hour": 0,
        "settings": json.dumps(settings or {"rate_limits": generous_limits()}),
        **columns,
    }
    names = ", ".join(values)
    binds = ", ".join(f"CAST(:{k} AS jsonb)" if k == "settings" else f":{k}" for k in values)
    with engine.begin() as conn:
        return int(
            conn.execute(sa.text(f"INSERT INTO tenants ({names}) VALUES ({binds}) RETURNING id"), values).scalar()
        )


def generous_limits(per_second: float = 100_000, burst: int = 100_000) -> dict[str, Any]:
    limit = {"per_second": per_second, "burst": burst}
    return dict.fromkeys(("tenant", "email_sender", "sms_sender", "email_domain"), limit)


def make_leads(
    engine: Engine,
    tenant_id: int,
    count: int,
    *,
    timezone: str = "UTC",
    consent_email: bool = True,
    consent_sms: bool = True,
    domain: str = "example.com",
) -> list[int]:
    """`count` leads named Lead<n>, with lead<n>@<domain> and a distinct +1555… number each."""
    sql = sa.text("""
        INSERT INTO leads (tenant_id, external_id, first_name, email, phone, timezone, last_activity_at,
                           consent_email, consent_sms)
        SELECT :tenant, 'ext-' || :tenant || '-' || n, 'Lead' || n, 'lead' || n || '@' || :domain,
               '+1555' || lpad(n::text, 7, '0'), :tz, now() - interval '3 days', :ce, :cs
        FROM generate_series(1, :count) AS n
        RETURNING id
    """)
    params = {"tenant": tenant_id, "count": count, "tz": timezone, "ce": consent_email, "cs": consent_sms}
    with engine.begin() as conn:
        return sorted(conn.execute(sql, {**params, "domain": domain}).scalars())


def make_messages(
    engine: Engine,
    tenant_id: int,
    lead_ids: list[int],
    *,
    channel: str = "email",
    scheduled_for: datetime | None = None,
    node: str = "rung-1",
) -> list[int]:
    """One pending outbox row per lead, addressed to the lead's email or phone."""
    sql = sa.text("""
        INSERT INTO outbound_messages (tenant_id, lead_id, node, channel, to_address, subject, body, dedupe_key,
                                       scheduled_for)
        SELECT l.tenant_id, l.id, :node, :channel,
               CASE :channel WHEN 'email' THEN l.email ELSE l.phone END,
               CASE :channel WHEN 'email' THEN 'Still thinking it over, ' || l.first_name || '?' END,
               'Hi ' || l.first_name || ', shall we pick up where we left off? Reply STOP to opt out.',
               l.tenant_id || ':0:' || l.id || ':' || :node || ':' || :channel,
               coalesce(CAST(:scheduled_for AS timestamptz), now() - interval '1 minute')
        FROM leads AS l WHERE l.id = ANY(:leads)
        RETURNING id
    """)
    params = {"node": node, "channel": channel, "scheduled_for": scheduled_for, "leads": lead_ids}
    with engine.begin() as conn:
        return sorted(conn.execute(sql, params).scalars())


def rows(engine: Engine, ids: list[int] | None = None) -> list[dict[str, Any]]:
    where = "WHERE id = ANY(:ids)" if ids is not None else ""
    with engine.connect() as conn:
        result = conn.execute(sa.text(f"SELECT * FROM outbound_messages {where} ORDER BY id"), {"ids": ids})
        return [dict(row) for row in result.mappings()]


def status_counts(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(dict(conn.execute(sa.text("SELECT status, count(*) FROM outbound_messages GROUP BY 1")).all()))


def twilio_settings(fake: FakeTwilio, *, from_number: str = "+15550009999", secret_key: str | None = None) -> Settings:
    """Settings that send texts through the local fake Twilio (links on an https base, as a real provider needs)."""
    extra = {} if secret_key is None else {"secret_key": secret_key}
    return load_settings(
        sms_provider="twilio",
        twilio_account_sid=twilio_server.ACCOUNT_SID,
        twilio_auth_token=twilio_server.AUTH_TOKEN,
        twilio_api_base_url=fake.url,
        twilio_from_number=from_number,
        public_base_url="https://lre.example",
        **extra,
    )
