"""Text a lead (or a CRM) typed, made safe to show a model and to put in a message.

Names, companies, interests, notes and replies are written by strangers. Two uses need two
rules:
- in a prompt they are data: `escape_field` puts a value on one line (a newline could close
  the data block and forge a field such as `sender_name:`) and turns anything tag-like into
  harmless look-alikes, so `</lead>` cannot end the block;
- in a message a value fills a slot ("Still interested in {{interest}}?") only when it reads
  like a short noun phrase: `slot_problem` names why a value may not (a link, a phone number,
  a price, an instruction, or more than SLOT_MAX_CHARS), and such a slot is left out.
"""

from __future__ import annotations

import re

from app.domain.claims import MONEY, OFFER, PERCENT, links, phones

SLOT_MAX_CHARS = 60
FIELD_MAX_CHARS = 300
NAME_MAX_CHARS = 40

# Any run of line breaks or other control/space characters, including Unicode line and
# paragraph separators, becomes one space.
_BREAKS = re.compile(r"[\s\u0085\u2028\u2029\x00-\x1f\x7f]+")
_TAG_LIKE = str.maketrans({"<": "‹", ">": "›", "`": "'"})

INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass|jailbreak)\b"
    r"|\b(?:instructions?|prompts?|system prompt|assistant|guidelines|chatgpt|language model)\b"
    r"|\byou (?:must|should|will|are|now|have to)\b|\b(?:do not|don't|never|always)\s+(?:say|write|mention|use|add)\b"
    r"|\b(?:say|write|tell|mention|reveal|repeat|print|output|respond|reply|sign)"
    r"\s+(?:that|the|this|them|him|her|our|a|an|all|in|with|as|it)\b"
    r"|\b(?:tone of voice|change (?:the |your )?tone|all caps|uppercase|capital letters|pretend|act as|role ?play)\b"
    r"|[<>{}\[\]|\\]|\w+:\s",
    re.I,
)


def escape_field(value: str | None, *, limit: int = FIELD_MAX_CHARS) -> str:
    """`value` on one line, tag-like characters neutralised, at most `limit` characters."""
    if not value:
        return ""
    flat = _BREAKS.sub(" ", value).strip().translate(_TAG_LIKE)
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def slot_problem(value: str | None) -> str | None:
    """Why this lead-typed value may not fill a template slot, or None when it may."""
    text = escape_field(value, limit=10_000)
    if not text:
        return None
    if len(text) > SLOT_MAX_CHARS:
        return f"over {SLOT_MAX_CHARS} characters"
    if links(text):
        return "a link"
    if phones(text):
        return "a phone number"
    if MONEY.search(text) or PERCENT.search(text) or OFFER.search(text):
        return "a price or an offer"
    if INSTRUCTION.search(value or ""):
        return "an instruction"
    return None


def safe_slot(value: str | None) -> str | None:
    """The value, on one line, when it may fill a slot; None when it must be left out."""
    if slot_problem(value) is not None:
        return None
    return escape_field(value) or None


def safe_first_name(value: str | None) -> str | None:
    """A first name fit to greet with: at most NAME_MAX_CHARS and fit for a slot; else None."""
    name = escape_field(value)
    if not name or len(name) > NAME_MAX_CHARS or slot_problem(name):
        return None
    return name
