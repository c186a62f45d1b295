"""Triage a stored reply and act on what it means, inside the caller's transaction.

Why a helper and not its own transaction: the inbound doors (`inbound_reply.py`) store the
reply, reset silence and stop the enrollments in one transaction; triaging there too means a
reply is never stored untriaged, and a failure leaves neither half. Each action is written as a
`campaign_transitions` row on the lead's latest enrollment (event `triage_<intent>`), so the
enrollment's audit shows why the lead moved. The offline reader runs in well under a
millisecond; Claude is used only when the caller hands a reader in (a webhook should not wait
on an external API).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.ai.triage import ClaudeTriage
from app.domain.triage import Intent, Triage
from app.services import campaign_routes, reactions
from app.services.reactions import StopEvent
from app.services.triage_model import read

SNOOZE_DEFAULT = timedelta(days=30)

_ROW = text(
    """
    SELECT i.body, i.channel, i.from_address, i.lead_id, l.first_name, l.email, l.phone, t.name AS business
    FROM inbound_messages AS i
    JOIN tenants AS t ON t.id = i.tenant_id
    LEFT JOIN leads AS l ON l.id = i.lead_id AND l.tenant_id = i.tenant_id
    WHERE i.tenant_id = :tenant_id AND i.id = :id
    """
)
_STORE = text(
    """
    UPDATE inbound_messages
    SET intent = :intent, sentiment = :sentiment, priority = :priority, suggested_reply = :answer,
        triage_reason = :reason, triage_until = :until, alert = :alert, updated_at = now()
    WHERE tenant_id = :tenant_id AND id = :id
    """
)
_AUDIT = text(
    """
    INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
    SELECT e.tenant_id, e.id, e.current_node, e.current_node, :event, :reason, :at
    FROM enrollments AS e
    WHERE e.tenant_id = :tenant_id AND e.lead_id = :lead_id
    ORDER BY e.enrolled_at DESC, e.id DESC
    LIMIT 1
    """
)
_LEAD_SET = {
    "engaged": "recovery_state = 'replied'",
    "closed": "recovery_state = 'lost'",
    "snoozed": "snoozed_until = :until",
    "resume": "resume_at = :until",
    "flagged": "wrong_person = true",
}
_LEAD_ONLY_IF = {
    "engaged": " AND recovery_state IN ('active', 'silent', 'in_recovery')",
    "closed": " AND recovery_state <> 'recovered'",
}


def _update_lead(session: Session, what: str, params: dict[str, Any]) -> None:
    sql = f"UPDATE leads SET {_LEAD_SET[what]}, updated_at = now() WHERE tenant_id = :tenant_id AND id = :lead_id"
    session.execute(text(sql + _LEAD_ONLY_IF.get(what, "")), params)


class ReplyNotFound(LookupError):
    """No such inbound message for this tenant."""


@dataclass(frozen=True)
class Triaged:
    triage: Triage
    actions: tuple[str, ...]


def sentiment_label(score: float) -> str:
    return "positive" if score > 0.2 else "negative" if score < -0.2 else "neutral"


def _unsure_opt_out(got: Triage) -> bool:
    """Only the model thinks it is an opt-out ("stop by tomorrow please"): a person decides, nothing is suppressed."""
    return got.intent is Intent.UNSUBSCRIBE and got.source == "model"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class Reading:
    """A reply classified and its reading stored, not yet acted on."""

    tenant_id: int
    inbound_message_id: int
    lead_id: int | None
    triage: Triage
    addresses: Any
    """The row's channel, sender and the lead's email and phone: what an opt-out suppresses."""

    @property
    def keeps_plan_running(self) -> bool:
        """An out-of-office auto-reply is no answer: the plan goes on (later, when a return date is given)."""
        return self.triage.intent is Intent.OUT_OF_OFFICE


def triage_reply(
    session: Session, *, tenant_id: int, inbound_message_id: int, now: datetime, claude: ClaudeTriage | None = None
) -> Triaged:
    """Classify the stored reply, store the reading, and act on it (never commits)."""
    reading = read_reply(session, tenant_id=tenant_id, inbound_message_id=inbound_message_id, now=now, claude=claude)
    return act_on(session, reading, now=now)


def read_reply(
    session: Session, *, tenant_id: int, inbound_message_id: int, now: datetime, claude: ClaudeTriage | None = None
) -> Reading:
    """Classify the stored reply and store the reading; the inbound doors act on it once they know what it is."""
    row = session.execute(_ROW, {"tenant_id": tenant_id, "id": inbound_message_id}).one_or_none()
    if row is None:
        raise ReplyNotFound(f"no inbound message {inbound_message_id} for tenant {tenant_id}")
    got = read(
        row.body, channel=row.channel, today=now.date(), first_name=row.first_name, business=row.business, claude=claude
    )
    alert = got.intent in (Intent.INTERESTED, Intent.QUESTION) or _unsure_opt_out(got)
    session.execute(
        _STORE,
        {
            "tenant_id": tenant_id,
            "id": inbound_message_id,
            "intent": got.intent.value,
            "sentiment": sentiment_label(got.sentiment),
            "priority": got.priority,
            "answer": got.suggested_answer or None,
            "reason": got.reason,
            "until": got.until,
            "alert": alert,
        },
    )
    return Reading(tenant_id, inbound_message_id, row.lead_id, got, row)


def act_on(session: Session, reading: Reading, *, now: datetime) -> Triaged:
    """Do what the reading asks, each action audited on the lead's latest enrollment (never commits)."""
    got, lead_id, tenant_id = reading.triage, reading.lead_id, reading.tenant_id
    if lead_id is None:
        return Triaged(got, ())
    actions = _act(session, tenant_id=tenant_id, lead_id=lead_id, got=got, now=now, addresses=reading.addresses)
    for action in actions:
        params = {"tenant_id": tenant_id, "lead_id": lead_id, "at": now}
        session.execute(_AUDIT, {**params, "event": f"triage_{got.intent.value}", "reason": f"{action}: {got.reason}"})
    return Triaged(got, actions)


def _act(
    session: Session, *, tenant_id: int, lead_id: int, got: Triage, now: datetime, addresses: Any
) -> tuple[str, ...]:
    params: dict[str, Any] = {"tenant_id": tenant_id, "lead_id": lead_id}
    intent = got.intent
    if intent in (Intent.INTERESTED, Intent.QUESTION):
        _update_lead(session, "engaged", params)
        return ("engaged, owner alerted",)
    if intent is Intent.NOT_NOW:
        until = _midnight(got.until) if got.until else now + SNOOZE_DEFAULT
        _update_lead(session, "snoozed", {**params, "until": until})
        return (f"snoozed until {until.date().isoformat()}",)
    if intent is Intent.NOT_INTERESTED:
        reactions.stop_enrollments(
            session, tenant_id=tenant_id, lead_ids=[lead_id], event=StopEvent.REPLIED, reason="not interested", at=now
        )
        _update_lead(session, "closed", params)
        return ("stopped and closed",)
    if _unsure_opt_out(got):
        return ("left for a person to confirm: no explicit opt-out phrase",)
    if intent is Intent.UNSUBSCRIBE:
        email, phone, sender, channel = addresses.email, addresses.phone, addresses.from_address, addresses.channel
        for ch, addrs in (
            ("email", [email, sender if channel == "email" else None]),
            ("sms", [phone, sender if channel == "sms" else None]),
        ):
            reactions.suppress(
                session,
                tenant_id=tenant_id,
                channel=ch,
                addresses=[a for a in addrs if a],
                reason="unsubscribe",
                note="asked in a reply",
            )
        reactions.stop_enrollments(
            session,
            tenant_id=tenant_id,
            lead_ids=[lead_id],
            event=StopEvent.UNSUBSCRIBED,
            reason="asked in a reply",
            at=now,
        )
        return ("suppressed on every channel",)
    if intent is Intent.OUT_OF_OFFICE:
        if got.until is None:
            return ("out of office, no return date",)
        until = _midnight(got.until)
        _update_lead(session, "resume", {**params, "until": until})
        campaign_routes.wait_until(session, tenant_id=tenant_id, lead_id=lead_id, until=until)
        return (f"next step waits until {got.until.isoformat()}",)
    _update_lead(session, "flagged", params)
    return ("flagged as the wrong person",)
