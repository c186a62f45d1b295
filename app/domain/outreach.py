"""Which channel a recovery message goes out on, given the rung and what the lead allows.

The ladder starts gently by email, tries a text at rung 2 (a different inbox is often what
wakes a lead up) and returns to email for the last word, because an SMS that goes unanswered
twice feels pushy. A channel needs an address, consent and no suppression; when none is
usable the send is dropped, not forced onto a channel the lead did not agree to.
"""

from __future__ import annotations

from dataclasses import dataclass

SMS_RUNG = 2


@dataclass(frozen=True)
class Reach:
    """What the lead's row says about each channel."""

    email: str | None = None
    consent_email: bool = True
    email_suppressed: bool = False
    phone: str | None = None
    consent_sms: bool = False
    sms_suppressed: bool = False

    @property
    def email_ok(self) -> bool:
        return bool(self.email) and self.consent_email and not self.email_suppressed

    @property
    def sms_ok(self) -> bool:
        return bool(self.phone) and self.consent_sms and not self.sms_suppressed


def pick_channel(rung: int, reach: Reach) -> str | None:
    """The channel for this rung's message, or None when the lead cannot be reached at all."""
    if rung == SMS_RUNG and reach.sms_ok:
        return "sms"
    if reach.email_ok:
        return "email"
    return None


def address_for(channel: str, reach: Reach) -> str | None:
    return reach.phone if channel == "sms" else reach.email
