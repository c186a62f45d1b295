"""The lead's situation in a few coarse words: what both Claude and our cache key are told.

Claude sees these bands, not the raw numbers ("silent for more than a week", not "37 days";
"deal size: larger than usual", not "$12,300"), so every lead with the same bands, rung and
channel sends Claude the same request apart from their own names and history. That is what
makes a cached answer as good as a fresh one, rather than an approximation of it.

The bands are as coarse as the message can afford: each one changes what a good message says
(an outbound lead was never "thanks for reaching out"; a lead silent for weeks needs the gap
acknowledged; a lead with a proposal is deciding, not exploring). Opens, clicks and page
views are not among them, and not in the prompt at all: a message must never let a lead see
that we track them.
"""

from __future__ import annotations

STAGES = {
    "new": "new",
    "lead": "new",
    "open": "new",
    "contacted": "engaged",
    "engaged": "engaged",
    "qualified": "engaged",
    "demo": "engaged",
    "meeting": "engaged",
    "proposal": "deciding",
    "quote": "deciding",
    "quoted": "deciding",
    "negotiation": "deciding",
    "contract": "deciding",
}
STAGE_TEXT = {
    "new": "new enquiry, early in the conversation",
    "engaged": "in conversation with us, no proposal yet",
    "deciding": "has a proposal or quote and is deciding",
    "other": "not recorded",
}

OUTBOUND_WORDS = ("outbound", "cold", "prospect", "purchased", "list", "sdr", "bdr")
SOURCE_TEXT = {
    "inbound": "they came to us first",
    "outbound": "we reached out to them first",
    "unknown": "not recorded",
}

# The lead's own last meaningful step; tracking events (open, click, page_view) never count.
ACTIVITIES = {"form": "form", "call": "talk", "meeting": "talk", "email_in": "message", "sms_in": "message"}
TRACKING_KINDS = ("open", "click", "page_view")

# "Large" is relative to the business: a $10k job is routine for a roofer and small for a
# software vendor. The write service marks deals above the tenant's 80th percentile, once the
# tenant has enough valued leads for a percentile to mean anything.
LARGE_DEAL_PERCENTILE = 0.8
LARGE_DEAL_MIN_LEADS = 10
VALUE_TEXT = {"standard": "typical for this business", "large": "larger than usual for this business"}

RECENT_DAYS = 7
SILENCE_TEXT = {"recent": "a few days", "long": "more than a week"}


def stage_bucket(stage: str) -> str:
    return STAGES.get(stage.strip().lower(), "other")


def source_bucket(source: str) -> str:
    lowered = source.strip().lower()
    if lowered in ("", "unknown"):
        return "unknown"
    return "outbound" if any(word in lowered for word in OUTBOUND_WORDS) else "inbound"


def value_band(*, large_deal: bool) -> str:
    return "large" if large_deal else "standard"


def silence_band(days: int) -> str:
    return "recent" if days <= RECENT_DAYS else "long"


def activity_bucket(kind: str) -> str:
    """What the lead last did that a message may pick up ('quiet' when nothing such is recorded)."""
    return ACTIVITIES.get(kind, "quiet")
