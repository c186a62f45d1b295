"""The one door to message writing: operator template, our cache, Claude, or the offline writer.

The order is by cost. An operator's own template is free and is what they asked for; a cached
answer is free and was written by Claude for a lead just like this one; Claude costs money and
time; the offline writer is the floor that always produces something checkable. Whatever
answers, the caller gets one `WrittenMessage` with every generation that happened on the way
(a rejected Claude draft was still paid for), so the database records true cost.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import TracebackType
from typing import Protocol

from app.ai import offline
from app.ai.cache import CachedTemplate, TemplateCache, cache_key, leftover_specifics, personal_hash, template_of
from app.ai.claude import ClaudeResult, ClaudeWriter
from app.ai.context import LeadContext
from app.ai.cost import Usage, cost_usd
from app.domain.messages import Draft, check
from app.domain.sms_segments import to_gsm
from app.domain.templates import MissingVariable, render
from app.settings import Settings, get_settings

SOURCES = ("ai", "ai_cache", "offline", "template")


@dataclass(frozen=True)
class GenerationRecord:
    """One row of `ai_generations`: what produced the text and what it cost."""

    model: str
    prompt_hash: str
    output: str
    usage: Usage = field(default_factory=Usage)
    cost_usd: Decimal = Decimal(0)
    latency_ms: int = 0
    served_from_cache: bool = False
    api_calls: int = 0


@dataclass(frozen=True)
class WrittenMessage:
    channel: str
    subject: str | None
    body: str
    source: str
    generations: tuple[GenerationRecord, ...] = ()
    problems: tuple[str, ...] = ()
    template_version_id: int | None = None
    rejected_by_checks: bool = False
    """Claude's draft failed the message checks (twice) and the offline writer stands in: counted per batch."""

    @property
    def ok(self) -> bool:
        """May be sent: the checks found nothing wrong with the final draft."""
        return not self.problems

    @property
    def generation(self) -> GenerationRecord | None:
        """The generation whose text this is (earlier ones were rejected on the way)."""
        return self.generations[-1] if self.generations else None

    @property
    def api_calls(self) -> int:
        return sum(g.api_calls for g in self.generations)

    @property
    def cost_usd(self) -> Decimal:
        return sum((g.cost_usd for g in self.generations), Decimal(0))


def _message(
    draft: Draft, source: str, *generations: GenerationRecord, problems: tuple[str, ...] = ()
) -> WrittenMessage:
    return WrittenMessage(draft.channel, draft.subject, draft.body, source, generations, problems)


class Drafter(Protocol):
    """What answers for Claude: the live API (`ClaudeWriter`) or a batch's stored answers."""

    model: str

    @property
    def available(self) -> bool: ...

    def write(self, context: LeadContext) -> ClaudeResult: ...

    def close(self) -> None: ...


class Writer:
    """Writes one batch's messages; holds the batch's cache view, Claude client and AI budget."""

    def __init__(
        self,
        claude: Drafter | None = None,
        cache: TemplateCache | None = None,
        budget_usd: Decimal | None = None,
    ) -> None:
        self.claude = claude
        self.cache = cache
        self.budget_usd = budget_usd
        self.spent_usd = Decimal(0)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, cache: TemplateCache | None = None, budget_usd: Decimal | None = None
    ) -> Writer:
        return cls(ClaudeWriter.from_settings(settings), cache, budget_usd)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self.claude is not None:
            self.claude.close()

    def write(self, context: LeadContext) -> WrittenMessage:
        free = self.without_claude(context)
        if free is not None:
            return free
        digest = cache_key(context).digest()
        rejected: tuple[GenerationRecord, ...] = ()
        if self._may_call_claude():
            assert self.claude is not None
            result = self.claude.write(context)
            self.spent_usd += _cost(result)
            if result.ok:
                return self._from_claude(context, digest, result)
            rejected = (_rejected_record(context, digest, result),) if result.calls else ()
            fallback = self._offline(context, digest, rejected)
            return replace(fallback, rejected_by_checks=result.draft is not None)
        return self._offline(context, digest, rejected)

    def without_claude(self, context: LeadContext) -> WrittenMessage | None:
        """The free answers, in order: the operator's template, then our cache (None: neither fits)."""
        own = self._from_template(context)
        if own is not None:
            return own
        return self._from_cache(context, cache_key(context).digest())

    @property
    def would_call_claude(self) -> bool:
        """Claude is configured, not paused, and the month's AI budget is not spent."""
        return self._may_call_claude()

    def _may_call_claude(self) -> bool:
        if self.claude is None or not self.claude.available:
            return False
        return self.budget_usd is None or self.spent_usd < self.budget_usd

    def _from_template(self, context: LeadContext) -> WrittenMessage | None:
        template = context.template
        if template is None:
            return None
        slots = context.slots()
        try:
            subject = render(template.subject, slots) if template.subject else None
            body = render(template.body, slots)
            draft = Draft(context.channel, to_gsm(body) if context.channel == "sms" else body, subject)
        except MissingVariable:
            return None
        if not check(draft, context.facts()).ok:
            return None
        return replace(_message(draft, "template"), template_version_id=template.version_id)

    def _from_cache(self, context: LeadContext, digest: str) -> WrittenMessage | None:
        started = time.monotonic()
        template = self.cache.get(digest) if self.cache is not None else None
        if template is None:
            return None
        try:
            draft = template.fill(context)
        except MissingVariable:
            return None
        if not check(draft, context.facts()).ok:
            return None
        record = GenerationRecord(
            model=template.model,
            prompt_hash=digest,
            output=template.to_json(),
            latency_ms=int((time.monotonic() - started) * 1000),
            served_from_cache=True,
        )
        return _message(draft, "ai_cache", record)

    def _from_claude(self, context: LeadContext, digest: str, result: ClaudeResult) -> WrittenMessage:
        assert result.draft is not None
        template = template_of(result.draft, context, result.model)
        reusable = not leftover_specifics(template, context)
        if reusable and self.cache is not None:
            self.cache.put(digest, template)
        record = GenerationRecord(
            model=result.model,
            prompt_hash=digest if reusable else personal_hash(digest, context.lead_id),
            output=template.to_json(),
            usage=result.usage,
            cost_usd=_cost(result),
            latency_ms=result.latency_ms,
            api_calls=result.calls,
        )
        return _message(result.draft, "ai", record)

    def _offline(self, context: LeadContext, digest: str, rejected: tuple[GenerationRecord, ...]) -> WrittenMessage:
        started = time.monotonic()
        written = offline.write_offline(context)
        record = GenerationRecord(
            model=offline.MODEL,
            prompt_hash=personal_hash(digest, context.lead_id),
            output=CachedTemplate(written.template.body, written.template.subject).to_json(),
            latency_ms=int((time.monotonic() - started) * 1000),
        )
        return _message(written.draft, "offline", *rejected, record, problems=written.problems)


def _cost(result: ClaudeResult) -> Decimal:
    return cost_usd(result.model, result.usage, batch=result.batch)


def _rejected_record(context: LeadContext, digest: str, result: ClaudeResult) -> GenerationRecord:
    output = json.dumps({"rejected": list(result.problems), "raw": result.raw[:2000]}, ensure_ascii=False)
    return GenerationRecord(
        model=result.model,
        prompt_hash=personal_hash(digest, context.lead_id),
        output=output,
        usage=result.usage,
        cost_usd=_cost(result),
        latency_ms=result.latency_ms,
        api_calls=result.calls,
    )


def write_message(context: LeadContext, writer: Writer | None = None) -> WrittenMessage:
    """One message for one lead; without a writer, one configured from the settings (offline without a key)."""
    if writer is not None:
        return writer.write(context)
    with Writer.from_settings(get_settings()) as own:
        return own.write(context)
