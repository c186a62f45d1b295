"""Reads of the suppression list for the console: is this lead's address one we must never write to?

Same conventions as `db/queries.py`: a function takes an `Engine` or an open `Connection` and
the tenant id first, and returns frozen dataclasses. A lead is suppressed on a channel when
its current address there is on the tenant's list, compared as the sender and the scan
compare it (an email as stored and lower-cased; a phone as stored), so the drawer says what
the agents will do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text

from .queries import Bind, _connection


@dataclass(frozen=True)
class LeadSuppression:
    """One channel on which the lead's address is suppressed: why (the list's reason) and since when."""

    channel: str
    reason: str
    since: dt.datetime


def lead_suppressions(bind: Bind, tenant_id: int, lead_id: int) -> list[LeadSuppression]:
    """The lead's suppressed channels, email first, each with its earliest suppression (an email listed
    both as typed and lower-cased counts once); empty for a lead of another tenant.

    A primary-key probe of the lead, then the unique (tenant_id, channel, address) index of
    `suppressions` for each of its addresses.
    """
    sql = text(
        """
        SELECT DISTINCT ON (s.channel) s.channel, s.reason, s.created_at AS since
        FROM leads l
        JOIN suppressions s ON s.tenant_id = l.tenant_id AND (
            (s.channel = 'email' AND s.address IN (l.email, lower(l.email)))
            OR (s.channel = 'sms' AND s.address = l.phone)
        )
        WHERE l.tenant_id = :tenant_id AND l.id = :lead_id
        ORDER BY s.channel, s.created_at
        """
    )
    with _connection(bind) as conn:
        rows = conn.execute(sql, {"tenant_id": tenant_id, "lead_id": lead_id}).all()
    return [LeadSuppression(channel=r.channel, reason=r.reason, since=r.since) for r in rows]
