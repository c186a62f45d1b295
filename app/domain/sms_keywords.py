"""The words a text message may be, on its own, to opt out, ask for help or opt back in.

Carriers and the CTIA require that STOP and its synonyms end all texts from the sender, that
HELP answers who we are and how to reach us, and that START undoes a STOP. A keyword counts
only when it is the whole message: "stop by tomorrow please" is a reply a person must read,
not an opt-out. Case, surrounding spaces and surrounding punctuation are ignored ("Stop.",
" stop ", "unsubscribe!"), and runs of spaces inside count as one ("OPT   OUT").

Pure: the inbound route decides what to do with the verdict and with the texts built here.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    """Stop every text to this number."""
    HELP = "help"
    """Say who is writing and how to reach them."""
    OPT_IN = "opt_in"
    """Undo an earlier opt-out."""
    NONE = "none"
    """Not a keyword: a reply for a person to read."""


OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"})
HELP_WORDS = frozenset({"HELP", "INFO"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})

_LONGEST = max(len(w) for w in OPT_OUT_WORDS | HELP_WORDS | OPT_IN_WORDS)


def normalise(body: str) -> str:
    """Upper case, without surrounding spaces or punctuation, inner runs of spaces as one."""
    trimmed = _strip_edges(body)
    return " ".join(trimmed.split()).upper()


def classify(body: str) -> Keyword:
    """Which keyword the whole message is, or NONE."""
    word = normalise(body)
    if len(word) > _LONGEST:
        return Keyword.NONE
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in HELP_WORDS:
        return Keyword.HELP
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    return Keyword.NONE


def opt_out_confirmation(business: str) -> str:
    """The one text a STOP gets back (carriers allow exactly one, and require it to name the sender)."""
    return f"{business}: you are unsubscribed and will receive no more messages from us. Reply START to resubscribe."


def opt_in_confirmation(business: str) -> str:
    return f"{business}: you are resubscribed to our messages. Reply HELP for help, STOP to opt out."


def help_answer(business: str, *, contact: str = "", email: str = "", phone: str = "") -> str:
    """Who is writing and how to reach them, as the CTIA asks a HELP answer to say."""
    ways = [w.strip() for w in (email, phone) if w and w.strip()]
    who = contact.strip() or "us"
    reach = f" Contact {who} at {' or '.join(ways)}." if ways else ""
    return f"{business}: messages about your enquiry.{reach} Reply STOP to opt out. Msg & data rates may apply."


def _strip_edges(body: str) -> str:
    start, end = 0, len(body)
    while start < end and _is_edge(body[start]):
        start += 1
    while end > start and _is_edge(body[end - 1]):
        end -= 1
    return body[start:end]


def _is_edge(char: str) -> bool:
    """Spaces, punctuation and control characters: what a phone or a person adds around a word."""
    return char.isspace() or unicodedata.category(char)[0] in {"P", "Z", "C"}
