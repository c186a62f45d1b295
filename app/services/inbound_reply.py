"""What every reply from a lead does, whichever door it came through (SMS or email).

Why one module: a text and an email from a lead mean the same thing to the product, so they
take the same steps in the door's transaction, in this order:
1. the `inbound_messages` row, once per provider key (a redelivery stops here);
2. an `<channel>_in` activity, which resets the lead's silence;
3. triage reads the reply and stores the reading (`triage.read_reply`);
4. the lead's recovery stops as replied, unless the reading is an out-of-office auto-reply,
   which leaves the plan running (it waits for the return date instead);
5. triage acts on the reading (`triage.act_on`), each action a `campaign_transitions` row.

A reply from nobody we know as a lead (a number without a lead) is stored and triaged for a
person to read, and changes no lead.

Helpers: they run inside the caller's transaction and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import activities, reactions, triage
from app.services.reactions import StopEvent

CHANNEL_NAMES = {"sms": "SMS", "email": "email"}


@dataclass(frozen=True)
class Reply:
    """One reply, matched to the tenant (and, when known, the lead and our message it answers)."""

    tenant_id: int
    lead_id: int | None
    message_id: int | None
    channel: str
    sender: str
    body: str
    provider_key: str
    """The provider's id of the reply (MessageSid, Message-ID): a reply is stored once per key."""
    received_at: datetime


@dataclass(frozen=True)
class Taken:
    """What taking the reply did: its row, None for a redelivery (which changes nothing)."""

    inbound_message_id: int | None


_INBOUND = text(
    """
    INSERT INTO inbound_messages (tenant_id, lead_id, message_id, channel, from_address, body, provider_message_id,
                                  received_at)
    VALUES (:tenant_id, :lead_id, :message_id, :channel, :sender, :body, :key, :at)
    ON CONFLICT (provider_message_id) DO NOTHING
    RETURNING id
    """
)


def take(session: Session, reply: Reply) -> Taken:
    """Store the reply once, reset the lead's silence, stop or hold their recovery, and triage it."""
    inbound_id = _store(session, reply)
    if inbound_id is None:
        return Taken(None)
    if reply.lead_id is not None:
        _touch(session, reply, reply.lead_id, inbound_id)
    reading = triage.read_reply(
        session, tenant_id=reply.tenant_id, inbound_message_id=inbound_id, now=reply.received_at
    )
    if reply.lead_id is not None and not reading.keeps_plan_running:
        reactions.stop_enrollments(
            session,
            tenant_id=reply.tenant_id,
            lead_ids=[reply.lead_id],
            event=StopEvent.REPLIED,
            reason=f"the lead replied by {CHANNEL_NAMES[reply.channel]}",
            at=reply.received_at,
        )
    triage.act_on(session, reading, now=reply.received_at)
    return Taken(inbound_id)


def _store(session: Session, reply: Reply) -> int | None:
    params = {
        "tenant_id": reply.tenant_id,
        "lead_id": reply.lead_id,
        "message_id": reply.message_id,
        "channel": reply.channel,
        "sender": reply.sender,
        "body": reply.body,
        "key": reply.provider_key,
        "at": reply.received_at,
    }
    found = session.execute(_INBOUND, params).scalar()
    return None if found is None else int(found)


def _touch(session: Session, reply: Reply, lead_id: int, inbound_id: int) -> None:
    """The activity that resets the lead's silence (an auto-reply too: the address is alive)."""
    name = CHANNEL_NAMES[reply.channel]
    activities.add_activity(
        session,
        tenant_id=reply.tenant_id,
        lead_id=lead_id,
        kind=f"{reply.channel}_in",
        channel=reply.channel,
        occurred_at=reply.received_at,
        summary=f"{name[0].upper()}{name[1:]} reply received",
        details={"inbound_message_id": inbound_id, "message_id": reply.message_id},
    )
