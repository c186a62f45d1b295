"""What a rep does with a reply in the inbox: mark it handled, correct its intent.

The service checks the operator again (active, of this tenant or an admin, not a viewer),
whatever the page shows: a page's hidden button is not a permission. Marking twice keeps the
first rep and time, so the inbox says who really took it. A corrected intent is shown at once
and kept in `reply_labels` with the words it was given for: the labelled examples triage learns from.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import runtime
from app.domain import roles
from app.services import acting
from db.models import INTENTS

_HANDLE = text(
    """
    UPDATE inbound_messages SET handled_at = :now, handled_by = :operator_id, updated_at = now()
    WHERE id = :id AND tenant_id = :tenant_id AND handled_at IS NULL
    RETURNING id
    """
)


def mark_handled(*, tenant_id: int, inbound_message_id: int, operator_id: int, now: dt.datetime) -> bool:
    """True when this call marked it; False when it was already handled (or is not this tenant's)."""
    with runtime.session_scope() as session, session.begin():
        _check_operator(session, tenant_id=tenant_id, operator_id=operator_id)
        params = {"id": inbound_message_id, "tenant_id": tenant_id, "operator_id": operator_id, "now": now}
        return session.execute(_HANDLE, params).first() is not None


_LABEL = text(
    """
    WITH reply AS (
        SELECT id, tenant_id, channel, body, intent FROM inbound_messages
        WHERE id = :id AND tenant_id = :tenant_id FOR UPDATE
    ), labelled AS (
        INSERT INTO reply_labels (tenant_id, inbound_message_id, channel, text, intent, previous_intent, labelled_by)
        SELECT tenant_id, id, channel, body, :intent, intent, :operator_id FROM reply
        ON CONFLICT (inbound_message_id) DO UPDATE
        SET intent = excluded.intent, labelled_by = excluded.labelled_by, updated_at = now()
        RETURNING inbound_message_id
    )
    UPDATE inbound_messages SET intent = :intent, updated_at = now()
    WHERE id IN (SELECT inbound_message_id FROM labelled)
    RETURNING id
    """
)


def correct_intent(*, tenant_id: int, inbound_message_id: int, intent: str, operator_id: int) -> bool:
    """The rep's intent replaces triage's and is kept as a labelled example; False for a reply not this tenant's.

    The label keeps the intent triage first gave (`previous_intent`), not a rep's earlier correction:
    what a classifier got wrong is what it learns from."""
    if intent not in INTENTS:
        raise ValueError(f"intent must be one of {', '.join(INTENTS)}, got {intent!r}")
    with runtime.session_scope() as session, session.begin():
        _check_operator(session, tenant_id=tenant_id, operator_id=operator_id)
        params = {"id": inbound_message_id, "tenant_id": tenant_id, "intent": intent, "operator_id": operator_id}
        return session.execute(_LABEL, params).first() is not None


def _check_operator(session: Session, *, tenant_id: int, operator_id: int) -> None:
    acting.require(session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.ANSWER_REPLIES)


_ANSWER = text(
    """
    INSERT INTO outbound_messages (tenant_id, lead_id, channel, to_address, subject, body, source, status,
                                   scheduled_for, dedupe_key)
    SELECT i.tenant_id, i.lead_id, i.channel,
           coalesce(CASE i.channel WHEN 'email' THEN l.email ELSE l.phone END, i.from_address),
           CASE i.channel WHEN 'email' THEN 'Re: ' || coalesce(m.subject, 'your message') END,
           :body, 'manual', 'pending', :now, i.tenant_id || ':answer:' || i.id || ':' || i.channel
    FROM inbound_messages i
    JOIN leads l ON l.id = i.lead_id
    LEFT JOIN outbound_messages m ON m.id = i.message_id
    WHERE i.id = :id AND i.tenant_id = :tenant_id
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id
    """
)


def answer_reply(
    *, tenant_id: int, inbound_message_id: int, body: str, operator_id: int, now: dt.datetime
) -> int | None:
    """Queue the rep's answer as a `pending` outbox row and mark the reply handled; the row's id.

    The sender claims it like any other message, so suppression, consent, quiet hours, the send
    window and rate limits all apply: an answer is never a way around them. One answer per reply
    (its dedupe key), so a double click sends once; None when it was already answered or the
    reply has no lead to answer."""
    body = body.strip()
    if not body:
        raise ValueError("Write an answer first.")
    with runtime.session_scope() as session, session.begin():
        _check_operator(session, tenant_id=tenant_id, operator_id=operator_id)
        params = {"id": inbound_message_id, "tenant_id": tenant_id, "body": body, "now": now}
        message_id = session.execute(_ANSWER, params).scalar()
        if message_id is None:
            return None
        session.execute(_HANDLE, {**params, "operator_id": operator_id})
        return int(message_id)
