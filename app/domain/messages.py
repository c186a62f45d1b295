"""What a re-engagement message must be before it may go out.

The writer (Claude, our cache or the offline templates) proposes; these rules decide. A
message that fails is retried once and then replaced by the offline writer, so a lead never
receives a half-filled template, an invented price or an SMS without its opt-out line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SMS_MAX_CHARS = 160
EMAIL_SUBJECT_MAX = 120
EMAIL_BODY_MAX = 3000
SMS_OPT_OUT = "Reply STOP to opt out."

PLACEHOLDER = re.compile(
    r"\{\{[^}]*\}\}|\{[a-z_]+\}|\[(?:first ?name|name|company|your name|date|price)\]|<[A-Z_]+>", re.I
)
MONEY = re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?k?|\b\d[\d,]*(?:\.\d+)?\s?(?:usd|eur|gbp|dollars)\b", re.I)
PERCENT = re.compile(r"\b\d+(?:\.\d+)?\s?%")
DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?\b"
    r"|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b",
    re.I,
)


@dataclass(frozen=True)
class Draft:
    channel: str
    body: str
    subject: str | None = None


@dataclass(frozen=True)
class Facts:
    """What the writer was told; anything factual in the output must come from here."""

    first_name: str
    company: str | None = None
    sender_name: str = ""
    deal_value: str | None = None
    known_text: str = ""

    def corpus(self) -> str:
        parts = [self.first_name, self.company, self.sender_name, self.deal_value, self.known_text]
        return " ".join(filter(None, parts))


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _norm(token: str) -> str:
    return re.sub(r"[\s,]", "", token.lower())


def unsupported_facts(text: str, facts: Facts) -> list[str]:
    """Prices, percentages and dates in `text` that the context never mentioned."""
    corpus = _norm(facts.corpus())
    found = MONEY.findall(text) + PERCENT.findall(text) + DATE.findall(text)
    return [token for token in found if _norm(token) not in corpus]


def check(draft: Draft, facts: Facts) -> Verdict:
    """Every reason this draft may not be sent, empty when it may."""
    verdict = Verdict()
    text = f"{draft.subject or ''}\n{draft.body}"
    if not draft.body.strip():
        verdict.problems.append("empty body")
    if draft.channel == "sms":
        if len(draft.body) > SMS_MAX_CHARS:
            verdict.problems.append(f"SMS is {len(draft.body)} characters, the limit is {SMS_MAX_CHARS}")
        if "stop" not in draft.body.lower():
            verdict.problems.append("SMS lacks the opt-out line")
    elif draft.channel == "email":
        if not (draft.subject or "").strip():
            verdict.problems.append("email has no subject")
        elif len(draft.subject or "") > EMAIL_SUBJECT_MAX:
            verdict.problems.append("email subject too long")
        if len(draft.body) > EMAIL_BODY_MAX:
            verdict.problems.append("email body too long")
    else:
        verdict.problems.append(f"unknown channel {draft.channel!r}")
    if PLACEHOLDER.search(text):
        verdict.problems.append(f"placeholder left: {PLACEHOLDER.search(text).group(0)}")  # type: ignore[union-attr]
    invented = unsupported_facts(text, facts)
    if invented:
        verdict.problems.append("facts not in the context: " + ", ".join(invented))
    if facts.first_name and facts.first_name.lower() not in text.lower():
        verdict.problems.append("does not address the lead by name")
    return verdict


def with_sms_opt_out(body: str) -> str:
    """Append the opt-out line when the writer forgot it and there is room."""
    if "stop" in body.lower():
        return body
    joined = f"{body.rstrip()} {SMS_OPT_OUT}"
    return joined if len(joined) <= SMS_MAX_CHARS else body
