"""What the plan interpreter may know about leads, read set-based for a whole batch.

`LeadFacts` are the lead as the plan sees it: its zone, which channels reach it now (an
address, consent, no suppression, a phone not known unreachable), and the fields a branch
may test. The reachability rule is the scan's and the writer's (email compared as stored and
lower-cased), so the interpreter never plans a send the writer would then refuse.

Helpers: they run inside the caller's transaction and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger

from app.domain.plan import LeadFacts

_REACH = """
    (coalesce(l.email, '') <> '' AND l.consent_email AND NOT EXISTS (
        SELECT 1 FROM suppressions AS s
        WHERE s.tenant_id = l.tenant_id AND s.channel = 'email' AND s.address IN (l.email, lower(l.email))
    )) AS email_ok,
    (coalesce(l.phone, '') <> '' AND l.consent_sms AND l.phone_unreachable IS NULL AND NOT EXISTS (
        SELECT 1 FROM suppressions AS s
        WHERE s.tenant_id = l.tenant_id AND s.channel = 'sms' AND s.address = l.phone
    )) AS sms_ok,
    l.timezone, CAST(coalesce(l.deal_value, 0) AS float8) AS deal_value, coalesce(l.intent_score, 0) AS intent_score,
    CAST(greatest(extract(epoch FROM CAST(:now AS timestamptz) - l.last_activity_at) / 3600, 0) AS float8)
        AS silent_hours,
    coalesce(l.stage, '') AS stage, coalesce(l.source, '') AS source, l.tags
"""

# Leads about to be enrolled in a campaign, with the episode each had in it already (if any)
# and whether an active enrollment of any campaign holds it (then it is left alone).
_CANDIDATES = text(
    f"""
    SELECT l.id AS lead_id, {_REACH}, prior.episode AS prior_episode,
           EXISTS (SELECT 1 FROM enrollments AS busy
                   WHERE busy.lead_id = l.id AND busy.status IN ('active', 'waiting')) AS busy
    FROM unnest(CAST(string_to_array(:lead_ids, ',') AS bigint[])) AS x(lead_id)
    JOIN leads AS l ON l.id = x.lead_id AND l.tenant_id = :tenant_id
    LEFT JOIN enrollments AS prior ON prior.campaign_id = :campaign_id AND prior.lead_id = l.id
    ORDER BY l.id
    """
)

# Enrollments the interpreter is about to move, locked so two workers never step one at once
# (in id order, so they never deadlock), with their lead's facts. The state comes as its shape
# (the JSON without the lead's draw and facts, as text) and the draw: enrollments of one shape
# step alike (`app/domain/plan/classes.py`), so each shape is parsed once.
_ENROLLMENTS = text(
    f"""
    SELECT e.id AS enrollment_id, e.lead_id, e.campaign_id,
           CAST(e.state - 'draw' - 'facts' AS text) AS shape, e.state ->> 'draw' AS draw, {_REACH}
    FROM enrollments AS e
    JOIN leads AS l ON l.id = e.lead_id
    WHERE e.tenant_id = :tenant_id AND e.id = ANY(CAST(string_to_array(:ids, ',') AS bigint[]))
    ORDER BY e.id
    FOR UPDATE OF e
    """
)

_PLANS = text("SELECT id, plan FROM campaigns WHERE id = ANY(:ids)").bindparams(
    bindparam("ids", type_=ARRAY(BigInteger))
)


@dataclass(frozen=True)
class Candidate:
    """A lead the caller wants enrolled, its facts, its last episode in this campaign (0 if none), and whether
    another enrollment holds it."""

    lead_id: int
    facts: LeadFacts
    prior_episode: int
    busy: bool


def candidates(
    session: Session, *, tenant_id: int, campaign_id: int, lead_ids: Sequence[int], now: datetime
) -> list[Candidate]:
    """The tenant's leads among `lead_ids` (others are ignored), in id order."""
    ids = ",".join(map(str, sorted(set(lead_ids))))
    params = {"tenant_id": tenant_id, "campaign_id": campaign_id, "lead_ids": ids, "now": now}
    return [
        Candidate(row.lead_id, facts_of(row), row.prior_episode or 0, row.busy)
        for row in session.execute(_CANDIDATES, params).all()
    ]


def locked_enrollments(session: Session, *, tenant_id: int, ids: Sequence[int], now: datetime) -> list[Row[Any]]:
    """The enrollments with these ids (the tenant's only), locked for this transaction, in id order."""
    params = {"tenant_id": tenant_id, "ids": ",".join(map(str, sorted(set(ids)))), "now": now}
    return list(session.execute(_ENROLLMENTS, params).all())


def plans(session: Session, campaign_ids: Sequence[int]) -> dict[int, Any]:
    """The stored plan JSON of each of these campaigns."""
    return {row.id: row.plan for row in session.execute(_PLANS, {"ids": sorted(set(campaign_ids))})}


def facts_of(row: Row[Any]) -> LeadFacts:
    """The plan's view of a lead from a row that selected `_REACH` (which did the conversions: a batch has many)."""
    return LeadFacts(
        row.timezone,
        row.email_ok,
        row.sms_ok,
        row.deal_value,
        row.intent_score,
        row.silent_hours,
        row.stage,
        row.source,
        frozenset(row.tags) if row.tags else _NO_TAGS,
    )


_NO_TAGS: frozenset[str] = frozenset()
