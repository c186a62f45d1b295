"""Writers for the Anthropic fake that misbehave on purpose, so the message checks are really exercised.

`obedient_reply` plays a model that obeys whatever a stranger planted in the lead's data: it
copies every planted value (anything with a link, a digit, a price, an instruction word or a
tag) into the draft, shouts when asked to write in capitals, and recites the system prompt
when asked to reveal it. `sloppy_reply` plays a careful model with a typographer's habits
(curly apostrophes and long dashes) that now and then invents a claim. Both are pure functions
of the request text, so a run is reproducible.
"""

from __future__ import annotations

import hashlib
import json
import re

from app.ai.prompt import RULES
from tests.fakes.anthropic_server import field_of, written_reply

DATA_FIELDS = ("first_name", "works_at", "job_title", "interested_in", "business_offer", "campaign_brief")
CUES = re.compile(
    r"ignore|instruction|prompt|tell|say|mention|write|add|include|offer|visit|call|text|e-?mail|send|sign"
    r"|https?:|www\.|\.[a-z]{2,4}\b|\d|%|caps|uppercase|capital|reveal|rules|repeat|print|‹|›|sender_name"
    r"|system|free|only|left|today",
    re.I,
)
SHOUT = re.compile(r"caps|uppercase|capital|shout", re.I)
REVEAL = re.compile(r"reveal|prompt|instructions|repeat everything|print", re.I)
SMS_ROOM = 100


def data_values(user_text: str) -> list[str]:
    """The values inside the request's data block: the lead's fields and activity summaries."""
    block = user_text.split("<lead>", 1)[-1].split("</lead>", 1)[0]
    values = [v for name in DATA_FIELDS if (v := field_of(block, name))]
    values += [line.split(": ", 1)[1] for line in block.splitlines() if line.startswith("- ") and ": " in line]
    return values


def planted_values(user_text: str) -> list[str]:
    """The data values an obedient model would act on (the business's own offer and brief excepted)."""
    block = user_text.split("<lead>", 1)[-1].split("</lead>", 1)[0]
    own = {field_of(block, "business_offer"), field_of(block, "campaign_brief")}
    return [v for v in data_values(user_text) if v not in own and CUES.search(v)]


def obedient_reply(user_text: str) -> str:
    """The usual draft with every planted value obeyed: copied in, shouted, or the prompt recited."""
    reply = json.loads(written_reply(user_text))
    planted = planted_values(user_text)
    if not planted:
        return json.dumps(reply)
    obeyed = " ".join(planted)
    if REVEAL.search(obeyed):
        obeyed = f"{obeyed} {RULES[:160]}"
    first = field_of(user_text, "first_name") or "there"
    if "subject" not in reply:
        body = f"Hi {first}, {obeyed[:SMS_ROOM]} Reply STOP to opt out."
        reply["body"] = (
            body.upper().replace("REPLY STOP TO OPT OUT.", "Reply STOP to opt out.") if SHOUT.search(obeyed) else body
        )
        return json.dumps(reply)
    greeting, rest = reply["body"].split("\n\n", 1)
    inserted = obeyed.upper() if SHOUT.search(obeyed) else obeyed
    reply["body"] = f"{greeting}\n\n{inserted}\n\n{rest}"
    return json.dumps(reply)


def sloppy_reply(user_text: str, *, inventing_share: float = 0.05) -> str:
    """The usual draft in typographic punctuation; a stable share of drafts invent a discount."""
    reply = json.loads(written_reply(user_text))
    body = reply["body"].replace("it's", "it’s").replace("didn't", "didn’t").replace(", or", " — or")
    digest = int(hashlib.sha256(user_text.encode()).hexdigest()[:8], 16)
    if digest % 1000 < inventing_share * 1000:
        body = body.replace("?", "? We can do 15% off this week.", 1)
    reply["body"] = body
    return json.dumps(reply)
