"""What the writer knows about one lead when it drafts one message.

A plain value, built by the write service from a few set-based queries, so every writer
(Claude, our cache, the offline templates) sees exactly the same facts, and the message
checks can hold the draft to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.lead_text import safe_first_name, safe_slot
from app.domain.messages import Facts
from app.domain.sms_segments import to_gsm

# Kinds the lead did themselves that a message may pick up from. Our own outbound messages,
# notes and stage changes say nothing about what the lead did; opens, clicks and page views
# are tracking, which a message must never reveal (they are not even loaded).
LEAD_KINDS = frozenset({"form", "call", "meeting", "email_in", "sms_in"})
NO_NAME = "there"
"""Who "Hi ..." greets when the first-name field holds no usable name."""


@dataclass(frozen=True)
class PastActivity:
    kind: str
    days_ago: int
    summary: str = ""


@dataclass(frozen=True)
class TemplateText:
    """An operator's template for this send (the campaign node names it), used before any AI."""

    body: str
    subject: str | None = None
    version_id: int | None = None


@dataclass(frozen=True)
class LeadContext:
    tenant_id: int
    lead_id: int
    rung: int
    channel: str
    first_name: str
    last_name: str = ""
    company: str | None = None
    title: str | None = None
    source: str = "unknown"
    stage: str = "new"
    deal_value: Decimal = Decimal(0)
    large_deal: bool = False
    days_silent: int = 0
    interest: str | None = None
    recent: tuple[PastActivity, ...] = ()
    sender_name: str = ""
    business_name: str = ""
    brief_id: str = "recovery"
    brief: str = ""
    template: TemplateText | None = field(default=None, compare=False)
    offer: str = ""
    """The tenant's own words about what it offers (`tenants.settings`): a fact a draft may state."""
    sender_phone: str = ""
    own_domains: tuple[str, ...] = ()
    """The tenant's web domains (its settings' and its sender address's): the only ones a draft may link."""
    own_links: tuple[str, ...] = ()
    """Links the system adds that a draft may carry (the unsubscribe link's prefix)."""
    sms_max_segments: int = 1

    @property
    def last_activity_kind(self) -> str:
        """The last thing the lead did themselves ('none' when we only ever talked at them)."""
        return next((a.kind for a in self.recent if a.kind in LEAD_KINDS), "none")

    @property
    def signature(self) -> str:
        """Who signs: the tenant's sender, else the business, else a plain team name (never a hole)."""
        return self.sender_name or self.business_name or "The team"

    @property
    def greeting_name(self) -> str:
        """The first name to greet with, or NO_NAME when the field holds no usable name (a link, a number,
        an instruction, a paragraph)."""
        return safe_first_name(self.first_name) or NO_NAME

    @property
    def safe_interest(self) -> str | None:
        """The interest when it may fill a slot (no link, number, price or instruction; at most 60 characters)."""
        return safe_slot(self.interest)

    @property
    def safe_title(self) -> str | None:
        return safe_slot(self.title)

    def slots(self) -> dict[str, str]:
        """The lead's own values, by the slot names templates use; empty values are left out.

        A lead-typed value that may not fill a slot (`lead_text.slot_problem`) is left out as if
        empty, so the templates that need it are skipped. The company is not a slot: CRM company
        fields are often messy ("ACME CORP LTD", "n/a", "self") and a short personal note reads
        fine without one, so no message writes it. An SMS gets its values in GSM characters.
        """
        values = {
            "first_name": self.greeting_name,
            "interest": self.safe_interest or "",
            "sender_name": self.signature,
            # "Bright Homes from Bright Homes" reads like a robot: without a person, the business signs.
            "business_name": self.business_name if self.business_name != self.signature else "",
        }
        plain = {name: " ".join(value.split()) for name, value in values.items() if value and value.strip()}
        return {name: to_gsm(value) for name, value in plain.items()} if self.channel == "sms" else plain

    def facts(self) -> Facts:
        """What a draft may state, from the tenant and the system only; what the lead typed is never a fact.

        The tenant's facts are its business and sender names, its offer and the campaign brief. The
        lead's free text (names, company, title, interest, the notes and replies in its history)
        is passed as `lead_text`: a price, link or deadline planted there is no fact, and a draft
        repeating it is refused. A slot value that was allowed stays out of `lead_text`, since the
        message is meant to say it. The deal value is left out on purpose: it is our internal
        estimate, Claude only sees its band, and a lead must never be quoted a number they did not
        hear from us.
        """
        known = [self.business_name, self.offer, self.brief]
        used = {self.greeting_name, self.safe_interest}
        typed = [self.first_name, self.last_name, self.company or "", self.title or "", self.interest or ""]
        lead_text = [value for value in typed if value and value not in used]
        lead_text += [activity.summary for activity in self.recent if activity.summary]
        greeting = self.slots().get("first_name", "")
        return Facts(
            first_name=greeting if greeting != NO_NAME else "",
            company=self.company,
            sender_name=self.signature,
            known_text=" ".join(filter(None, known)),
            own_domains=self.own_domains,
            own_links=self.own_links,
            own_phones=(self.sender_phone,) if self.sender_phone else (),
            lead_text=tuple(lead_text),
            sms_max_segments=self.sms_max_segments,
        )
