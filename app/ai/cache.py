"""Our own response cache: one Claude answer, generalised, serves many near-identical leads.

Two leads who are both new inbound enquiries of typical value, silent for a few days after
filling in a form, at rung 1 by email, send Claude the same request apart from their names,
interest and history (`app/ai/features.py` bands what Claude is told). So the request is
reduced to a key (tenant, rung, channel, brief, stage, source, deal-value band, days-silent
band, last activity kind, and which optional slots exist), Claude's answer is turned back
into a template by replacing the lead's own values with slots, and the next lead with the
same key gets that template filled with their own values and checked again, with no API call.

Storage reuses `ai_generations` rather than a table of its own: a reusable answer is simply a
`purpose='write'` row that was not itself served from the cache, whose `prompt_hash` is the
key's digest and whose `output` is the template as JSON. Rows that must never be served
(offline drafts, rejected drafts, answers that still carry one lead's details) get a
`prompt_hash` of `<digest>:lead-<id>`, which no key can equal but which still groups by
request. A partial index over the servable rows keeps the lookup one index probe per key
however many cache hits accumulate, and entries older than MAX_AGE stop being served so the
wording refreshes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from app.ai import features, offline, prompt
from app.ai.context import NO_NAME, LeadContext
from app.domain.messages import Draft
from app.domain.templates import generalise, render

PURPOSE = "write"
NAMELESS = ("(no name)",)  # in the key, so "Hi there" answers serve only leads greeted the same way
MAX_AGE = timedelta(days=30)


@dataclass(frozen=True)
class CacheKey:
    """The request as our cache sees it: what changes the message, and nothing that names the lead."""

    tenant_id: int
    rung: int
    channel: str
    brief_id: str
    stage: str
    source: str
    value_band: str
    silence_band: str
    last_activity: str
    slots: tuple[str, ...]

    def digest(self) -> str:
        parts = [prompt.PROMPT_VERSION, str(self.tenant_id), str(self.rung), self.channel, self.brief_id]
        parts += [self.stage, self.source, self.value_band, self.silence_band, self.last_activity, ",".join(self.slots)]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()


def cache_key(context: LeadContext) -> CacheKey:
    return CacheKey(
        tenant_id=context.tenant_id,
        rung=context.rung,
        channel=context.channel,
        brief_id=context.brief_id,
        stage=features.stage_bucket(context.stage),
        source=features.source_bucket(context.source),
        value_band=features.value_band(large_deal=context.large_deal),
        silence_band=features.silence_band(context.days_silent),
        last_activity=features.activity_bucket(context.last_activity_kind),
        slots=tuple(sorted(context.slots())) + (NAMELESS if context.greeting_name == NO_NAME else ()),
    )


def personal_hash(digest: str, lead_id: int) -> str:
    """A prompt hash no cache lookup can match, for rows that belong to one lead only."""
    return f"{digest}:lead-{lead_id}"


@dataclass(frozen=True)
class CachedTemplate:
    body: str
    subject: str | None = None
    model: str = ""
    generation_id: int | None = None

    def to_json(self) -> str:
        return json.dumps({"subject": self.subject, "body": self.body}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str, *, model: str = "", generation_id: int | None = None) -> CachedTemplate | None:
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("body"), str):
            return None
        subject = data.get("subject")
        return cls(data["body"], subject if isinstance(subject, str) else None, model, generation_id)

    def fill(self, context: LeadContext) -> Draft:
        """This template in `context`'s lead's words; raises MissingVariable when a slot has no value."""
        slots = context.slots()
        subject = render(self.subject, slots) if self.subject else None
        return Draft(context.channel, render(self.body, slots), subject)


def template_of(draft: Draft, context: LeadContext, model: str = "") -> CachedTemplate:
    """The draft with the lead's own values turned back into slots.

    "Hi there" for a lead without a usable name is not a slot: every other "there" would become one.
    """
    slots = {name: value for name, value in context.slots().items() if (name, value) != ("first_name", NO_NAME)}
    subject = generalise(draft.subject, slots) if draft.subject else None
    return CachedTemplate(generalise(draft.body, slots), subject, model)


WORD = re.compile(r"[a-z][a-z'-]{3,}")
# The rules part of the system prompt and the offline templates: words any lead may read.
# The prompt's examples are left out: "kitchen" there must not make "your kitchen" generic here.
COMMON = frozenset(WORD.findall(" ".join([prompt.RULES, *offline.all_text()]).lower())) | frozenset(
    {
        *("about", "after", "again", "anything", "call", "calls", "demo", "details", "discuss", "discussed"),
        *("email", "emails", "follow", "following", "help", "info", "information", "interest", "interested"),
        *("looking", "meeting", "options", "plan", "plans", "price", "pricing", "project", "proposal"),
        *("question", "questions", "quote", "quotes", "reply", "sent", "service", "services", "still"),
        *("thanks", "time", "visit", "website", "week"),
    }
)


def leftover_specifics(template: CachedTemplate, context: LeadContext) -> set[str]:
    """Words of this lead's private history still in the template (a reason not to reuse it).

    Claude may mention "the roof inspection you booked" or just "your kitchen" instead of the
    whole interest phrase; such words would be wrong for the next lead, so an answer carrying
    any of them is sent to its own lead and never served to another.
    """
    private = " ".join(
        [context.last_name, context.company or "", context.title or "", context.interest or ""]
        + [activity.summary for activity in context.recent]
    )
    brief = set(WORD.findall(context.brief.lower()))
    private_words = set(WORD.findall(private.lower())) - COMMON - brief
    used = set(WORD.findall(f"{template.subject or ''} {template.body}".lower()))
    return used & private_words


class TemplateCache(Protocol):
    def get(self, digest: str) -> CachedTemplate | None: ...

    def put(self, digest: str, template: CachedTemplate) -> None: ...


LOOKUP = text(
    """
    SELECT DISTINCT ON (prompt_hash) prompt_hash, id, model, output
    FROM ai_generations
    WHERE tenant_id = :tenant_id
      AND prompt_hash = ANY(:digests)
      AND NOT served_from_cache
      AND purpose = :purpose
      AND created_at > now() - make_interval(secs => :max_age)
    ORDER BY prompt_hash, id DESC
    """
).bindparams(bindparam("digests", type_=ARRAY(Text)))


@dataclass
class BatchCache:
    """The entries one batch may need, loaded in one query; answers written during the batch join it.

    Persisting is not its job: the write service stores every generation, and a stored
    reusable answer is, by the rules above, a cache entry for the next batch.
    """

    entries: dict[str, CachedTemplate] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, tenant_id: int, digests: set[str]) -> BatchCache:
        if not digests:
            return cls()
        params = {
            "tenant_id": tenant_id,
            "digests": sorted(digests),
            "purpose": PURPOSE,
            "max_age": MAX_AGE.total_seconds(),
        }
        entries: dict[str, CachedTemplate] = {}
        for row in session.execute(LOOKUP, params):
            template = CachedTemplate.from_json(row.output, model=row.model, generation_id=row.id)
            if template is not None:
                entries[row.prompt_hash] = template
        return cls(entries)

    def get(self, digest: str) -> CachedTemplate | None:
        return self.entries.get(digest)

    def put(self, digest: str, template: CachedTemplate) -> None:
        self.entries[digest] = template
