"""Shared by the privacy tests: one lead with unmistakable values written into every place the
product keeps text, a neighbour and a namesake in another tenant who must be left alone, and
searches of the whole database (`pg_dump`) and of every Redis key for those values."""

from __future__ import annotations

import contextlib
import json
import urllib.parse
import zlib
from dataclasses import dataclass
from typing import Any

import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from tests.integration.outbox import make_tenant

EMAIL = "zebulon.quistwhistle@example.org"
PHONE = "+14155552671"
FIRST = "Zebulon"
LAST = "Quistwhistle"
REPLY = "Zebulon here: my dog Biscuitfang ate the brochure, send another"
COMPANY = "Quistwhistle Holdings"
NEEDLES = [EMAIL, PHONE, FIRST, LAST, "Biscuitfang", COMPANY]
"""What must be nowhere after the erasure, in any spelling (`spellings`)."""
NEIGHBOUR_EMAIL = "ada.neighbour@example.org"


def spellings(needle: str) -> list[str]:
    """The needle as typed, lower-cased, URL-encoded and JSON-escaped (worked out here, not by the product)."""
    return sorted({needle, needle.lower(), urllib.parse.quote(needle, safe=""), urllib.parse.quote_plus(needle)})


@dataclass(frozen=True)
class World:
    acme: int
    birch: int
    lead: int
    neighbour: int
    namesake: int


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def one(engine: Engine, statement: str, **params: Any) -> Any:
    return sql(engine, statement, **params)[0][0]


def lead(engine: Engine, tenant_id: int, external_id: str, first: str, last: str, email: str, phone: str) -> int:
    return int(
        one(
            engine,
            """INSERT INTO leads (tenant_id, external_id, first_name, last_name, company, email, phone,
                                  last_activity_at, tags, attributes, consent_sms, recovery_state)
               VALUES (:t, :x, :f, :l, :c, :e, :p, now() - interval '3 days', ARRAY[:f], CAST(:attrs AS jsonb),
                       true, 'in_recovery')
               RETURNING id""",
            t=tenant_id,
            x=external_id,
            f=first,
            l=last,
            c=COMPANY if first == FIRST else None,
            e=email,
            p=phone,
            attrs=json.dumps({"spouse": f"{first} {last} senior", "interest": "boats"}),
        )
    )


def build(engine: Engine, *, namesake: bool = False) -> World:
    """The lead of tenant acme and its data everywhere; the neighbour in acme; with `namesake`, the
    same person (same names, email and phone) in tenant birch, whose data is birch's to keep."""
    acme = make_tenant(engine)
    birch = make_tenant(engine, slug="birch")
    target = lead(engine, acme, "crm-zq", FIRST, LAST, EMAIL, PHONE)
    neighbour = lead(engine, acme, "crm-ada", "Ada", "Neighbour", NEIGHBOUR_EMAIL, "+15557770999")
    other = lead(engine, birch, "crm-zq", FIRST, LAST, EMAIL, PHONE) if namesake else 0
    for tenant_id, lead_id in ((acme, target), (acme, neighbour), (birch, other)):
        if lead_id:
            _history(engine, tenant_id, lead_id)
    _unlinked(engine, acme, target)
    return World(acme, birch, target, neighbour, other)


def _history(engine: Engine, tenant_id: int, lead_id: int) -> None:
    """What the product writes about a lead: timeline, outbox, events, a reply and its label, an AI
    generation, a plan with its state and work, a conversion and a suppression."""
    params = {"t": tenant_id, "l": lead_id}
    ids = sql(
        engine,
        """
        WITH l AS (SELECT * FROM leads WHERE id = :l),
        c AS (INSERT INTO campaigns (tenant_id, name, status) VALUES (:t, 'Win back', 'running') RETURNING id),
        g AS (INSERT INTO ai_generations (tenant_id, purpose, model, prompt_hash, lead_id, output, cost_usd)
              SELECT :t, 'write', 'claude', 'k1:lead-' || :l, :l,
                     'Hi ' || l.first_name || ' ' || l.last_name || ', about ' || coalesce(l.company, 'work'), 0.01
              FROM l RETURNING id),
        e AS (INSERT INTO enrollments (tenant_id, campaign_id, lead_id, status, state)
              SELECT :t, c.id, :l, 'active', jsonb_build_object('greeting', 'Dear ' || l.first_name) FROM c, l
              RETURNING id, campaign_id),
        m AS (INSERT INTO outbound_messages (tenant_id, campaign_id, enrollment_id, lead_id, node, channel,
                                             to_address, subject, body, status, dedupe_key, cost_usd,
                                             ai_generation_id, last_error, sent_at)
              SELECT :t, e.campaign_id, e.id, :l, 'rung-1', 'email', l.email, 'For you, ' || l.first_name,
                     'Hi ' || l.first_name || ' ' || l.last_name, 'sent', :t || ':' || :l || '-r1', 0.02, g.id,
                     NULL, now() - interval '2 days'
              FROM e, l, g RETURNING id, campaign_id)
        SELECT (SELECT id FROM e) AS enrollment, (SELECT id FROM m) AS message, (SELECT campaign_id FROM m) AS campaign
        """,
        **params,
    )[0]
    more = {**params, "e": ids.enrollment, "m": ids.message, "c": ids.campaign, "reply": REPLY}
    for statement in _HISTORY:
        sql(engine, statement, **more)


_HISTORY = [
    """INSERT INTO outbound_messages (tenant_id, campaign_id, enrollment_id, lead_id, node, channel, to_address,
                                      body, status, dedupe_key, last_error)
       SELECT :t, :c, :e, :l, 'rung-2', 'sms', phone, 'Hi ' || first_name || ', still keen?', 'pending',
              :t || ':' || :l || '-r2', 'Twilio 400: The To number ' || phone || ' is unreachable'
       FROM leads WHERE id = :l""",
    """INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key, payload)
       SELECT :t, :e, :l, 'event', 'rung-2', now(), 'sa:' || :l, jsonb_build_object('event', 'reply', 'from', email)
       FROM leads WHERE id = :l""",
    """INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason)
       VALUES (:t, :e, 'start', 'rung-1', 'enrolled', 'silent 3 days')""",
    """INSERT INTO activities (tenant_id, lead_id, kind, channel, occurred_at, summary, details)
       SELECT :t, :l, 'call', NULL, now() - interval '4 days', 'Call with ' || first_name || ' ' || last_name,
              jsonb_build_object('notes', first_name || ' asked about pricing', 'dialled', phone)
       FROM leads WHERE id = :l""",
    """INSERT INTO message_events (tenant_id, message_id, lead_id, channel, event_type, occurred_at, natural_key,
                                   url, payload)
       SELECT :t, :m, :l, 'email', 'click', now(), 'nk:' || :m, 'https://acme.example/?who=' || email,
              jsonb_build_object('email', email, 'useragent', 'Mail')
       FROM leads WHERE id = :l""",
    """WITH i AS (INSERT INTO inbound_messages (tenant_id, lead_id, message_id, channel, from_address, body, intent,
                                                suggested_reply, triage_reason)
                  SELECT :t, :l, :m, 'sms', phone, :reply, 'interested', 'Thanks ' || first_name || '!',
                         'mentions ' || last_name
                  FROM leads WHERE id = :l RETURNING id, body)
       INSERT INTO reply_labels (tenant_id, inbound_message_id, channel, text, intent)
       SELECT :t, id, 'sms', body, 'interested' FROM i""",
    """INSERT INTO conversions (tenant_id, lead_id, campaign_id, message_id, channel, value, method, attribution,
                                converted_at)
       SELECT :t, :l, :c, :m, 'email', 1200, 'ai', jsonb_build_object('contact', email), now()
       FROM leads WHERE id = :l""",
    """INSERT INTO suppressions (tenant_id, channel, address, reason) SELECT :t, 'email', email, 'unsubscribe'
       FROM leads WHERE id = :l""",
]


def _unlinked(engine: Engine, tenant_id: int, lead_id: int) -> None:
    """Rows that do not name the lead: raw webhooks (a SendGrid batch with the neighbour's events
    too, a Twilio text), a stored job error and an intake answer."""
    batch = json.dumps(
        [
            {"email": EMAIL, "event": "open", "sg_message_id": "a.1", "lead_id": str(lead_id)},
            {"email": NEIGHBOUR_EMAIL, "event": "open", "sg_message_id": "b.1"},
        ]
    )
    form = urllib.parse.urlencode({"From": PHONE, "To": "+15550009999", "Body": REPLY})
    sql(
        engine,
        """INSERT INTO webhook_deliveries (tenant_id, provider, endpoint, headers, body, result)
           VALUES (:t, 'sendgrid', 'sendgrid/events', '{}', :batch, 'applied'),
                  (:t, 'twilio', 'twilio/sms', jsonb_build_object('x-from', CAST(:phone AS text)), :form, 'applied'),
                  (NULL, 'sendgrid', 'sendgrid/events', '{}', :batch, 'rejected')""",
        t=tenant_id,
        batch=batch,
        form=form,
        phone=PHONE,
    )
    sql(
        engine,
        """INSERT INTO agent_runs (tenant_id, job_id, agent, status, error)
           VALUES (:t, 'job-1', 'writer', 'failed',
                   'IntegrityError: duplicate key (email)=(' || CAST(:e AS text) || ')')""",
        t=tenant_id,
        e=EMAIL,
    )
    sql(
        engine,
        """INSERT INTO intake_requests (tenant_id, endpoint, key, body_sha256, status_code, response)
           VALUES (:t, 'leads', 'idem-1', 'abc', 200, jsonb_build_object('results',
                   jsonb_build_array(jsonb_build_object('email', CAST(:e AS text), 'name', CAST(:n AS text),
                                                        'lead_id', CAST(:l AS bigint)))))""",
        t=tenant_id,
        e=EMAIL,
        n=f"{FIRST} {LAST}",
        l=lead_id,
    )


def database_dump(engine: Engine) -> str:
    """Every row of every table of the database, each as PostgreSQL prints the whole row (every
    column, JSON as stored): a dump that needs no `pg_dump` of the server's version."""
    tables = [
        row[0]
        for row in sql(
            engine,
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
        )
    ]
    assert "leads" in tables
    assert "webhook_deliveries" in tables
    parts = [
        f"-- {t}\n" + (one(engine, f'SELECT string_agg(CAST(x AS text), chr(10)) FROM "{t}" AS x') or "")
        for t in tables
    ]
    return "\n".join(parts)


def redis_texts(client: redis.Redis) -> list[bytes]:
    """Every key of the db and everything in it (zlib-compressed values opened)."""
    found: list[bytes] = []
    for name in client.scan_iter():
        found.append(name)
        kind = client.type(name).decode()
        if kind == "string":
            values = [client.get(name)]
        elif kind == "hash":
            values = [v for pair in client.hgetall(name).items() for v in pair]
        elif kind == "list":
            values = client.lrange(name, 0, -1)
        elif kind == "set":
            values = list(client.smembers(name))
        elif kind == "zset":
            values = client.zrange(name, 0, -1)
        else:
            values = []
        for value in values:
            found.append(value)
            with contextlib.suppress(zlib.error):
                found.append(zlib.decompress(value))
    return found


def found_in_dump(dump: str, needles: list[str]) -> list[str]:
    lowered = dump.lower()
    return [spelling for needle in needles for spelling in spellings(needle) if spelling.lower() in lowered]


def found_in_redis(client: redis.Redis, needles: list[str]) -> list[str]:
    texts = [t.lower() for t in redis_texts(client)]
    return [s for n in needles for s in spellings(n) if any(s.lower().encode() in t for t in texts)]
