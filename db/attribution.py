"""Attribution for the ROI page: which campaign, channel and method recovered whom, and at what cost.

A read query like those of `db/queries.py` (same conventions: tenant id first, hand-written SQL,
a DataFrame back, money as float), kept in a module of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import pandas as pd
from sqlalchemy import text

from .queries import Bind, _connection, _frame, _now

Touch = Literal["first", "last"]
AttributionKey = Literal["campaign", "channel", "method"]
ATTRIBUTION_KEYS: tuple[AttributionKey, ...] = ("campaign", "channel", "method")
NO_CAMPAIGN = "(no campaign)"

# Each group key as an expression over an outbound message `m` and its campaign `k`. *Method*
# is how the message was written: `ai`/`ai_cache` → AI, `template`/`offline` → Template (the
# offline fallback is a template), `manual` → Manual.
_ATTRIBUTION_KEY_SQL: dict[AttributionKey, str] = {
    "campaign": f"coalesce(k.name, '{NO_CAMPAIGN}')",
    "channel": "m.channel",
    "method": (
        "CASE WHEN m.source IN ('ai', 'ai_cache') THEN 'AI' "
        "WHEN m.source IN ('template', 'offline') THEN 'Template' ELSE 'Manual' END"
    ),
}
_TOUCH_ORDER: dict[Touch, str] = {"first": "ASC", "last": "DESC"}


def attribution(
    bind: Bind,
    tenant_id: int,
    *,
    days: int = 90,
    touch: Touch,
    by: Sequence[AttributionKey] = ATTRIBUTION_KEYS,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """Conversions, revenue and spend per campaign / channel / method, first- or last-touch.

    Definitions, over the window (now − `days`, now]:

    - *credited message* of a conversion: each non-organic conversion in the window credits
      exactly one outbound message, the first (`touch="first"`) or the last (`touch="last"`)
      message sent (`sent_at` set) to the same lead in the window at or before the conversion
      (ties by message id). A conversion with no such message credits nothing and is left out.
    - *conversions*, *revenue*: count and value of the conversions credited to a group's messages.
    - *recovered*: distinct leads among those conversions.
    - *sent*, *cost*: messages sent in the window whose keys fall in the group, and the sum of
      their `cost_usd` (provider spend), whether or not they led anywhere.
    - *cost per recovered lead*: cost ÷ recovered; None when the group recovered nobody.

    `by` picks the group keys (any of campaign, channel, method, in that order; none gives one
    total row). Groups with spend but no conversion are kept (with zeros). Rows come most
    revenue first. One statement: DISTINCT ON picks each conversion's message on
    ix_conversions_tenant_time and ix_outbound_messages_lead; the sends on
    ix_outbound_messages_tenant_time's tenant prefix.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if touch not in _TOUCH_ORDER:
        raise ValueError(f"touch must be 'first' or 'last', got {touch!r}")
    keys = [key for key in ATTRIBUTION_KEYS if key in by]
    if len(keys) != len(set(by)) or len(set(by)) != len(by):
        raise ValueError(f"unknown or repeated attribution keys: {list(by)}")
    direction = _TOUCH_ORDER[touch]
    select_keys = "".join(f"{_ATTRIBUTION_KEY_SQL[key]} AS {key}, " for key in keys)
    group = f"GROUP BY {', '.join(str(i) for i in range(1, len(keys) + 1))}" if keys else "GROUP BY ()"
    joined = " AND ".join(f"s.{key} = c.{key}" for key in keys) or "true"
    outer_keys = "".join(f"coalesce(s.{key}, c.{key}) AS {key}, " for key in keys)
    order = "".join(f", {key}" for key in keys)
    sql = text(
        f"""
        WITH credited AS (
            SELECT DISTINCT ON (c.id) c.id, c.lead_id, c.value, m.campaign_id, m.channel, m.source
            FROM conversions c
            JOIN outbound_messages m ON m.lead_id = c.lead_id AND m.tenant_id = c.tenant_id
                 AND m.sent_at > :start AND m.sent_at <= c.converted_at
            WHERE c.tenant_id = :tenant_id AND c.method <> 'organic'
              AND c.converted_at > :start AND c.converted_at <= :end
            ORDER BY c.id, m.sent_at {direction}, m.id {direction}
        ), c AS (
            SELECT {select_keys}count(*) AS conversions, count(DISTINCT m.lead_id) AS recovered,
                   sum(m.value) AS revenue
            FROM credited m LEFT JOIN campaigns k ON k.id = m.campaign_id
            {group}
        ), s AS (
            SELECT {select_keys}count(*) AS sent, sum(m.cost_usd) AS cost
            FROM outbound_messages m LEFT JOIN campaigns k ON k.id = m.campaign_id
            WHERE m.tenant_id = :tenant_id AND m.sent_at > :start AND m.sent_at <= :end
            {group}
        )
        SELECT {outer_keys}coalesce(c.conversions, 0) AS conversions,
               coalesce(c.revenue, 0)::float8 AS revenue, coalesce(c.recovered, 0) AS recovered,
               coalesce(s.sent, 0) AS sent, coalesce(s.cost, 0)::float8 AS cost,
               (coalesce(s.cost, 0) / nullif(c.recovered, 0))::float8 AS cost_per_recovered
        FROM s FULL JOIN c ON {joined}
        ORDER BY revenue DESC, cost DESC{order}
        """
    )
    end = _now(now)
    params = {"tenant_id": tenant_id, "start": end - dt.timedelta(days=days), "end": end}
    with _connection(bind) as conn:
        frame = _frame(conn.execute(sql, params))
    # None, not NaN, where nobody was recovered: the table shows a blank, the CSV an empty cell.
    frame["cost_per_recovered"] = pd.Series(
        [None if pd.isna(x) else float(x) for x in frame["cost_per_recovered"]], index=frame.index, dtype=object
    )
    return frame
