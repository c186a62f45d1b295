"""What the writer reads for a claimed batch: each lead's context, history, best window and templates.

Every read is set-based over the whole batch (one statement per kind of fact, never one per
lead), so a batch of 200 costs a handful of round trips. Split from `write.py`, which decides
what is written and stores it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger, Text

from app import runtime
from app.ai.context import LeadContext, PastActivity, TemplateText
from app.ai.features import TRACKING_KINDS
from app.domain import best_time
from app.domain.best_time import BestWindow
from app.domain.sending_window import zone
from app.services import tenant_voice
from db import best_time as best_time_reads

RECENT_ACTIVITIES = 5
TENANT_SLOTS_TTL = timedelta(minutes=15)

CONTEXTS = text(
    """
    WITH usual AS (
        SELECT CASE WHEN count(*) >= :large_min_leads
                    THEN percentile_cont(:large_percentile) WITHIN GROUP (ORDER BY deal_value) END AS large_from
        FROM leads WHERE tenant_id = :tenant_id AND deal_value > 0
    )
    SELECT a.id AS action_id, a.node, a.enrollment_id, a.payload, (a.payload ->> 'claims')::int AS claims,
           COALESCE(a.payload ->> 'source', '') LIKE :asked_by_person AS asked_by_person,
           e.campaign_id, e.rung, e.status AS enrollment_status, c.plan,
           l.id AS lead_id, l.first_name, l.last_name, l.company, l.title, l.email, l.phone, l.source,
           l.stage, l.deal_value, COALESCE(l.deal_value > usual.large_from, false) AS large_deal,
           l.recovery_state, l.consent_email, l.consent_sms,
           COALESCE(l.attributes ->> 'interest', l.attributes ->> 'product', l.attributes ->> 'service') AS interest,
           GREATEST(floor(extract(epoch FROM now() - l.last_activity_at) / 86400), 0)::int AS days_silent,
           t.name AS business_name, t.sender_name, t.sender_email, t.sender_phone, t.settings AS tenant_settings,
           l.timezone,
           t.send_window_start_hour, t.send_window_end_hour, t.quiet_start_hour, t.quiet_end_hour,
           EXISTS (SELECT 1 FROM suppressions s
                   WHERE s.tenant_id = a.tenant_id AND s.channel = 'email'
                     AND s.address IN (l.email, lower(l.email))) AS email_suppressed,
           EXISTS (SELECT 1 FROM suppressions s
                   WHERE s.tenant_id = a.tenant_id AND s.channel = 'sms' AND s.address = l.phone) AS sms_suppressed
    FROM scheduled_actions a
    JOIN leads l ON l.id = a.lead_id AND l.tenant_id = a.tenant_id
    JOIN tenants t ON t.id = a.tenant_id
    LEFT JOIN enrollments e ON e.id = a.enrollment_id
    LEFT JOIN campaigns c ON c.id = e.campaign_id
    CROSS JOIN usual
    WHERE a.tenant_id = :tenant_id AND a.id = ANY(:ids)
    ORDER BY a.due_at, a.id
    """
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))

RECENT = text(
    """
    SELECT x.lead_id, act.kind, act.summary,
           GREATEST(floor(extract(epoch FROM now() - act.occurred_at) / 86400), 0)::int AS days_ago
    FROM unnest(:lead_ids) AS x(lead_id)
    CROSS JOIN LATERAL (
        SELECT kind, summary, occurred_at FROM activities
        WHERE activities.lead_id = x.lead_id AND activities.tenant_id = :tenant_id
          AND activities.kind <> ALL(:tracking)
        ORDER BY occurred_at DESC
        LIMIT :per_lead
    ) AS act
    ORDER BY x.lead_id, act.occurred_at DESC
    """
).bindparams(bindparam("lead_ids", type_=ARRAY(BigInteger)), bindparam("tracking", type_=ARRAY(Text)))

TEMPLATES = text(
    """
    SELECT t.id AS template_id, t.channel, v.id AS version_id, v.subject, v.body
    FROM templates t JOIN template_versions v ON v.template_id = t.id AND v.version = t.current_version
    WHERE t.tenant_id = :tenant_id AND t.id = ANY(:ids)
    """
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))


TEMPLATES_BY_NAME = text(
    """
    SELECT t.name, t.channel, v.id AS version_id, v.subject, v.body
    FROM templates t JOIN template_versions v ON v.template_id = t.id AND v.version = t.current_version
    WHERE t.tenant_id = :tenant_id AND t.name = ANY(:names)
    """
).bindparams(bindparam("names", type_=ARRAY(Text)))


def recent(session: Session, tenant_id: int, lead_ids: list[int]) -> dict[int, tuple[PastActivity, ...]]:
    """The last few things each lead did or was told, newest first, in one lateral query.

    Tracking events (opens, clicks, page views) are left out: a message must never reveal them.
    """
    params = {
        "tenant_id": tenant_id,
        "lead_ids": sorted(set(lead_ids)),
        "per_lead": RECENT_ACTIVITIES,
        "tracking": list(TRACKING_KINDS),
    }
    found: dict[int, list[PastActivity]] = {}
    for row in session.execute(RECENT, params):
        found.setdefault(row.lead_id, []).append(PastActivity(row.kind, row.days_ago, row.summary or ""))
    return {lead_id: tuple(items) for lead_id, items in found.items()}


def best_windows(session: Session, tenant_id: int, rows: Sequence[Row[Any]], now: datetime) -> dict[int, BestWindow]:
    """Each lead's best window from its own replies and clicks, else the tenant's heat-map.

    The tenant's heat-map is read only when some lead of the batch lacks history of its own.
    A send a rep asked for ("Recover now") gets no window: the person wants it out at the first
    allowed moment, and waiting two days for a better hour would look like nothing happened.
    """
    wanted = [row for row in rows if not row.asked_by_person]
    if not wanted:
        return {}
    conn = session.connection()
    lead_zones = {row.lead_id: zone(row.timezone).key for row in wanted}  # the zone the slot is chosen in
    own = best_time_reads.lead_slot_counts(conn, tenant_id, lead_zones, now=now)
    lacking = any(sum(own.get(lead_id, {}).values()) < best_time.MIN_EVENTS for lead_id in lead_zones)
    tenant = tenant_slot_counts(session, tenant_id, now) if lacking else {}
    return {lead_id: best_time.best_window(own.get(lead_id, {}), tenant) for lead_id in lead_zones}


def tenant_slot_counts(session: Session, tenant_id: int, now: datetime) -> dict[tuple[int, int], int]:
    """The tenant's heat-map, kept in Redis for TENANT_SLOTS_TTL.

    Ninety days of replies and clicks hardly move in minutes, and reading them costs more than
    the rest of a batch's reads together; Redis (not the process) so every worker host shares it.
    """
    client = runtime.redis_client()
    key = f"best_time:tenant_slots:{tenant_id}"
    cached = client.get(key)
    if cached is not None:
        return {(d, h): n for d, h, n in json.loads(cached)}
    counts = best_time_reads.tenant_slot_counts(session.connection(), tenant_id, now=now)
    payload = json.dumps([[d, h, n] for (d, h), n in sorted(counts.items())])
    client.set(key, payload, ex=int(TENANT_SLOTS_TTL.total_seconds()))
    return counts


def node_spec(plan: Any, node: str | None) -> dict[str, Any]:
    """The campaign plan's node for this action, whether the plan lists nodes or maps them by id."""
    nodes = plan.get("nodes") if isinstance(plan, dict) else None
    if isinstance(nodes, dict):
        spec = nodes.get(node)
        return spec if isinstance(spec, dict) else {}
    if isinstance(nodes, list):
        return next((n for n in nodes if isinstance(n, dict) and n.get("id") == node), {})
    return {}


def templates(session: Session, tenant_id: int, rows: Sequence[Row[Any]]) -> dict[Any, tuple[str, TemplateText]]:
    """The current version of every template the batch names: by id (a node's `template_id`) and by
    (name, channel) (the template the plan interpreter chose for the send, the variant's or the node's)."""
    ids = sorted({i for i in (template_id(node_spec(row.plan, row.node)) for row in rows) if i is not None})
    names = sorted({name for row in rows if isinstance(name := (row.payload or {}).get("template"), str)})
    found: dict[Any, tuple[str, TemplateText]] = {}
    if ids:
        for r in session.execute(TEMPLATES, {"tenant_id": tenant_id, "ids": ids}):
            found[r.template_id] = (r.channel, TemplateText(r.body, r.subject, r.version_id))
    if names:
        for r in session.execute(TEMPLATES_BY_NAME, {"tenant_id": tenant_id, "names": names}):
            found[(r.name, r.channel)] = (r.channel, TemplateText(r.body, r.subject, r.version_id))
    return found


def planned_brief(row: Row[Any], spec: dict[str, Any]) -> str:
    """The brief the plan chose for this send (its variant's, else its node's), else the node's own."""
    planned = (row.payload or {}).get("brief")
    if isinstance(planned, str) and planned:
        return planned
    return spec["brief"] if isinstance(spec.get("brief"), str) else ""


def template_id(spec: dict[str, Any]) -> int | None:
    value = spec.get("template_id")
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def lead_context(
    tenant_id: int,
    row: Row[Any],
    rung: int,
    channel: str,
    recent: tuple[PastActivity, ...],
    spec: dict[str, Any],
    templates: dict[Any, tuple[str, TemplateText]],
) -> LeadContext:
    brief = planned_brief(row, spec)
    named = (row.payload or {}).get("template")
    chosen = template_id(spec)
    found = templates.get((named, channel)) if isinstance(named, str) else None
    found = found or (templates.get(chosen) if chosen is not None else None)
    return LeadContext(
        tenant_id=tenant_id,
        lead_id=row.lead_id,
        rung=rung,
        channel=channel,
        first_name=(row.first_name or "").strip(),
        last_name=row.last_name or "",
        company=row.company,
        title=row.title,
        source=row.source or "unknown",
        stage=row.stage or "new",
        deal_value=Decimal(row.deal_value or 0),
        large_deal=bool(row.large_deal),
        days_silent=row.days_silent,
        interest=(row.interest or "").strip() or None,
        recent=recent,
        sender_name=(row.sender_name or "").strip(),
        business_name=(row.business_name or "").strip(),
        brief_id=f"{row.campaign_id or 'none'}:{row.node or rung}" if brief else f"recovery-rung-{rung}",
        brief=brief or "",
        template=found[1] if found and found[0] == channel else None,
        **tenant_voice.voice_of(row._mapping),
    )
