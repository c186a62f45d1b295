"""The wizard's review step: how many messages a plan sends to its audience, what they cost, and
the compliance checklist an operator reads before pressing Launch.

The estimate is an upper bound, said so in the console: every lead is counted at every send
node the plan can reach, on the first of the node's channels that lead can be written on, as if
nobody answered (a reply stops the enrollment and sends nothing more). SMS are priced per
segment, as carriers bill them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.domain.plan.model import BranchNode, Plan, SendNode, WaitNode
from app.domain.pricing import UnitPrices

NO_AUDIENCE = "Audience: choose who the campaign writes to"


def nobody_reachable(channels: Sequence[str]) -> str:
    """Why an audience cannot launch when none of its leads can be written on the plan's channels."""
    return f"Audience: no lead in it can be written to by {' or '.join(channels) or 'any channel'}"


@dataclass(frozen=True)
class Reach:
    """An audience by the channels each lead can be written on: an address, consent, not suppressed
    (and, for SMS, a phone a carrier has not refused).

    The reasons count each lead once per channel, under the first that applies: no address, then
    no consent, then suppressed, then (SMS) unreachable.
    """

    matching: int = 0
    both: int = 0
    email_only: int = 0
    sms_only: int = 0
    email_no_address: int = 0
    email_no_consent: int = 0
    email_suppressed: int = 0
    sms_no_address: int = 0
    sms_no_consent: int = 0
    sms_suppressed: int = 0
    sms_unreachable: int = 0

    @property
    def neither(self) -> int:
        return self.matching - self.both - self.email_only - self.sms_only

    def groups(self) -> dict[tuple[bool, bool], int]:
        """Leads by (email ok, sms ok), the unreachable left out."""
        return {(True, True): self.both, (True, False): self.email_only, (False, True): self.sms_only}

    def reachable(self, channels: Iterable[str]) -> int:
        """Leads that can be written on at least one of `channels`."""
        wanted = set(channels)
        return sum(n for (email, sms), n in self.groups().items() if _reaches(wanted, email, sms))


def _reaches(channels: Iterable[str], email: bool, sms: bool) -> bool:
    return any((c == "email" and email) or (c == "sms" and sms) for c in channels)


def reachable_sends(plan: Plan) -> list[SendNode]:
    """The send nodes an enrollment can reach from the plan's start, in the order first reached."""
    seen, queue, found = {plan.start}, deque([plan.start]), []
    while queue:
        node = plan.node(queue.popleft())
        if isinstance(node, SendNode):
            found.append(node)
        targets = [t.to for t in node.transitions]
        if isinstance(node, SendNode | WaitNode) and node.next is not None:
            targets.append(node.next)
        if isinstance(node, BranchNode):
            targets += [case.to for case in node.cases] + [node.otherwise]
        for target in targets:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return found


def estimated_sends(plan: Plan, reach: Reach) -> dict[str, int]:
    """At most this many messages per channel: every reachable lead at every reachable send node."""
    sends = {"email": 0, "sms": 0}
    for node in reachable_sends(plan):
        for (email, sms), count in reach.groups().items():
            channel = next((c for c in node.channels if _reaches((c,), email, sms)), None)
            if channel is not None:
                sends[channel] += count
    return sends


def estimated_cost(sends: dict[str, int], prices: UnitPrices, *, sms_segments: int) -> Decimal:
    """Emails × the email price + SMS × their segments × the SMS price (a segment at least)."""
    segments = max(sms_segments, 1)
    return sends.get("email", 0) * prices.email + sends.get("sms", 0) * segments * prices.sms


@dataclass(frozen=True)
class Check:
    label: str
    ok: bool
    detail: str


def checklist(
    *,
    channels: Sequence[str],
    sms_texts: Sequence[str],
    quiet_hours: tuple[int, int],
    physical_address: str,
    reach: Reach,
) -> list[Check]:
    """What an operator must be able to answer yes to before launching (`channels`: every channel the plan uses)."""
    checks = []
    if "email" in channels:
        checks.append(
            Check(
                "Unsubscribe link in every email",
                True,
                "The sender adds a footer with a one-click unsubscribe link to every email it hands to the provider.",
            )
        )
        address = " ".join(physical_address.split())
        checks.append(
            Check(
                "Postal address in every email",
                bool(address),
                f"The footer carries {address}."
                if address
                else "The tenant has no postal address; the law (CAN-SPAM) wants one in every commercial email.",
            )
        )
    if "sms" in channels:
        missing = [text for text in sms_texts if "stop" not in text.lower()]
        checks.append(
            Check(
                "STOP text in every SMS",
                not missing,
                f"{len(missing)} SMS text(s) do not say how to opt out: add 'Reply STOP to opt out.'"
                if missing
                else "Every SMS text says how to opt out (and texts the writer drafts always do).",
            )
        )
    start, end = quiet_hours
    checks.append(
        Check(
            "Quiet hours set",
            start != end,
            f"Nothing goes out between {start:02d}:00 and {end:02d}:00 in the lead's time zone."
            if start != end
            else "No quiet hours: messages may go out at any hour of the send window.",
        )
    )
    checks.append(_consent(channels, reach))
    return checks


def _consent(channels: Sequence[str], reach: Reach) -> Check:
    reachable = reach.reachable(channels)
    reasons = {
        "Email": [
            (reach.email_no_address, "without an address"),
            (reach.email_no_consent, "without consent"),
            (reach.email_suppressed, "suppressed"),
        ],
        "SMS": [
            (reach.sms_no_address, "without a phone"),
            (reach.sms_no_consent, "without consent"),
            (reach.sms_suppressed, "suppressed"),
            (reach.sms_unreachable, "refused by carriers"),
        ],
    }
    detail = f"{reachable:,} of {reach.matching:,} matching leads can be written to"
    left_out = reach.matching - reachable
    detail += f"; {left_out:,} cannot and will not be contacted." if left_out else "."
    for name, channel in (("Email", "email"), ("SMS", "sms")):
        counted = ", ".join(f"{n:,} {why}" for n, why in reasons[name] if n)
        if channel in channels and counted:
            detail += f" {name}: {counted}."
    return Check("Consent and suppressions", reachable > 0, detail)
