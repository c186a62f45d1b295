"""A campaign's sends and successes per message variant: the counts its A/B test is decided on.

The unit is the sent message. A message counts as sent once it has left for the provider
(`sent_at` set), whatever happened to it afterwards: dropping the bounced ones would make a
variant's denominator depend on what came back. A sent message counts once per kind of
success, however many events it drew:

- **replied**: a `reply` event on it, or a reply in `inbound_messages` matched to it that is
  not an opt-out ("remove me": intent `unsubscribe`);
- **clicked**: a `click` event on it;
- **converted**: a conversion credited to it (`conversions.message_id`, last touch).

Messages without a variant (single-message nodes, the writer's rows before plans) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

COUNTS_SQL = text(
    """
    WITH sent AS (
        SELECT id, variant FROM outbound_messages
        WHERE tenant_id = :tenant_id AND campaign_id = :campaign_id
          AND variant IS NOT NULL AND sent_at IS NOT NULL
    ), replied AS (
        SELECT e.message_id FROM message_events e JOIN sent s ON s.id = e.message_id
        WHERE e.tenant_id = :tenant_id AND e.event_type = 'reply'
        UNION
        SELECT i.message_id FROM inbound_messages i JOIN sent s ON s.id = i.message_id
        WHERE i.tenant_id = :tenant_id AND i.intent IS DISTINCT FROM 'unsubscribe'
    ), clicked AS (
        SELECT DISTINCT e.message_id FROM message_events e JOIN sent s ON s.id = e.message_id
        WHERE e.tenant_id = :tenant_id AND e.event_type = 'click'
    ), converted AS (
        SELECT DISTINCT c.message_id FROM conversions c JOIN sent s ON s.id = c.message_id
        WHERE c.tenant_id = :tenant_id
    )
    SELECT s.variant AS name, count(*) AS sent,
           count(r.message_id) AS replied, count(k.message_id) AS clicked, count(c.message_id) AS converted
    FROM sent s
    LEFT JOIN replied r ON r.message_id = s.id
    LEFT JOIN clicked k ON k.message_id = s.id
    LEFT JOIN converted c ON c.message_id = s.id
    GROUP BY s.variant
    ORDER BY s.variant
    """
)


@dataclass(frozen=True)
class VariantCounts:
    name: str
    sent: int
    replied: int
    clicked: int
    converted: int

    def successes(self, metric: str) -> int:
        """The count of one metric (`replied`, `clicked` or `converted`)."""
        if metric not in ("replied", "clicked", "converted"):
            raise ValueError(f"unknown metric {metric!r}")
        return int(getattr(self, metric))


def variant_counts(conn: Connection, tenant_id: int, campaign_id: int) -> list[VariantCounts]:
    """Every variant the campaign has sent, by name."""
    found = conn.execute(COUNTS_SQL, {"tenant_id": tenant_id, "campaign_id": campaign_id})
    return [VariantCounts(r.name, r.sent, r.replied, r.clicked, r.converted) for r in found]
