"""The data of `python -m bench.campaigns`: two tenants of silent leads with a realistic mix, loaded with COPY.

Each lead has a zone (mostly the US's four, some London and UTC, a few blank or misspelt, which
the plan reads as its own zone), an email (90 %) and a phone (60 %), so some are email-only,
some SMS-only, most both and a few neither; consent is withheld by some, a phone is known
unreachable for a few, and 2 % of emails and 1 % of phones are suppressed. 3 % are busy in an
active enrollment of another campaign (a nurture sequence), and 10 % had an earlier episode of
the recovery campaign (completed), so they start episode 2. The branch fields (deal value,
intent, stage, source, tags) vary as a CRM's do.

Tenant 1's leads are the audience the enrollment is timed on; tenant 2's (16 % more) are
enrolled once (committed) so that the fire benchmark has more wait timers due a day later than
it fires.
The clock is pinned: at `ANCHOR` (17:00 UTC) every zone of the mix is inside the plans' send
window, so every first message goes at once and every wait timer is due exactly 24 h later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from app.domain.plan import default_recovery_plan_json
from bench.scratch import copy_table

ANCHOR = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
LADDER = (24, 48, 72)
US_PER_HOUR = 3_600_000_000
ZONES = (
    ("America/New_York", 0.30),
    ("America/Chicago", 0.24),
    ("America/Denver", 0.08),
    ("America/Los_Angeles", 0.20),
    ("Europe/London", 0.08),
    ("UTC", 0.06),
    ("", 0.02),
    ("America/Nowhere", 0.02),
)
STAGES = ("new", "contacted", "qualified", "proposal")
SOURCES = ("web", "referral", "ads", "event")
PRIOR_EPISODE_SHARE = 0.10
BUSY_SHARE = 0.03
BUSY_ID_OFFSET = 1 << 40  # enrollment ids of the nurture sequence, clear of the ids the services take


@dataclass(frozen=True)
class Campaigns:
    """One tenant's campaigns: the recovery ladder, an A/B plan, and the nurture sequence that keeps leads busy."""

    tenant_id: int
    recovery: int
    ab_test: int
    nurture: int
    lead_ids: list[int]


def ab_plan_json() -> dict[str, Any]:
    """A launched campaign's plan with A/B variants: a branch on deal value, two-variant sends, a wait, a rung 2."""
    ends = [{"on": event, "to": "stop"} for event in ("replied", "clicked", "converted", "unsubscribed", "bounced")]
    return {
        "version": 2,
        "timezone": "America/Chicago",
        "quiet_hours": {"start": 21, "end": 8},
        "send_window": {"start": 8, "end": 20},
        "start": "vip?",
        "nodes": [
            {
                "id": "vip?",
                "kind": "branch",
                "cases": [{"if": {"field": "deal_value", "op": ">=", "value": 5000}, "to": "vip-1"}],
                "else": "offer-1",
            },
            {
                "id": "offer-1",
                "kind": "send",
                "rung": 1,
                "channels": ["email", "sms"],
                "brief": "a short check-in",
                "variants": [{"name": "A", "weight": 1}, {"name": "B", "weight": 1, "template": "tpl-offer-b"}],
                "next": "wait-1",
            },
            {
                "id": "vip-1",
                "kind": "send",
                "rung": 1,
                "channels": ["sms", "email"],
                "brief": "a personal note from the account owner",
                "variants": [{"name": "A", "weight": 1}, {"name": "B", "weight": 2, "brief": "a call offer"}],
                "next": "wait-1",
            },
            {"id": "wait-1", "kind": "wait", "duration": "PT24H", "next": "offer-2", "transitions": ends},
            {
                "id": "offer-2",
                "kind": "send",
                "rung": 2,
                "channels": ["sms", "email"],
                "brief": "the last word",
                "variants": [{"name": "A", "weight": 1}, {"name": "B", "weight": 1, "template": "tpl-last-b"}],
                "next": "wait-2",
            },
            {"id": "wait-2", "kind": "wait", "duration": "PT48H", "next": "done", "transitions": ends},
            {"id": "done", "kind": "stop", "result": "completed"},
            {"id": "stop", "kind": "stop", "result": "stopped"},
        ],
    }


def recovery_plan_json() -> dict[str, Any]:
    return default_recovery_plan_json(LADDER)


def seed(engine: sa.Engine, *, sizes: tuple[int, ...], seed: int) -> list[Campaigns]:
    """One tenant per size, each with its leads, suppressions, earlier episodes and busy leads."""
    rng = np.random.default_rng(seed)
    tenants = []
    offset = 0
    with engine.begin() as conn:
        for index, size in enumerate(sizes):
            campaigns = _campaign_rows(conn, index)
            ids = np.arange(offset + 1, offset + size + 1, dtype=np.int64)
            offset += size
            world = _lead_world(rng, campaigns.tenant_id, ids)
            copy_table(conn, "leads", _leads_table(rng, world))
            copy_table(conn, "suppressions", _suppressions_table(rng, world))
            copy_table(conn, "enrollments", _enrollments_table(rng, world, campaigns))
            tenants.append(Campaigns(**{**campaigns.__dict__, "lead_ids": [int(i) for i in ids]}))
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('leads', 'id'), (SELECT max(id) FROM leads))"))
    return tenants


def _campaign_rows(conn: sa.Connection, index: int) -> Campaigns:
    tenant_id = conn.execute(
        sa.text("INSERT INTO tenants (slug, name, holdout_percent) VALUES (:slug, :name, 0) RETURNING id"),
        {"slug": f"bench-{index + 1}", "name": f"Bench {index + 1}"},
    ).scalar_one()
    insert = sa.text(
        "INSERT INTO campaigns (tenant_id, name, kind, status, plan, created_at) "
        "VALUES (:t, :name, :kind, 'running', CAST(:plan AS jsonb), :at) RETURNING id"
    )

    def campaign(name: str, kind: str, plan: dict[str, Any]) -> int:
        params = {"t": tenant_id, "name": name, "kind": kind, "plan": json.dumps(plan), "at": ANCHOR}
        return int(conn.execute(insert, params).scalar_one())

    return Campaigns(
        tenant_id=int(tenant_id),
        recovery=campaign("Win back", "recovery", recovery_plan_json()),
        ab_test=campaign("Spring offer A/B", "sequence", ab_plan_json()),
        nurture=campaign("Nurture", "sequence", {}),
        lead_ids=[],
    )


def _lead_world(rng: np.random.Generator, tenant_id: int, ids: np.ndarray) -> dict[str, Any]:
    n = len(ids)
    names, weights = zip(*ZONES, strict=True)
    return {
        "tenant_id": tenant_id,
        "ids": ids,
        "zone": rng.choice(np.array(names, dtype=object), size=n, p=np.array(weights) / sum(weights)),
        "has_email": rng.random(n) < 0.90,
        "has_phone": rng.random(n) < 0.60,
        "silent_h": rng.uniform(24, 240, n),
    }


def _ts(hours_ago: np.ndarray) -> pa.Array:
    anchor_us = int(ANCHOR.timestamp() * 1_000_000)
    return pa.array(anchor_us - (hours_ago * US_PER_HOUR).astype(np.int64), pa.timestamp("us", tz="UTC"))


def _emails(world: dict[str, Any]) -> pa.Array:
    text_ids = pa.array(world["ids"]).cast(pa.string())
    return pc.binary_join_element_wise("lead", text_ids, f"@bench{world['tenant_id']}.example", "")


def _phones(world: dict[str, Any]) -> pa.Array:
    return pc.binary_join_element_wise("+1555", pa.array(world["ids"] % 10_000_000 + 10_000_000).cast(pa.string()), "")


def _leads_table(rng: np.random.Generator, world: dict[str, Any]) -> pa.Table:
    ids, n = world["ids"], len(world["ids"])
    none = pa.scalar(None, pa.string())
    tags = [["vip"] if r < 0.1 else ["webinar", "trial"] if r < 0.3 else [] for r in rng.random(n)]
    unreachable = rng.random(n) < 0.01
    return pa.table(
        {
            "id": ids,
            "tenant_id": np.full(n, world["tenant_id"]),
            "external_id": pa.array(ids).cast(pa.string()),
            "first_name": pa.array(["Lead"] * n),
            "email": pc.if_else(pa.array(world["has_email"]), _emails(world), none),
            "phone": pc.if_else(pa.array(world["has_phone"]), _phones(world), none),
            "timezone": pa.array(world["zone"].tolist(), pa.string()),
            "source": rng.choice(np.array(SOURCES, dtype=object), n).tolist(),
            "stage": rng.choice(np.array(STAGES, dtype=object), n).tolist(),
            "deal_value": np.round(rng.lognormal(7.5, 1.2, n), 2),
            "intent_score": rng.integers(0, 101, n),
            "last_activity_at": _ts(world["silent_h"]),
            "recovery_state": pa.array(["silent"] * n),
            "tags": pa.array(["{" + ",".join(t) + "}" for t in tags]),
            "consent_email": rng.random(n) < 0.95,
            "consent_sms": rng.random(n) < 0.70,
            "phone_unreachable": pc.if_else(pa.array(unreachable), pa.scalar("carrier: unknown number"), none),
        }
    )


def _suppressions_table(rng: np.random.Generator, world: dict[str, Any]) -> pa.Table:
    ids, n = world["ids"], len(world["ids"])
    emails = ids[world["has_email"] & (rng.random(n) < 0.02)]
    phones = ids[world["has_phone"] & (rng.random(n) < 0.01)]
    addresses = [f"lead{i}@bench{world['tenant_id']}.example" for i in emails]
    addresses += [f"+1555{i % 10_000_000 + 10_000_000}" for i in phones]
    count = len(addresses)
    return pa.table(
        {
            "tenant_id": np.full(count, world["tenant_id"]),
            "channel": pa.array(["email"] * len(emails) + ["sms"] * len(phones)),
            "address": pa.array(addresses),
            "reason": pa.array(["unsubscribe"] * count),
        }
    )


def _enrollments_table(rng: np.random.Generator, world: dict[str, Any], campaigns: Campaigns) -> pa.Table:
    """Earlier, completed episodes of the recovery campaign, and the nurture enrollments that keep leads busy."""
    ids, n = world["ids"], len(world["ids"])
    draw = rng.random(n)
    prior = ids[draw < PRIOR_EPISODE_SHARE]
    busy = ids[draw > 1 - BUSY_SHARE]
    p, b = len(prior), len(busy)
    finished = ANCHOR.replace(month=10)
    return pa.table(
        {
            "id": np.concatenate([prior, busy]) + BUSY_ID_OFFSET,
            "tenant_id": np.full(p + b, world["tenant_id"]),
            "campaign_id": np.concatenate([np.full(p, campaigns.recovery), np.full(b, campaigns.nurture)]),
            "lead_id": np.concatenate([prior, busy]),
            "current_node": pa.array(["done"] * p + ["step-1"] * b),
            "rung": np.concatenate([np.full(p, 3), np.zeros(b, dtype=np.int64)]),
            "episode": np.ones(p + b, dtype=np.int64),
            "status": pa.array(["completed"] * p + ["active"] * b),
            "enrolled_at": pa.array([finished] * (p + b), pa.timestamp("us", tz="UTC")),
            "completed_at": pa.array([finished] * p + [None] * b, pa.timestamp("us", tz="UTC")),
        }
    )
