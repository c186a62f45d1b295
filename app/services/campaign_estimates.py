"""The wizard's review step in one read: what keeps the campaign from launching, how many messages
it may send and what they would cost at the tenant's prices, and the compliance checklist.

The figures come from the domain (`app/domain/campaign_review.py`) over the audience as it is
now (`audiences.reach_of`), the plan as saved, the tenant's unit prices (`tenants.settings`, as
the ROI page prices) and the SMS segments of the campaign's texts filled for sample leads (the
longest counts: a long name can push a text into a second segment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app import runtime
from app.domain.campaign_review import (
    NO_AUDIENCE,
    Check,
    Reach,
    checklist,
    estimated_cost,
    estimated_sends,
    nobody_reachable,
)
from app.domain.message_preview import preview_message
from app.domain.plan import Plan, parse_plan
from app.domain.pricing import UnitPrices
from app.domain.sms_segments import count_segments
from app.services import audiences
from app.services.audiences import SampleLead
from app.services.campaign_drafts import CampaignDraft, load_draft
from db.models import Tenant


@dataclass(frozen=True)
class Review:
    draft: CampaignDraft
    problems: tuple[str, ...]
    """Every reason a launch would be refused (plan problems by JSON path, then the audience's)."""
    reach: Reach
    sends: dict[str, int] | None
    """At most this many messages per channel; None while the plan has problems."""
    sms_segments: int
    cost: Decimal | None
    prices: UnitPrices
    checks: tuple[Check, ...]


def review(*, tenant_id: int, campaign_id: int, now: datetime) -> Review:
    """The review of a saved campaign; LookupError when the tenant has no such campaign."""
    draft = load_draft(tenant_id=tenant_id, campaign_id=campaign_id)
    with runtime.session_scope() as session, session.begin():
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise LookupError(f"tenant {tenant_id} does not exist")
        prices, address = UnitPrices.from_settings(tenant.settings), tenant.physical_address
    sample: tuple[SampleLead, ...] = ()
    reach = Reach()
    if draft.audience is not None and not draft.audience.problems():
        shown = audiences.preview(tenant_id=tenant_id, audience=draft.audience, now=now)
        reach, sample = shown.reach, shown.sample
    problems = [str(p) for p in draft.problems] + _audience_problems(draft, reach)
    plan = parse_plan(draft.plan)
    sends = estimated_sends(plan, reach) if isinstance(plan, Plan) else None
    segments = _sms_segments(draft, sample)
    sms_texts = [text.sms_body for text in draft.wizard.messages().values() if text.sms_body.strip()]
    checks = checklist(
        channels=draft.channels,
        sms_texts=sms_texts,
        quiet_hours=draft.wizard.quiet_hours,
        physical_address=address,
        reach=reach,
    )
    cost = estimated_cost(sends, prices, sms_segments=segments) if sends is not None else None
    return Review(draft, tuple(problems), reach, sends, segments, cost, prices, tuple(checks))


def _audience_problems(draft: CampaignDraft, reach: Reach) -> list[str]:
    if draft.audience is None:
        return [NO_AUDIENCE]
    found = [f"Audience: {p}" for p in draft.audience.problems()]
    if not found and reach.reachable(draft.channels) == 0:
        found.append(nobody_reachable(draft.channels))
    return found


def _sms_segments(draft: CampaignDraft, sample: tuple[SampleLead, ...]) -> int:
    """The most segments any SMS text of the campaign takes for a sample lead (1 when the writer drafts them all)."""
    counts = [1]
    for text in draft.wizard.messages().values():
        if not text.sms_body.strip():
            continue
        filled = [preview_message("sms", text, dict(lead.slots), lead.facts) for lead in sample]
        counts += [p.segments.segments for p in filled if p is not None and p.segments is not None and p.uses_template]
        if not any(p is not None and p.uses_template for p in filled):  # no lead to fill it for: the text as typed
            counts.append(count_segments(text.sms_body).segments)
    return max(counts)
