"""What the providers told us through their webhooks, as the applier recorded it: the Agents page's
deliverability section.

Every webhook POST leaves one `webhook_deliveries` row (app/services/deliveries.py) and the
applier writes on it what its events did (app/services/webhook_apply.py), so the last 24 hours
are one range of ix_webhook_deliveries_time, summed per provider endpoint. A provider posts the
events of all tenants in one delivery, so these figures are the platform's, not one tenant's.

Same conventions as `db/queries.py`: an `Engine` (or open `Connection`), and `now` for a pinned
clock (None: the real time).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import text

from .queries import Bind, _connection, _frame, _now

DELIVERABILITY_WINDOW = dt.timedelta(hours=24)
COUNT_COLUMNS = ("deliveries", "waiting", "rejected", "events", "applied", "duplicates", "unmatched", "ignored")

_BY_ENDPOINT = text(
    """
    SELECT provider, endpoint,
           count(*) FILTER (WHERE result <> 'rejected') AS deliveries,
           count(*) FILTER (WHERE result = 'received') AS waiting,
           count(*) FILTER (WHERE result = 'rejected') AS rejected,
           coalesce(sum(event_count), 0) AS events,
           coalesce(sum(applied_count), 0) AS applied,
           coalesce(sum(duplicate_count), 0) AS duplicates,
           coalesce(sum(unmatched_count), 0) AS unmatched,
           coalesce(sum(ignored_count), 0) AS ignored,
           max(received_at) AS last_received_at
    FROM webhook_deliveries
    WHERE received_at > CAST(:since AS timestamptz) AND received_at <= CAST(:now AS timestamptz)
    GROUP BY provider, endpoint
    ORDER BY provider, endpoint
    """
)


def webhook_deliverability(bind: Bind, *, now: dt.datetime | None = None) -> pd.DataFrame:
    """The last 24 hours of webhook deliveries, one row per provider endpoint.

    Columns: provider, endpoint; deliveries (accepted: applied or waiting), waiting (accepted,
    not applied yet), rejected (refused at the door: bad signature, bad body); and, over the
    applied deliveries, events, applied (new events acted on), duplicates (redelivered),
    unmatched (naming no message of ours), ignored (kinds we do not act on); last_received_at.
    """
    at = _now(now)
    with _connection(bind) as conn:
        frame = _frame(conn.execute(_BY_ENDPOINT, {"since": at - DELIVERABILITY_WINDOW, "now": at}))
    for column in COUNT_COLUMNS:
        frame[column] = frame[column].astype("int64")
    return frame
