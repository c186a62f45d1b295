"""Phrases that decide an intent outright, before any model is asked.

Why rules first: an opt-out must never be lost to a model's guess (it is a legal duty), and
auto-replies and wrong numbers have fixed wordings that a rule reads with certainty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.domain.triage.intents import Intent


@dataclass(frozen=True)
class RuleHit:
    intent: Intent
    reason: str


def _rx(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b")


UNSUBSCRIBE = _rx(
    r"unsubscribe",
    r"remove (?:me|my (?:number|email|info|details))",
    r"take me off",
    r"opt(?:-| )?(?:me )?out",
    r"stop (?:texting|emailing|messaging|contacting|calling|sending|spamming)",
    r"do ?n[o']t (?:contact|text|email|message|call) (?:me|this)",
    r"don't (?:contact|text|email|message|call) (?:me|this)",
    r"no more (?:messages|texts|emails)",
    r"lose my number",
    r"delete my (?:info|number|email|details|data)",
    r"cease all",
    r"leave me alone",
)
BARE_STOP = re.compile(r"^\W*(?:stop|stopall|end|quit|cancel|unsubscribe)(?:\W+stop)*\W*$")
OUT_OF_OFFICE = _rx(
    r"out of (?:the )?office",
    r"ooo",
    r"auto(?:matic|mated)?[- ]?(?:reply|response)",
    r"autoreply",
    r"on (?:annual |parental |maternity |paternity |sick )?leave",
    r"on (?:vacation|vacay|holiday)",
    r"away (?:from my desk|until|till|til|on)",
    r"limited access to (?:e-?mail|my email)",
    r"no access to (?:e-?mail|email)",
    r"will (?:reply|respond) when i (?:return|am back|'m back)",
)
WRONG_PERSON = _rx(
    r"wrong (?:number|person|email|contact|guy|address)",
    r"who (?:is this|dis)",
    r"no one by that name",
    r"not the (?:person|right person|owner|decision maker)",
    r"(?:doesn't|does not|no longer) work(?:s)? here",
    r"left the company",
    r"never heard of (?:you|your)",
    r"just got this number",
    r"confused with someone",
)
NOT_NOW = _rx(
    r"not (?:right )?now",
    r"not yet",
    r"maybe later",
    r"(?:follow up|check back|circle back|reach out again|try me again|ping me|check in|revisit)"
    r"(?: with me)? (?:in|next|after|later|once)",
    r"next (?:month|quarter|year)",
    r"after the holidays",
    r"bad timing",
    r"not a good time",
)


def match(text: str) -> RuleHit | None:
    """The intent a fixed phrase settles, in order of what must not be missed."""
    t = " ".join(text.lower().split())
    if BARE_STOP.match(t) or UNSUBSCRIBE.search(t):
        return RuleHit(Intent.UNSUBSCRIBE, "asks to stop receiving messages")
    if OUT_OF_OFFICE.search(t):
        return RuleHit(Intent.OUT_OF_OFFICE, "automatic or away reply")
    if WRONG_PERSON.search(t):
        return RuleHit(Intent.WRONG_PERSON, "says we reached the wrong person")
    if NOT_NOW.search(t):
        return RuleHit(Intent.NOT_NOW, "asks to be contacted later")
    return None


def is_question(text: str) -> bool:
    return "?" in text
