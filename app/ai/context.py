"""What the writer knows about one lead when it drafts one message.

A plain value, built by the write service from a few set-based queries, so every writer
(Claude, our cache, the offline templates) sees exactly the same facts, and the message
checks can hold the draft to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.messages import Facts

# Kinds the lead did themselves that a message may pick up from. Our own outbound messages,
# notes and stage changes say nothing about what the lead did; opens, clicks and page views
# are tracking, which a message must never reveal (they are not even loaded).
LEAD_KINDS = frozenset({"form", "call", "meeting", "email_in", "sms_in"})


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

    @property
    def last_activity_kind(self) -> str:
        """The last thing the lead did themselves ('none' when we only ever talked at them)."""
        return next((a.kind for a in self.recent if a.kind in LEAD_KINDS), "none")

    @property
    def signature(self) -> str:
        """Who signs: the tenant's sender, else the business, else a plain team name (never a hole)."""
        return self.sender_name or self.business_name or "The team"

    def slots(self) -> dict[str, str]:
        """The lead's own values, by the slot names templates use; empty values are left out.

        The company is not a slot: CRM company fields are often messy ("ACME CORP LTD", "n/a",
        "self") and a short personal note reads fine without one, so no message writes it.
        """
        values = {
            "first_name": self.first_name,
            "interest": self.interest or "",
            "sender_name": self.signature,
            # "Bright Homes from Bright Homes" reads like a robot: without a person, the business signs.
            "business_name": self.business_name if self.business_name != self.signature else "",
        }
        return {name: value.strip() for name, value in values.items() if value and value.strip()}

    def facts(self) -> Facts:
        """What a draft may state: anything else that looks like a price, date or percent is invented.

        The deal value is left out on purpose: it is our internal estimate, Claude only sees its
        band, and a lead must never be quoted a number they did not hear from us.
        """
        known = [self.business_name, self.title or "", self.interest or "", self.brief]
        known += [activity.summary for activity in self.recent]
        return Facts(
            first_name=self.first_name,
            company=self.company,
            sender_name=self.signature,
            known_text=" ".join(filter(None, known)),
        )
