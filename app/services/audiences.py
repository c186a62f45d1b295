"""A campaign's audience counted: how many leads match, on which channels each can be written, a
sample of them for the message preview, and the ids a launch enrolls.

One set-based statement per question, scoped to the tenant: the criteria become a WHERE clause
of bound parameters only (`AudienceCriteria` is checked by the domain first), the suppression
list is read once per channel (a hashed set, not a probe per lead) and every count comes out of
one pass with `FILTER`. An email is suppressed when a listed address matches it in any case:
the list keeps them lower-cased (`normalise_address`), so this agrees with the writer and the
sender, which compare as stored and lower-cased.

A lead can be written on a channel when it has the address, consented to the channel, the
address is not suppressed and (SMS) no carrier refused the number; the others are counted by
the first reason that applies, for the review's compliance checklist.

`reach_of` and `reachable_ids` are helpers that run in the caller's transaction; `preview` is the
console's read (its own short transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import runtime
from app.ai.context import LeadContext
from app.domain.audience import Audience
from app.domain.campaign_review import Reach
from app.domain.messages import Facts
from app.services import tenant_voice

SAMPLE_SIZE = 5

_FLAGGED = """
WITH matched AS (
    SELECT l.id, l.first_name, l.last_name, l.company, l.title, l.email, l.phone, l.stage, l.source,
           l.intent_score, l.deal_value, l.last_activity_at,
           nullif(trim(coalesce(l.attributes ->> 'interest', l.attributes ->> 'product',
                                l.attributes ->> 'service')), '') AS interest,
           coalesce(l.email, '') <> '' AS has_email, l.consent_email,
           l.phone IS NOT NULL AS has_phone, l.consent_sms, l.phone_unreachable IS NOT NULL AS phone_refused,
           coalesce(lower(l.email) IN (SELECT lower(s.address) FROM suppressions AS s
                                       WHERE s.tenant_id = :tenant_id AND s.channel = 'email'), false)
               AS email_suppressed,
           coalesce(l.phone IN (SELECT s.address FROM suppressions AS s
                                WHERE s.tenant_id = :tenant_id AND s.channel = 'sms'), false) AS sms_suppressed
    FROM leads AS l
    WHERE l.tenant_id = :tenant_id {where}
), flagged AS (
    SELECT m.*,
           m.has_email AND m.consent_email AND NOT m.email_suppressed AS email_ok,
           m.has_phone AND m.consent_sms AND NOT m.sms_suppressed AND NOT m.phone_refused AS sms_ok
    FROM matched AS m
)
"""

_REACH = (
    _FLAGGED
    + """
SELECT count(*) AS matching,
       count(*) FILTER (WHERE email_ok AND sms_ok) AS both,
       count(*) FILTER (WHERE email_ok AND NOT sms_ok) AS email_only,
       count(*) FILTER (WHERE sms_ok AND NOT email_ok) AS sms_only,
       count(*) FILTER (WHERE NOT has_email) AS email_no_address,
       count(*) FILTER (WHERE has_email AND NOT consent_email) AS email_no_consent,
       count(*) FILTER (WHERE has_email AND consent_email AND email_suppressed) AS email_suppressed,
       count(*) FILTER (WHERE NOT has_phone) AS sms_no_address,
       count(*) FILTER (WHERE has_phone AND NOT consent_sms) AS sms_no_consent,
       count(*) FILTER (WHERE has_phone AND consent_sms AND sms_suppressed) AS sms_suppressed,
       count(*) FILTER (WHERE has_phone AND consent_sms AND NOT sms_suppressed AND phone_refused) AS sms_unreachable
FROM flagged
"""
)

_SAMPLE = (
    _FLAGGED
    + """
SELECT f.*, t.name AS business_name, t.sender_name, t.settings AS tenant_settings, t.sender_email, t.sender_phone
FROM flagged AS f CROSS JOIN tenants AS t
WHERE t.id = :tenant_id AND (f.email_ok OR f.sms_ok) = :reachable
ORDER BY f.intent_score DESC, f.id
LIMIT :limit
"""
)

_IDS = (
    _FLAGGED
    + """
SELECT id FROM flagged
WHERE (email_ok AND 'email' = ANY(CAST(:channels AS text[]))) OR (sms_ok AND 'sms' = ANY(CAST(:channels AS text[])))
ORDER BY id
"""
)


@dataclass(frozen=True)
class SampleLead:
    """A matching lead as the preview shows it: who, how reachable, and the slots its message fills."""

    id: int
    name: str
    stage: str
    source: str
    intent_score: int
    deal_value: Decimal
    silent_hours: float
    email_ok: bool
    sms_ok: bool
    slots: tuple[tuple[str, str], ...]
    facts: Facts


@dataclass(frozen=True)
class AudiencePreview:
    reach: Reach
    sample: tuple[SampleLead, ...]


def criteria_clause(audience: Audience, now: datetime) -> tuple[str, dict[str, Any]]:
    """The WHERE conditions (after the tenant's) and their parameters; values are never spliced in."""
    if audience.criteria is None:
        return "AND l.id = ANY(CAST(:lead_ids AS bigint[]))", {"lead_ids": list(audience.lead_ids)}
    c = audience.criteria
    parts: list[str] = []
    params: dict[str, Any] = {"now": now}
    if c.stages:
        parts.append("l.stage = ANY(CAST(:stages AS text[]))")
        params["stages"] = list(c.stages)
    if c.sources:
        parts.append("l.source = ANY(CAST(:sources AS text[]))")
        params["sources"] = list(c.sources)
    if (c.score_min, c.score_max) != (0, 100):
        parts.append("l.intent_score BETWEEN :score_min AND :score_max")
        params.update(score_min=c.score_min, score_max=c.score_max)
    if c.silent_hours_min is not None:
        parts.append("l.last_activity_at <= CAST(:now AS timestamptz) - make_interval(secs => :silent_min)")
        params["silent_min"] = c.silent_hours_min * 3600
    if c.silent_hours_max is not None:
        parts.append("l.last_activity_at >= CAST(:now AS timestamptz) - make_interval(secs => :silent_max)")
        params["silent_max"] = c.silent_hours_max * 3600
    if c.tags:
        parts.append("l.tags && CAST(:tags AS text[])")
        params["tags"] = list(c.tags)
    if c.value_min is not None:
        parts.append("l.deal_value >= :value_min")
        params["value_min"] = c.value_min
    if c.value_max is not None:
        parts.append("l.deal_value <= :value_max")
        params["value_max"] = c.value_max
    if c.owner_ids or c.unowned:
        parts.append("(l.owner_id = ANY(CAST(:owner_ids AS bigint[])) OR (:unowned AND l.owner_id IS NULL))")
        params.update(owner_ids=list(c.owner_ids), unowned=c.unowned)
    return "".join(f" AND {part}" for part in parts), params


def _checked(audience: Audience) -> None:
    problems = audience.problems()
    if problems:
        raise ValueError("; ".join(problems))


def reach_of(session: Session, *, tenant_id: int, audience: Audience, now: datetime) -> Reach:
    """The audience by reachable channels and the reasons the others cannot be written to."""
    _checked(audience)
    where, params = criteria_clause(audience, now)
    row = session.execute(text(_REACH.format(where=where)), {"tenant_id": tenant_id, **params}).mappings().one()
    return Reach(**{key: int(value) for key, value in row.items()})


def reachable_ids(
    session: Session, *, tenant_id: int, audience: Audience, channels: Sequence[str], now: datetime
) -> list[int]:
    """The ids of the audience's leads that can be written on at least one of `channels` (what a launch enrolls)."""
    _checked(audience)
    where, params = criteria_clause(audience, now)
    found = session.execute(
        text(_IDS.format(where=where)), {"tenant_id": tenant_id, "channels": list(channels), **params}
    )
    return [int(i) for i in found.scalars()]


def preview(*, tenant_id: int, audience: Audience, now: datetime, sample_size: int = SAMPLE_SIZE) -> AudiencePreview:
    """The live count and a sample of matching leads (reachable ones first, best score first).

    Raises ValueError naming the criterion when the criteria are out of range.
    """
    with runtime.session_scope() as session, session.begin():
        reach = reach_of(session, tenant_id=tenant_id, audience=audience, now=now)
        where, params = criteria_clause(audience, now)
        sample: list[SampleLead] = []
        for reachable in (True, False):  # each read stops after the sample on the score index
            if len(sample) < sample_size:
                found = session.execute(
                    text(_SAMPLE.format(where=where)),
                    {"tenant_id": tenant_id, "limit": sample_size - len(sample), "reachable": reachable, **params},
                ).mappings()
                sample += [_sample_lead(tenant_id, row, now) for row in found]
    return AudiencePreview(reach, tuple(sample))


def _sample_lead(tenant_id: int, row: Any, now: datetime) -> SampleLead:
    context = LeadContext(
        tenant_id=tenant_id,
        lead_id=row["id"],
        rung=1,
        channel="email",
        first_name=(row["first_name"] or "").strip(),
        last_name=row["last_name"] or "",
        company=row["company"],
        title=row["title"],
        interest=row["interest"],
        sender_name=(row["sender_name"] or "").strip(),
        business_name=(row["business_name"] or "").strip(),
        **tenant_voice.voice_of(row),
    )
    return SampleLead(
        id=int(row["id"]),
        name=f"{row['first_name']} {row['last_name']}".strip(),
        stage=row["stage"],
        source=row["source"],
        intent_score=int(row["intent_score"]),
        deal_value=Decimal(row["deal_value"]),
        silent_hours=max((now - row["last_activity_at"]).total_seconds() / 3600, 0.0),
        email_ok=bool(row["email_ok"]),
        sms_ok=bool(row["sms_ok"]),
        slots=tuple(sorted(context.slots().items())),
        facts=context.facts(),
    )
