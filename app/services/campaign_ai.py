"""The wizard's "Draft with AI": the writer drafts one sample lead's message from the operator's
brief, and the lead's own values are turned back into slots, so the draft is a template the
whole audience can share.

It is the writer the agents use (`app/ai/writer.py`): Claude when a key is set and the tenant's
AI budget allows, else the offline writer, with the same checks on what comes out. The lead's
recent history is left out on purpose: a template must not carry one lead's story. Every
generation is stored in `ai_generations` (purpose `wizard_draft`, never served by the writer's
cache) so what drafting cost shows on the ROI page. No transaction is open while the model writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, text

from app import runtime
from app.ai.cache import template_of
from app.ai.context import LeadContext
from app.ai.writer import GenerationRecord, Writer
from app.domain import roles
from app.domain.messages import Draft
from app.services import acting, tenant_voice
from app.settings import get_settings
from db import ai_budget as budget_reads
from db.models import AIGeneration

PURPOSE = "wizard_draft"
CHANNELS = ("email", "sms")

_LEAD = text(
    """
    SELECT l.id, l.first_name, l.last_name, l.company, l.title, l.source, l.stage, l.deal_value,
           nullif(trim(coalesce(l.attributes ->> 'interest', l.attributes ->> 'product',
                                l.attributes ->> 'service')), '') AS interest,
           greatest(floor(extract(epoch FROM CAST(:now AS timestamptz) - l.last_activity_at) / 86400), 0)::int
               AS days_silent,
           t.name AS business_name, t.sender_name, t.settings AS tenant_settings, t.sender_email, t.sender_phone
    FROM leads AS l JOIN tenants AS t ON t.id = l.tenant_id
    WHERE l.tenant_id = :tenant_id AND l.id = :lead_id
    """
)


@dataclass(frozen=True)
class AiDraft:
    """A drafted template (`{{first_name}}` and the other slots in place of the sample lead's values)."""

    channel: str
    subject: str | None
    body: str
    source: str
    problems: tuple[str, ...]


def draft_with_ai(
    *, tenant_id: int, lead_id: int, channel: str, brief: str, now: datetime, operator_id: int | None
) -> AiDraft:
    """Draft `channel`'s text from `brief` for this sample lead, as a template; LookupError for an unknown lead.

    `operator_id`: who asks (it spends the tenant's AI budget: one who may draft campaigns, checked);
    None for the host's own code."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r} (email, sms)")
    if not brief.strip():
        raise ValueError("Brief: say what the message is for, e.g. 'a friendly check-in about their quote'")
    with runtime.session_scope() as session, session.begin():
        acting.require_if(session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.CAMPAIGN_EDIT)
        row = session.execute(_LEAD, {"tenant_id": tenant_id, "lead_id": lead_id, "now": now}).mappings().first()
        if row is None:
            raise LookupError(f"lead {lead_id} does not exist for this tenant")
        budget = budget_reads.ai_budget(session.connection(), tenant_id).left
    context = LeadContext(
        tenant_id=tenant_id,
        lead_id=lead_id,
        rung=1,
        channel=channel,
        first_name=(row["first_name"] or "").strip(),
        last_name=row["last_name"] or "",
        company=row["company"],
        title=row["title"],
        source=row["source"] or "unknown",
        stage=row["stage"] or "new",
        deal_value=Decimal(row["deal_value"] or 0),
        days_silent=row["days_silent"],
        interest=row["interest"],
        sender_name=(row["sender_name"] or "").strip(),
        business_name=(row["business_name"] or "").strip(),
        brief_id=f"wizard:{brief.strip()[:200]}",
        brief=brief.strip(),
        **tenant_voice.voice_of(row),
    )
    with Writer.from_settings(get_settings(), budget_usd=budget) as writer:
        written = writer.write(context)
    _store(tenant_id, lead_id, written.generations)
    template = template_of(Draft(written.channel, written.body, written.subject), context)
    return AiDraft(written.channel, template.subject, template.body, written.source, written.problems)


def _store(tenant_id: int, lead_id: int, generations: tuple[GenerationRecord, ...]) -> None:
    rows = [
        {
            "tenant_id": tenant_id,
            "purpose": PURPOSE,
            "model": g.model,
            "prompt_hash": g.prompt_hash + f":{PURPOSE}",
            "lead_id": lead_id,
            "output": g.output,
            "tokens_in": g.usage.uncached_input,
            "tokens_out": g.usage.output_tokens,
            "tokens_cache_read": g.usage.cache_read_tokens,
            "cost_usd": g.cost_usd,
            "served_from_cache": g.served_from_cache,
            "latency_ms": g.latency_ms,
        }
        for g in generations
    ]
    if rows:
        with runtime.session_scope() as session, session.begin():
            session.execute(insert(AIGeneration), rows)
