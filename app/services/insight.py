"""The lead drawer's AI insight as a use-case: gather the facts, serve a stored answer, or write one.

Writing costs money and seconds, so it happens only when a rep asks (`write_insight`); opening
the drawer only looks for an answer already stored for the same facts (`stored_insight`),
which is one index probe. Every written insight, Claude's or the offline one, is stored in
`ai_generations` (purpose 'insight', prompt hash = the facts' digest, tokens and cost), which
is both the cache and the record of what the AI spent. Claude is asked only when a key is
configured and the tenant's monthly AI budget (0 = no cap) is not spent; otherwise, and when
the call fails, the offline insight stands in and says why.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from sqlalchemy import insert

from app import runtime
from app.ai import insight as ai
from app.ai.cost import Usage
from app.domain import roles
from app.services import acting
from app.settings import Settings, get_settings
from db import ai_budget as budget_reads
from db import lead_detail
from db.models import AIGeneration


def insight_facts(*, tenant_id: int, lead_id: int, now: dt.datetime | None = None) -> ai.InsightFacts | None:
    """The facts both writers are told, or None when the tenant has no such lead."""
    signals = lead_detail.insight_signals(runtime.engine(), tenant_id, lead_id, now=now)
    if signals is None:
        return None
    return ai.InsightFacts(
        first_name=signals.first_name,
        state=signals.state,
        stage=signals.stage,
        source=signals.source,
        score=signals.score,
        deal_value=round(signals.deal_value),
        rung=signals.rung,
        days_silent=_whole(signals.days_silent) or 0,
        window_days=signals.window_days,
        opens=signals.opens,
        clicks=signals.clicks,
        replies=signals.replies,
        sent=signals.sent,
        days_since_sent=_whole(signals.days_since_sent),
        last_own_kind=signals.last_own_kind,
        last_own_summary=signals.last_own_summary or None,
        days_since_own=_whole(signals.days_since_own),
        reply_intent=signals.reply_intent,
        reply_sentiment=signals.reply_sentiment,
        days_since_reply=_whole(signals.days_since_reply),
        objections=ai.objections_in(signals.recent_replies),
        has_phone=signals.has_phone,
        interest=signals.interest,
        last_reply=signals.recent_replies[0][:500] if signals.recent_replies else None,
    )


def stored_insight(*, tenant_id: int, lead_id: int, now: dt.datetime | None = None) -> ai.Insight | None:
    """The insight already written for the lead's current facts (Claude's preferred), or None; never writes."""
    facts = insight_facts(tenant_id=tenant_id, lead_id=lead_id, now=now)
    if facts is None:
        return None
    return _stored(tenant_id, facts, _writers(get_settings()))


def write_insight(
    *, tenant_id: int, lead_id: int, operator_id: int | None, now: dt.datetime | None = None
) -> ai.Insight:
    """The insight for the lead's current facts: stored if this writer already wrote it, else written
    now (Claude when configured and within budget, else offline) and stored. LookupError for an unknown lead.

    `operator_id` is who asks (it spends the tenant's AI budget: a rep or above, checked here);
    None is the host's own code (command line, agents)."""
    with runtime.session_scope() as session, session.begin():
        acting.require_if(session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.INSIGHT)
    facts = insight_facts(tenant_id=tenant_id, lead_id=lead_id, now=now)
    if facts is None:
        raise LookupError(f"no lead {lead_id} in tenant {tenant_id}")
    settings = get_settings()
    writer = _writers(settings)[0]
    found = _stored(tenant_id, facts, [writer])
    if found is not None:
        return found
    if writer == ai.OFFLINE_MODEL:
        return _offline(tenant_id, lead_id, facts, note=None)
    if not _within_budget(tenant_id):
        return _offline(tenant_id, lead_id, facts, note="this month's AI budget is spent")
    answer = ai.ask_claude(settings, facts)
    if answer.insight is None:
        if answer.usage != Usage():  # paid for, though unusable: record the cost, never serve it
            _store(tenant_id, lead_id, facts.digest(writer) + ":rejected", writer, "{}", answer)
        return _offline(tenant_id, lead_id, facts, note=answer.problem)
    _store(tenant_id, lead_id, facts.digest(writer), writer, answer.insight.to_json(), answer)
    return answer.insight


def _whole(days: float | None) -> int | None:
    """Whole days, so the facts (and their hash) move once a day rather than every second."""
    return None if days is None else max(0, int(days))


def _writers(settings: Settings) -> list[str]:
    """The writers whose stored answers may be shown, preferred first."""
    if settings.anthropic_api_key is None:
        return [ai.OFFLINE_MODEL]
    return [settings.anthropic_model, ai.OFFLINE_MODEL]


def _stored(tenant_id: int, facts: ai.InsightFacts, writers: list[str]) -> ai.Insight | None:
    found = lead_detail.stored_insight(runtime.engine(), tenant_id, [facts.digest(w) for w in writers])
    return None if found is None else ai.from_stored(found.output, found.model)


def _within_budget(tenant_id: int) -> bool:
    left = budget_reads.ai_budget(runtime.engine(), tenant_id).left
    return left is None or left > 0


def _offline(tenant_id: int, lead_id: int, facts: ai.InsightFacts, *, note: str | None) -> ai.Insight:
    started = time.monotonic()
    written = ai.offline_insight(facts, note=note)
    spent = ai.ClaudeAnswer(written, ai.OFFLINE_MODEL, Usage(), Decimal(0), int((time.monotonic() - started) * 1000))
    _store(tenant_id, lead_id, facts.digest(ai.OFFLINE_MODEL), ai.OFFLINE_MODEL, written.to_json(), spent)
    return written


def _store(tenant_id: int, lead_id: int, prompt_hash: str, model: str, output: str, answer: ai.ClaudeAnswer) -> None:
    """One `ai_generations` row, in its own transaction."""
    row = {
        "tenant_id": tenant_id,
        "purpose": lead_detail.INSIGHT_PURPOSE,
        "model": model,
        "prompt_hash": prompt_hash,
        "lead_id": lead_id,
        "output": output,
        "tokens_in": answer.usage.uncached_input,
        "tokens_out": answer.usage.output_tokens,
        "tokens_cache_read": answer.usage.cache_read_tokens,
        "cost_usd": answer.cost_usd,
        "served_from_cache": False,
        "latency_ms": answer.latency_ms,
    }
    with runtime.session_scope() as session, session.begin():
        session.execute(insert(AIGeneration).values(**row))
