"""What the writer knows about one lead when it drafts one message.

A plain value, built by the write service from a few set-based queries, so every writer
(Claude, our cache, the offline templates) sees exactly the same facts, and the message
checks can hold the draft to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.messages import Facts

# Kinds the lead did themselves: they say what to pick up from. Our own outbound messages,
# notes and stage changes say nothing about what the lead cares about.
LEAD_KINDS = frozenset({"form", "call", "meeting", "page_view", "email_in", "sms_in", "open", "click"})


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
        """The lead's own values, by the slot names templates use; empty values are left out."""
        values = {
            "first_name": self.first_name,
            "company": self.company or "",
            "interest": self.interest or "",
            "sender_name": self.signature,
            # "Bright Homes from Bright Homes" reads like a robot: without a person, the business signs.
            "business_name": self.business_name if self.business_name != self.signature else "",
        }
        return {name: value.strip() for name, value in values.items() if value and value.strip()}

    def deal_value_text(self) -> str | None:
        return f"${self.deal_value:,.0f}" if self.deal_value > 0 else None

    def facts(self) -> Facts:
        """What a draft may state: anything else that looks like a price, date or percent is invented."""
        known = [self.business_name, self.title or "", self.interest or "", self.brief]
        known += [activity.summary for activity in self.recent]
        return Facts(
            first_name=self.first_name,
            company=self.company,
            sender_name=self.signature,
            deal_value=self.deal_value_text(),
            known_text=" ".join(filter(None, known)),
        )
