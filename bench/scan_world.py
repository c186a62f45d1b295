"""The data of `python -m bench.scan`: tenants in steady state with a backlog, loaded with COPY.

Every tenant's leads are spread over 90 days of silence. Most of the silent ones are in an
episode of the recovery plan already or finished one (`silence_level` at the rung their silence
reached, with the enrollment, the done sends and the contact times that left behind); a
`due_share` of them crossed the ladder's first threshold since the last scan and wait to start
an episode (`silence_level` 0, the scan's backlog), a third of those after an earlier episode
that ended. Some are closed, suppressed, unconsented, in a nurture sequence or contacted by a
rep a few hours ago. The tenants have the default rules (ladder 24/48/72 h, cool-down 24 h,
holdout 10 %, cap 500 per run) and their recovery campaign runs the ladder's default plan.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from app.domain.holdout import is_control
from app.domain.plan import default_recovery_plan_json
from bench.scratch import copy_table

ANCHOR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LADDER = (24, 48, 72)
HOLDOUT = 10
US_PER_HOUR = 3_600_000_000
NURTURE_ID_OFFSET = 1 << 40  # enrollment ids of the nurture sequence, clear of the lead ids


def vacuum(engine: sa.Engine) -> None:
    """Clear what a rolled-back run left behind, so every run starts from the same state."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM leads, enrollments, scheduled_actions, campaign_transitions"))


# --- the data: tenants in steady state with a backlog, loaded with COPY --------------------------


def seed(engine: sa.Engine, *, tenants: int, leads: int, due_share: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with engine.begin() as conn:
        for index in range(tenants):
            tenant_id, recovery_id, nurture_id = _tenant_rows(conn, index)
            world = _lead_world(rng, tenant_id, index * leads, leads, due_share)
            copy_table(conn, "leads", _leads_table(world))
            copy_table(conn, "enrollments", _enrollments_table(rng, world, recovery_id, nurture_id))
            copy_table(conn, "scheduled_actions", _actions_table(world, recovery_id))
            copy_table(conn, "suppressions", _suppressions_table(rng, world))
        for table in ("leads", "enrollments"):
            conn.execute(
                sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
    vacuum(engine)


def _tenant_rows(conn: sa.Connection, index: int) -> tuple[int, int, int]:
    tenant_id = conn.execute(
        sa.text("INSERT INTO tenants (slug, name) VALUES (:slug, :name) RETURNING id"),
        {"slug": f"bench-{index + 1:02d}", "name": f"Bench {index + 1}"},
    ).scalar_one()
    campaign = sa.text(
        "INSERT INTO campaigns (tenant_id, name, kind, status, plan, created_at) "
        "VALUES (:t, :name, :kind, 'running', CAST(:plan AS jsonb), :at) RETURNING id"
    )
    plan = json.dumps(default_recovery_plan_json(LADDER))
    recovery = conn.execute(
        campaign, {"t": tenant_id, "name": "Win back", "kind": "recovery", "plan": plan, "at": ANCHOR}
    )
    nurture = conn.execute(
        campaign, {"t": tenant_id, "name": "Nurture", "kind": "sequence", "plan": "{}", "at": ANCHOR}
    )
    return int(tenant_id), int(recovery.scalar_one()), int(nurture.scalar_one())


def _lead_world(rng: np.random.Generator, tenant_id: int, offset: int, n: int, due_share: float) -> dict[str, Any]:
    """Who each lead is and where it stands on the ladder, as whole columns."""
    ids = np.arange(offset + 1, offset + n + 1, dtype=np.int64)
    band = rng.choice(4, size=n, p=[0.12, 0.10, 0.08, 0.70])
    lows, highs = np.array([0, 24, 48, 72]), np.array([24, 48, 72, 90 * 24])
    silent_h = rng.uniform(lows[band], highs[band])
    reached = sum((silent_h >= h).astype(np.int64) for h in LADDER)
    due = (reached > 0) & (rng.random(n) < due_share)
    level = np.where(due, 0, reached)
    control = np.array([is_control(tenant_id, int(i), HOLDOUT) for i in ids])
    closed = rng.random(n) < 0.05
    state = np.where(level == 0, "active", np.where(control, "control", "in_recovery"))
    state = np.where(closed, rng.choice(["replied", "recovered", "lost"], size=n), state)
    return {
        "tenant_id": tenant_id,
        "ids": ids,
        "silent_h": silent_h,
        "level": level,
        "due": due,
        "earlier_episode": due & (rng.random(n) < 1 / 3),
        "control": control,
        "state": state,
        "has_email": rng.random(n) < 0.97,
        "has_phone": rng.random(n) < 0.6,
        "rep_touch_h": np.where(rng.random(n) < 0.02, rng.uniform(1, 12, n), np.nan),
    }


def _rung_age_h(world: dict[str, Any], rung: np.ndarray) -> np.ndarray:
    """Hours since the lead crossed `rung` (when its send went out)."""
    thresholds = np.array((0, *LADDER), dtype=float)
    return np.asarray(world["silent_h"] - thresholds[rung])


def _ts(hours_ago: np.ndarray) -> pa.Array:
    anchor_us = int(ANCHOR.timestamp() * 1_000_000)
    values = anchor_us - np.nan_to_num(hours_ago * US_PER_HOUR).astype(np.int64)
    return pa.array(values, pa.timestamp("us", tz="UTC"), mask=np.isnan(hours_ago))


def _leads_table(world: dict[str, Any]) -> pa.Table:
    ids, n = world["ids"], len(world["ids"])
    rng = np.random.default_rng(int(world["tenant_id"]))
    contacted_h = np.where((world["level"] > 0) & ~world["control"], _rung_age_h(world, world["level"]), np.nan)
    contacted_h = np.fmin(contacted_h, world["rep_touch_h"])
    text_ids = pa.array(ids).cast(pa.string())
    email = pa.compute.binary_join_element_wise("lead", text_ids, f"@bench{world['tenant_id']}.example", "")
    phone = pa.compute.binary_join_element_wise("+1555", pa.array(ids % 10_000_000 + 10_000_000).cast(pa.string()), "")
    return pa.table(
        {
            "id": ids,
            "tenant_id": np.full(n, world["tenant_id"]),
            "external_id": text_ids,
            "first_name": pa.array(["Lead"] * n),
            "email": pa.compute.if_else(pa.array(world["has_email"]), email, pa.scalar(None, pa.string())),
            "phone": pa.compute.if_else(pa.array(world["has_phone"]), phone, pa.scalar(None, pa.string())),
            "deal_value": np.round(rng.lognormal(7.5, 1.2, n), 2),
            "intent_score": rng.integers(0, 101, n),
            "last_activity_at": _ts(world["silent_h"]),
            "last_contacted_at": _ts(contacted_h),
            "silence_level": world["level"],
            "recovery_state": world["state"],
            "consent_email": rng.random(n) < 0.95,
            "consent_sms": rng.random(n) < 0.4,
        }
    )


def _enrollments_table(rng: np.random.Generator, world: dict[str, Any], recovery_id: int, nurture_id: int) -> pa.Table:
    """The recovery enrollment of each lead in or past an episode (its id is the lead's), the ended episode of some
    of the backlog, and a nurture sequence for a few."""
    climbed = (world["level"] > 0) | world["earlier_episode"]
    ids, level, control = world["ids"][climbed], world["level"][climbed], world["control"][climbed]
    level = np.where(level > 0, level, len(LADDER))
    fresh = (_rung_age_h(world, world["level"])[climbed] < 24) & ~world["due"][climbed]
    status = np.where(control, "control", np.where(fresh, "active", "completed"))
    nurtured = world["ids"][rng.random(len(world["ids"])) < 0.03]
    lead_ids = np.concatenate([ids, nurtured])
    n, m = len(ids), len(nurtured)
    return pa.table(
        {
            "id": np.concatenate([ids, nurtured + NURTURE_ID_OFFSET]),
            "tenant_id": np.full(n + m, world["tenant_id"]),
            "campaign_id": np.concatenate([np.full(n, recovery_id), np.full(m, nurture_id)]),
            "lead_id": lead_ids,
            "current_node": pa.array([f"rung-{r}" for r in level] + ["step-1"] * m),
            "rung": np.concatenate([level, np.zeros(m, dtype=np.int64)]),
            "is_control": np.concatenate([control, np.zeros(m, dtype=bool)]),
            "status": pa.array([*status, *["active"] * m]),
        }
    )


def _actions_table(world: dict[str, Any], recovery_id: int) -> pa.Table:
    """The done sends of every rung a treated lead already had (the scan's guard probes these keys)."""
    treated = (world["level"] > 0) & ~world["control"]
    ids, level = world["ids"][treated], world["level"][treated]
    lead_ids = np.repeat(ids, level)
    rungs = np.concatenate([np.arange(1, k + 1) for k in level]) if len(level) else np.array([], dtype=np.int64)
    silent = np.repeat(world["silent_h"][treated], level)
    age_h = silent - np.array((0, *LADDER), dtype=float)[rungs]
    node = pa.compute.binary_join_element_wise("rung-", pa.array(rungs).cast(pa.string()), "")
    prefix = f"{world['tenant_id']}:{recovery_id}:"
    key = pa.compute.binary_join_element_wise(prefix, pa.array(lead_ids).cast(pa.string()), ":e1:", node, ":send", "")
    n = len(lead_ids)
    return pa.table(
        {
            "tenant_id": np.full(n, world["tenant_id"]),
            "enrollment_id": lead_ids,
            "lead_id": lead_ids,
            "kind": pa.array(["send"] * n),
            "node": node,
            "due_at": _ts(age_h),
            "status": pa.array(["done"] * n),
            "dedupe_key": key,
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
