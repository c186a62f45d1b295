"""Reads for the Campaigns page beyond the list itself (`campaigns`): what each campaign has
queued right now, its audit trail, the values its audience criteria can pick from, and the
tenant's message templates.

Same conventions as `db/queries.py`: an `Engine` or open `Connection`, the tenant id first,
frozen dataclasses or DataFrames back.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import text

from .queries import (
    Bind,
    _connection,
    _frame,
)

OPTION_LIMIT = 200
LIBRARY_LIMIT = 100


def campaign_queues(bind: Bind, tenant_id: int) -> pd.DataFrame:
    """Per campaign: `queued`, the sends not yet handed to a provider (outbox rows `pending`, and
    due or future `send` actions not yet written) and `timers`, the interpreter's pending timers
    and events. What a kill would cancel, and what a pause holds back."""
    sql = text(
        """
        WITH outbox AS (
            SELECT campaign_id, count(*) AS n FROM outbound_messages
            WHERE tenant_id = :tenant_id AND status = 'pending' AND campaign_id IS NOT NULL GROUP BY campaign_id
        ), actions AS (
            SELECT e.campaign_id, count(*) FILTER (WHERE a.kind = 'send') AS sends,
                   count(*) FILTER (WHERE a.kind <> 'send') AS timers
            FROM scheduled_actions AS a JOIN enrollments AS e ON e.id = a.enrollment_id
            WHERE a.tenant_id = :tenant_id AND a.status = 'pending' GROUP BY e.campaign_id
        )
        SELECT c.id AS campaign_id, coalesce(o.n, 0) + coalesce(a.sends, 0) AS queued, coalesce(a.timers, 0) AS timers
        FROM campaigns AS c
        LEFT JOIN outbox AS o ON o.campaign_id = c.id
        LEFT JOIN actions AS a ON a.campaign_id = c.id
        WHERE c.tenant_id = :tenant_id
        """
    )
    with _connection(bind) as conn:
        return _frame(conn.execute(sql, {"tenant_id": tenant_id}))


def campaign_events(bind: Bind, tenant_id: int, campaign_id: int) -> pd.DataFrame:
    """The campaign's audit trail, newest first: at, event, from_status, to_status, operator (name or None)."""
    sql = text(
        """
        SELECT e.at, e.event, e.from_status, e.to_status, o.name AS operator
        FROM campaign_events AS e LEFT JOIN operators AS o ON o.id = e.operator_id
        WHERE e.tenant_id = :tenant_id AND e.campaign_id = :campaign_id
        ORDER BY e.at DESC, e.id DESC
        """
    )
    with _connection(bind) as conn:
        return _frame(conn.execute(sql, {"tenant_id": tenant_id, "campaign_id": campaign_id}))


@dataclass(frozen=True)
class AudienceOptions:
    """What the audience criteria offer: the tenant's stages, sources and tags (most common first,
    at most OPTION_LIMIT each) and its operators as (id, name)."""

    stages: tuple[str, ...]
    sources: tuple[str, ...]
    tags: tuple[str, ...]
    owners: tuple[tuple[int, str], ...]


def audience_options(bind: Bind, tenant_id: int) -> AudienceOptions:
    """One pass over the tenant's leads for stages, sources and tags; the operators by name."""
    sql = text(
        """
        WITH l AS (SELECT stage, source, tags FROM leads WHERE tenant_id = :tenant_id)
        SELECT 'stage' AS what, stage AS value, count(*) AS n FROM l GROUP BY stage
        UNION ALL SELECT 'source', source, count(*) FROM l GROUP BY source
        UNION ALL SELECT 'tag', tag, count(*) FROM l, unnest(l.tags) AS tag GROUP BY tag
        ORDER BY n DESC, value
        """
    )
    found: dict[str, list[str]] = {"stage": [], "source": [], "tag": []}
    with _connection(bind) as conn:
        for row in conn.execute(sql, {"tenant_id": tenant_id}):
            if len(found[row.what]) < OPTION_LIMIT:
                found[row.what].append(row.value)
        owners = conn.execute(
            text("SELECT id, name FROM operators WHERE tenant_id = :tenant_id AND is_active ORDER BY name, id"),
            {"tenant_id": tenant_id},
        ).all()
    return AudienceOptions(
        tuple(found["stage"]), tuple(found["source"]), tuple(found["tag"]), tuple((r.id, r.name) for r in owners)
    )


@dataclass(frozen=True)
class LibraryTemplate:
    name: str
    channel: str
    subject: str | None
    body: str


def template_library(bind: Bind, tenant_id: int) -> list[LibraryTemplate]:
    """The tenant's templates at their current version, newest first (at most LIBRARY_LIMIT)."""
    sql = text(
        """
        SELECT t.name, t.channel, v.subject, v.body
        FROM templates AS t JOIN template_versions AS v ON v.template_id = t.id AND v.version = t.current_version
        WHERE t.tenant_id = :tenant_id
        ORDER BY v.created_at DESC, t.id DESC
        LIMIT :limit
        """
    )
    with _connection(bind) as conn:
        rows = conn.execute(sql, {"tenant_id": tenant_id, "limit": LIBRARY_LIMIT})
        return [LibraryTemplate(r.name, r.channel, r.subject, r.body) for r in rows]


# --- campaigns -----------------------------------------------------------------------------

CAMPAIGN_STATUS_ORDER = ("running", "scheduled", "paused", "draft", "completed", "archived")


def campaigns(bind: Bind, tenant_id: int) -> pd.DataFrame:
    """The tenant's campaigns, running first, with their enrollments and results so far.

    Columns: id, name, kind, status, channel (None: the plan mixes channels), starts_at,
    enrolled (every enrollment), active (status active or waiting), control (held out),
    completed, stopped (stopped or failed), sent, replied, conversions, revenue, cost (the last
    five summed over all days of metrics_daily for the campaign).
    """
    sql = text(
        """
        WITH e AS (
            SELECT campaign_id,
                   count(*) AS enrolled,
                   count(*) FILTER (WHERE status IN ('active', 'waiting')) AS active,
                   count(*) FILTER (WHERE status = 'control') AS control,
                   count(*) FILTER (WHERE status = 'completed') AS completed,
                   count(*) FILTER (WHERE status IN ('stopped', 'failed')) AS stopped
            FROM enrollments WHERE tenant_id = :tenant_id GROUP BY campaign_id
        ), m AS (
            SELECT campaign_id, sum(sent) AS sent, sum(replied) AS replied, sum(conversions) AS conversions,
                   sum(revenue) AS revenue, sum(cost_usd) AS cost
            FROM metrics_daily WHERE tenant_id = :tenant_id AND campaign_id IS NOT NULL GROUP BY campaign_id
        )
        SELECT c.id, c.name, c.kind, c.status, c.channel, c.starts_at,
               coalesce(e.enrolled, 0) AS enrolled, coalesce(e.active, 0) AS active,
               coalesce(e.control, 0) AS control, coalesce(e.completed, 0) AS completed,
               coalesce(e.stopped, 0) AS stopped,
               coalesce(m.sent, 0) AS sent, coalesce(m.replied, 0) AS replied,
               coalesce(m.conversions, 0) AS conversions,
               coalesce(m.revenue, 0)::float8 AS revenue, coalesce(m.cost, 0)::float8 AS cost
        FROM campaigns c
        LEFT JOIN e ON e.campaign_id = c.id
        LEFT JOIN m ON m.campaign_id = c.id
        WHERE c.tenant_id = :tenant_id
        ORDER BY array_position(CAST(:order AS text[]), c.status), c.created_at DESC, c.id DESC
        """
    )
    with _connection(bind) as conn:
        return _frame(conn.execute(sql, {"tenant_id": tenant_id, "order": list(CAMPAIGN_STATUS_ORDER)}))
