"""Reads behind each lead's best contact window: replies and clicks by local weekday × hour.

The writer asks for a whole batch of leads at once (one statement, whatever the batch size),
each in the zone its messages are scheduled in; the tenant's fallback is the heat-map of the
Replies page (`db.outbox_reads.engagement_heatmap`), so the window a lead borrows is the one the
page shows.

A lead's own history is its timeline: `activities` of kind email_in, sms_in (replies, also
those to conversations before any recovery, which the inbox does not hold) and click. The read
is one range of ix_activities_lead_time (lead_id, occurred_at DESC) per lead of the batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger, Text

from . import outbox_reads

LEAD_HISTORY_DAYS = 365
TENANT_HISTORY_DAYS = 90  # the Replies page's heat-map
ENGAGEMENT_KINDS = ("email_in", "sms_in", "click")

Slot = tuple[int, int]
SlotCounts = dict[Slot, int]

# One range of ix_activities_lead_time per lead; each lead's zone comes resolved (see `zones_for`).
_LEAD_SLOTS = text(
    """
    WITH local AS (
        SELECT b.lead_id, e.occurred_at AT TIME ZONE b.zone AS at
        FROM unnest(:lead_ids, :zones) AS b(lead_id, zone)
        CROSS JOIN LATERAL (
            SELECT a.occurred_at FROM activities a
            WHERE a.lead_id = b.lead_id AND a.tenant_id = :tenant_id
              AND a.occurred_at > CAST(:since AS timestamptz) AND a.occurred_at <= CAST(:now AS timestamptz)
              AND a.kind = ANY(:kinds)
        ) AS e
    )
    SELECT lead_id, CAST(extract(isodow FROM at) AS int) - 1 AS weekday, CAST(extract(hour FROM at) AS int) AS hour,
           count(*) AS events
    FROM local GROUP BY 1, 2, 3
    """
).bindparams(
    bindparam("lead_ids", type_=ARRAY(BigInteger)),
    bindparam("zones", type_=ARRAY(Text)),
    bindparam("kinds", type_=ARRAY(Text)),
)

known_zones = outbox_reads.known_zones  # one cache of the server's zone names for every read


def zones_for(conn: Connection, lead_zones: Mapping[int, str | None]) -> dict[int, str]:
    """Each lead's zone, or UTC for a name this server does not know (`AT TIME ZONE` would fail
    the whole batch on it); UTC is also where the sender puts such a lead."""
    known = known_zones(conn)
    return {lead_id: zone if zone in known else "UTC" for lead_id, zone in lead_zones.items()}


def lead_slot_counts(
    conn: Connection,
    tenant_id: int,
    lead_zones: Mapping[int, str | None],
    *,
    now: dt.datetime,
    days: int = LEAD_HISTORY_DAYS,
) -> dict[int, SlotCounts]:
    """Each lead's replies and clicks of the last `days` by its local (weekday, hour), from its
    zone by lead id; leads without any are absent."""
    if not lead_zones:
        return {}
    zones = zones_for(conn, lead_zones)
    params = {
        "tenant_id": tenant_id,
        "lead_ids": list(zones),
        "zones": list(zones.values()),
        "now": now,
        "since": now - dt.timedelta(days=days),
        "kinds": list(ENGAGEMENT_KINDS),
    }
    found: dict[int, SlotCounts] = {}
    for row in conn.execute(_LEAD_SLOTS, params):
        found.setdefault(row.lead_id, {})[(row.weekday, row.hour)] = int(row.events)
    return found


def tenant_slot_counts(
    conn: Connection, tenant_id: int, *, now: dt.datetime, days: int = TENANT_HISTORY_DAYS
) -> SlotCounts:
    """The tenant's heat-map (the Replies page's) as counts by (weekday, hour)."""
    frame = outbox_reads.engagement_heatmap(conn, tenant_id, days=days, now=now)
    return {(int(d), int(h)): int(n) for d, h, n in frame[["weekday", "hour", "count"]].itertuples(index=False)}
