"""Reads one reply: rules first, the model for the rest, and what to answer.

Why the order: rules settle what must never be missed (opt-outs) or has a fixed wording
(auto-replies); the model reads the open-ended rest; a question mark alone only decides when
the model is unsure, since "can you call me?" is interest phrased as a question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.triage.dates import extract_date
from app.domain.triage.intents import ANSWERS, PRIORITY, SENTIMENT, Intent
from app.domain.triage.model import NaiveBayes
from app.domain.triage.rules import is_question, match

UNSURE = 0.55


@dataclass(frozen=True)
class Triage:
    intent: Intent
    sentiment: float
    priority: str
    reason: str
    suggested_answer: str
    until: date | None
    confidence: float
    source: str


def answer(intent: Intent, *, first_name: str | None, business: str, until: date | None) -> str:
    when = f" on {until.isoformat()}" if until else " a little later"
    return ANSWERS[intent].format(first_name=first_name or "there", business=business, when=when)


def build(
    intent: Intent,
    reason: str,
    confidence: float,
    source: str,
    *,
    text: str,
    today: date,
    first_name: str | None,
    business: str,
) -> Triage:
    until = extract_date(text, today) if intent in (Intent.NOT_NOW, Intent.OUT_OF_OFFICE) else None
    return Triage(
        intent=intent,
        sentiment=SENTIMENT[intent],
        priority=PRIORITY[intent],
        reason=reason,
        suggested_answer=answer(intent, first_name=first_name, business=business, until=until),
        until=until,
        confidence=round(confidence, 3),
        source=source,
    )


def classify(
    text: str,
    *,
    model: NaiveBayes | None,
    today: date,
    first_name: str | None = None,
    business: str = "our team",
) -> Triage:
    """The offline reading of a reply; `model=None` is the rules-only baseline."""

    def done(intent: Intent, reason: str, confidence: float, source: str) -> Triage:
        return build(
            intent, reason, confidence, source, text=text, today=today, first_name=first_name, business=business
        )

    hit = match(text)
    if hit is not None:
        return done(hit.intent, hit.reason, 1.0, "rules")
    if model is not None:
        label, p = model.predict(text)
        intent = Intent(label)
        if p < UNSURE and is_question(text):
            return done(Intent.QUESTION, "asks a question", p, "rules")
        return done(intent, f"reads as {intent.value.replace('_', ' ')} ({p:.0%} sure)", p, "model")
    if is_question(text):
        return done(Intent.QUESTION, "asks a question", 0.5, "rules")
    return done(Intent.INTERESTED, "no rule matched; assumed a positive reply", 0.3, "rules")
