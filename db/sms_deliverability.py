"""How many texts carriers refused to pass on, for the Agents page.

Twilio's 30007 means a carrier filtered the message as spam or unregistered traffic: sending
more of the same makes it worse (and A2P 10DLC registration or the wording is the fix), so a
team must see it rising. The status applier keeps each failure's code on its outbox row
(`outbound_messages.error_code`) and the failure as an event; the figure counts messages by
when their failure was reported.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from .queries import Bind, _connection, _now

CARRIER_FILTERED = "30007"
WINDOW = dt.timedelta(hours=24)

_COUNT = text(
    """
    SELECT count(DISTINCT e.message_id)
    FROM message_events AS e
    JOIN outbound_messages AS m ON m.id = e.message_id
    WHERE e.tenant_id = :tenant_id AND e.event_type IN ('undelivered', 'failed')
      AND e.occurred_at > CAST(:now AS timestamptz) - CAST(:window AS interval)
      AND e.occurred_at <= CAST(:now AS timestamptz)
      AND m.channel = 'sms' AND m.error_code = :code
    """
)


def carrier_filtered(bind: Bind, tenant_id: int, *, now: dt.datetime | None = None) -> int:
    """Texts of the tenant a carrier filtered (Twilio 30007) whose failure came in the 24 h before `now`.

    Reads the failure events of the window on ix_message_events_tenant_type_time, then each
    one's row by its key: never the tenant's whole outbox.
    """
    params = {"tenant_id": tenant_id, "now": _now(now), "window": WINDOW, "code": CARRIER_FILTERED}
    with _connection(bind) as conn:
        return int(conn.execute(_COUNT, params).scalar_one())
