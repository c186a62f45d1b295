"""What a carrier's refusal of a text means for the lead, wherever Twilio says it.

Twilio reports the same codes in two places: synchronously, when it refuses the send request
(the sender), and later in a status callback (the listener). Either way:

- 21610, the recipient opted out at the carrier (they texted STOP to our number): the number
  is suppressed for the tenant (reason `stop`) and the lead's recovery stops, as if the STOP
  had reached us;
- 21211 and 21614, an invalid number or one that cannot take texts: the lead's phone is marked
  unreachable (`leads.phone_unreachable`) while the lead still has that number, so the sender
  cancels later texts to it instead of failing them one by one.

Helpers: they run inside the caller's transaction and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import reactions
from app.services.reactions import StopEvent

OPTED_OUT = "21610"
UNREACHABLE = {"21211": "invalid number (Twilio 21211)", "21614": "not a mobile number (Twilio 21614)"}
OPT_OUT_NOTE = "Twilio 21610: the recipient opted out of texts"


@dataclass(frozen=True)
class Refusal:
    """A text a carrier refused: whose, to which number, with which code, when."""

    tenant_id: int
    lead_id: int
    to_address: str
    code: str | None
    at: datetime


_UNREACHABLE = text(
    """
    UPDATE leads AS l SET phone_unreachable = u.reason, updated_at = now()
    FROM unnest(CAST(:leads AS bigint[]), CAST(:phones AS text[]), CAST(:reasons AS text[]))
         AS u(lead_id, phone, reason)
    WHERE l.id = u.lead_id AND l.phone = u.phone AND l.phone_unreachable IS DISTINCT FROM u.reason
    """
)


def apply_refusals(session: Session, refusals: Sequence[Refusal]) -> None:
    """Act on the codes that say something about the lead (see the module docstring); others are kept
    on the message row only."""
    opt_outs(session, [r for r in refusals if r.code == OPTED_OUT])
    unreachable_phones(session, [r for r in refusals if r.code in UNREACHABLE])


def opt_outs(session: Session, refusals: Sequence[Refusal]) -> None:
    by_tenant: dict[int, list[Refusal]] = defaultdict(list)
    for refusal in refusals:
        by_tenant[refusal.tenant_id].append(refusal)
    for tenant_id, group in sorted(by_tenant.items()):
        reactions.suppress(
            session,
            tenant_id=tenant_id,
            channel="sms",
            addresses=[r.to_address for r in group],
            reason="stop",
            note=OPT_OUT_NOTE,
        )
        reactions.stop_enrollments(
            session,
            tenant_id=tenant_id,
            lead_ids=[r.lead_id for r in group],
            event=StopEvent.STOPPED,
            reason=OPT_OUT_NOTE,
            at=max(r.at for r in group),
        )


def unreachable_phones(session: Session, refusals: Sequence[Refusal]) -> None:
    marks = {r.lead_id: (r.to_address, UNREACHABLE[r.code or ""]) for r in refusals}
    if not marks:
        return
    leads = sorted(marks)
    session.execute(
        _UNREACHABLE,
        {"leads": leads, "phones": [marks[i][0] for i in leads], "reasons": [marks[i][1] for i in leads]},
    )
