"""What a re-engagement message must be before it may go out.

The writer (Claude, our cache or the offline templates) proposes; these rules decide. A
message that fails is retried once and then replaced by the offline writer, so a lead never
receives a half-filled template, an invented price or an SMS without its opt-out line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.domain.claims import Claim, claims, digits, on_domains
from app.domain.sms_segments import count_segments, to_gsm

SMS_MAX_CHARS = 160
EMAIL_SUBJECT_MAX = 120
EMAIL_BODY_MAX = 3000
SMS_OPT_OUT = "Reply STOP to opt out."
ECHO_WORDS = 5

PLACEHOLDER = re.compile(
    r"\{\{[^}]*\}\}|\{[a-z_]+\}|\[(?:first ?name|name|company|your name|date|price)\]|<[A-Z_]+>", re.I
)
# The prompt's own words, or a model talking about itself: a sign that planted text steered it.
LEAK = re.compile(
    r"</?\s*(?:lead|rejected_draft|data)\b|\b(?:first_name|sender_name|interested_in|campaign_brief|"
    r"recent_activity_newest_first|business_offer)\b|\bsystem prompt\b|\bmy (?:instructions|rules|prompt)\b"
    r"|\bthese rules\b|\bas an ai\b|\blanguage model\b|\b(?:ignore|disregard) (?:all |any |the )?"
    r"(?:previous|prior|above|earlier)\b",
    re.I,
)
SHOUTING = re.compile(r"\b(?!STOP\b)[A-Z]{2,}(?:\W+(?!STOP\b)[A-Z]{2,}){2,}\b|!{2,}")
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "have", "i", "if", "in", "is"),
        *("it", "me", "my", "of", "on", "or", "our", "so", "that", "the", "this", "to", "us", "we", "was"),
        *("were", "will", "with", "you", "your"),
    }
)


@dataclass(frozen=True)
class Draft:
    channel: str
    body: str
    subject: str | None = None


@dataclass(frozen=True)
class Facts:
    """What a draft may state, and the lead-typed text it must not repeat.

    Facts come from the tenant (its business and sender names, its offer, the campaign brief:
    `known_text`), from fields the system itself typed (`deal_value`, `typed` dates and amounts),
    and from its own links and numbers (`own_domains`, `own_links`, `own_phones`). `lead_text`
    is free text a lead or a CRM typed (names, company, interest, notes, replies): never a source
    of facts, and a draft that repeats ECHO_WORDS of it in a row is refused.
    """

    first_name: str
    company: str | None = None
    sender_name: str = ""
    deal_value: str | None = None
    known_text: str = ""
    typed: tuple[str, ...] = ()
    own_domains: tuple[str, ...] = ()
    own_links: tuple[str, ...] = ()
    own_phones: tuple[str, ...] = ()
    lead_text: tuple[str, ...] = ()
    sms_max_segments: int = 1

    def corpus(self) -> str:
        parts = [self.sender_name, self.deal_value, self.known_text, *self.typed]
        return " ".join(filter(None, parts))


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _norm(token: str) -> str:
    return re.sub(r"[\s,]", "", token.lower())


def supported(claim: Claim, facts: Facts, corpus: str) -> bool:
    """True when the tenant's facts carry this claim (its own link or number, or the same words)."""
    if claim.kind == "link" and (
        on_domains(claim.text, facts.own_domains) or claim.text.startswith(tuple(p for p in facts.own_links if p))
    ):
        return True
    if claim.kind == "phone":
        number = digits(claim.text)[-10:]
        return any(number and digits(own).endswith(number) for own in facts.own_phones) or number in digits(corpus)
    return _norm(claim.text) in _norm(corpus)


def unsupported_facts(text: str, facts: Facts) -> list[str]:
    """Links, phone numbers, prices, percentages, dates, offers and scarcity the tenant's facts do not carry."""
    corpus = facts.corpus()
    return [f"{c.kind} {c.text!r}" for c in claims(text) if not supported(c, facts, corpus)]


def echoed(text: str, lead_text: tuple[str, ...], size: int = ECHO_WORDS) -> str | None:
    """The first run of `size` words of lead-typed text that `text` repeats (not all small words), or None."""
    planted = {gram for value in lead_text for gram in _grams(value, size)}
    return next((" ".join(g) for g in _grams(text, size) if g in planted), None)


def _grams(text: str, size: int) -> list[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    grams = (tuple(words[i : i + size]) for i in range(len(words) - size + 1))
    return [g for g in grams if not set(g) <= STOPWORDS]


def check(draft: Draft, facts: Facts) -> Verdict:
    """Every reason this draft may not be sent, empty when it may."""
    verdict = Verdict()
    text = f"{draft.subject or ''}\n{draft.body}"
    if not draft.body.strip():
        verdict.problems.append("empty body")
    if draft.channel == "sms":
        verdict.problems += _sms_problems(draft.body, facts.sms_max_segments)
    elif draft.channel == "email":
        if not (draft.subject or "").strip():
            verdict.problems.append("email has no subject")
        elif len(draft.subject or "") > EMAIL_SUBJECT_MAX:
            verdict.problems.append("email subject too long")
        if len(draft.body) > EMAIL_BODY_MAX:
            verdict.problems.append("email body too long")
    else:
        verdict.problems.append(f"unknown channel {draft.channel!r}")
    verdict.problems += _content_problems(text, facts)
    if facts.first_name and facts.first_name.lower() not in text.lower():
        verdict.problems.append("does not address the lead by name")
    return verdict


def _sms_problems(body: str, max_segments: int) -> list[str]:
    problems = []
    segments = count_segments(body)
    if segments.segments > max_segments:
        problems.append(
            f"SMS takes {segments.segments} segments ({segments.units} {segments.encoding} characters), "
            f"the limit is {max_segments}"
        )
    if "stop" not in body.lower():
        problems.append("SMS lacks the opt-out line")
    return problems


def _content_problems(text: str, facts: Facts) -> list[str]:
    problems = []
    placeholder = PLACEHOLDER.search(text)
    if placeholder:
        problems.append(f"placeholder left: {placeholder.group(0)}")
    invented = unsupported_facts(text, facts)
    if invented:
        problems.append("facts not in the context: " + ", ".join(invented))
    leak = LEAK.search(text)
    if leak:
        problems.append(f"speaks of its instructions or data: {leak.group(0)!r}")
    # A business called "ABC HOME SERVICES" may sign with its name: only capitals it never wrote shout.
    shouting = [m.group(0) for m in SHOUTING.finditer(text) if m.group(0) not in facts.corpus()]
    if shouting:
        problems.append(f"shouts: {shouting[0]!r}")
    repeated = echoed(text, facts.lead_text)
    if repeated:
        problems.append(f"repeats what the lead typed: {repeated!r}")
    return problems


def with_sms_opt_out(body: str, max_segments: int = 1) -> str:
    """The SMS in GSM characters where meaning allows, with the opt-out line appended when the
    writer forgot it and it still fits `max_segments`."""
    body = to_gsm(body)
    if "stop" in body.lower():
        return body
    joined = f"{body.rstrip()} {SMS_OPT_OUT}"
    return joined if count_segments(joined).segments <= max_segments else body
