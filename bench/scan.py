"""`python -m bench.scan`: the set-based silence scan against the obvious per-lead loop.

Target (DESIGN.md §8): with 10 tenants × 100,000 leads, a tenant's scan takes under a second
and is at least 20× faster than a per-lead loop: select the candidates, then per lead check
suppression, enrollment and the rung's send, and write the enrollment, the send, the lead and
the audit row. Two such loops are measured, because the answer depends on which one you mean:
- `per_lead_loop_orm` (the `ratio`): the loop as it is usually written with this codebase's
  SQLAlchemy models: lead objects in, a query per check, a flush per lead;
- `per_lead_loop_queries` (`ratio_vs_query_loop`): the same steps hand-written as one small
  SQL statement each (eight round trips per enrolled lead, prepared by psycopg after five
  uses), the leanest a loop gets; here both sides pay the same per-row write cost (four
  tables, their indexes and foreign keys), so the gap is round trips only.

The data is a scratch database on the configured PostgreSQL (dropped afterwards), loaded
with COPY: every tenant a system in steady state with a backlog, as after a few hours with
no scan. Leads are spread over 90 days of silence; most already sit at the rung their
silence reached (with the enrollments, done sends and contact times that left behind); a
`--due-share` of the silent ones crossed their next rung since; some are closed, suppressed,
unconsented, in a nurture sequence or contacted by a rep a few hours ago. The tenants have the
default rules (ladder 24/48/72 h, cool-down 24 h, holdout 10 %, cap 500 per run).

First each tenant is scanned once, cold (`seconds_per_tenant_cold_*`, the < 1 s target). Then
every approach runs once on the same tenant and all must enroll exactly the same leads at
the same rungs in the same groups. Then each repetition runs every approach on a different
tenant of the same data, each inside a transaction that is rolled back (then vacuumed) so
every run starts from the same state, warm, in a rotating order; the medians give the ratios.
Results go to bench/results/scan.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app import runtime
from app.domain.holdout import is_control
from app.services import scan
from app.settings import load_settings
from bench.scratch import scratch_database
from db.engine import make_engine
from db.models import CampaignTransition, Enrollment, Lead, ScheduledAction, Suppression, Tenant

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "scan.json"
TARGET_SECONDS = 1.0
TARGET_RATIO = 20.0
ANCHOR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LADDER = (24, 48, 72)
HOLDOUT = 10
US_PER_HOUR = 3_600_000_000
NURTURE_ID_OFFSET = 1 << 40  # enrollment ids of the nurture sequence, clear of the lead ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scan", description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--leads", type=int, default=100_000, help="leads per tenant")
    parser.add_argument("--due-share", type=float, default=0.05, help="share of silent leads due for their next rung")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    urls = runtime.resolve_urls(load_settings())
    load_before = os.getloadavg()[0]
    try:
        with scratch_database(urls.database_url, "scan") as url:
            result = run(url, args)
    finally:
        urls.stop_embedded()
    # The machine is shared: its load says how much the absolute numbers are worth.
    result["load_average_1m"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["met"] else 1


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    engine = make_engine(url, pool_size=1)  # one warm connection for all, so none pays a backend start
    try:
        started = time.perf_counter()
        seed(engine, tenants=args.tenants, leads=args.leads, due_share=args.due_share, seed=args.seed)
        seed_s = time.perf_counter() - started
        cold = {tid: timed_in_rollback(engine, set_based, tid)[0] for tid in range(1, args.tenants + 1)}
        vacuum(engine)
        same = check_same_enrollments(engine, tenant_id=1)
        runs = repeated(engine, args.repeats, args.tenants)
    finally:
        engine.dispose()
    return report(args, seed_s, same, cold, runs)


def report(
    args: argparse.Namespace, seed_s: float, same: dict[str, Any], cold: dict[int, float], runs: dict[str, Runs]
) -> dict[str, Any]:
    median = {name: statistics.median(seconds for seconds, _ in found) for name, found in runs.items()}
    ratio = median["per_lead_loop_orm"] / median["set_based"]
    ratio_queries = median["per_lead_loop_queries"] / median["set_based"]
    worst = max(cold.values())
    fast = worst < TARGET_SECONDS and bool(same["same"])
    return {
        "leads": args.tenants * args.leads,
        "tenants": args.tenants,
        "leads_per_tenant": args.leads,
        "due_share": args.due_share,
        "eligible": same["eligible"],
        "enrolled_per_scan": same["enrolled"] + same["control"],
        "scan_cap": same["cap"],
        "seconds_per_tenant": round(median["set_based"], 4),
        "seconds_per_tenant_cold_each": {str(tid): round(seconds, 4) for tid, seconds in cold.items()},
        "seconds_per_tenant_cold_worst": round(worst, 4),
        "per_lead_loop_seconds": round(median["per_lead_loop_orm"], 4),
        "per_lead_query_loop_seconds": round(median["per_lead_loop_queries"], 4),
        "ratio": round(ratio, 1),
        "ratio_vs_query_loop": round(ratio_queries, 1),
        "runs": {name: [round(seconds, 4) for seconds, _ in found] for name, found in runs.items()},
        "query_loop_statements": [counts["statements"] for _, counts in runs["per_lead_loop_queries"]],
        "same_enrollments_in_every_approach": same["same"],
        "seed_seconds": round(seed_s, 1),
        "targets": {"seconds_per_tenant": TARGET_SECONDS, "ratio": TARGET_RATIO},
        "met": fast and ratio >= TARGET_RATIO,
        "met_vs_query_loop": fast and ratio_queries >= TARGET_RATIO,
    }


# --- a scratch database -------------------------------------------------------------------------


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
            _copy(conn, "leads", _leads_table(world))
            _copy(conn, "enrollments", _enrollments_table(rng, world, recovery_id, nurture_id))
            _copy(conn, "scheduled_actions", _actions_table(world, recovery_id))
            _copy(conn, "suppressions", _suppressions_table(rng, world))
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
        "INSERT INTO campaigns (tenant_id, name, kind, status, created_at) "
        "VALUES (:t, :name, :kind, 'running', :at) RETURNING id"
    )
    recovery = conn.execute(campaign, {"t": tenant_id, "name": "Win back", "kind": "recovery", "at": ANCHOR})
    nurture = conn.execute(campaign, {"t": tenant_id, "name": "Nurture", "kind": "sequence", "at": ANCHOR})
    return int(tenant_id), int(recovery.scalar_one()), int(nurture.scalar_one())


def _lead_world(rng: np.random.Generator, tenant_id: int, offset: int, n: int, due_share: float) -> dict[str, Any]:
    """Who each lead is and where it stands on the ladder, as whole columns."""
    ids = np.arange(offset + 1, offset + n + 1, dtype=np.int64)
    band = rng.choice(4, size=n, p=[0.12, 0.10, 0.08, 0.70])
    lows, highs = np.array([0, 24, 48, 72]), np.array([24, 48, 72, 90 * 24])
    silent_h = rng.uniform(lows[band], highs[band])
    reached = sum((silent_h >= h).astype(np.int64) for h in LADDER)
    due = (reached > 0) & (rng.random(n) < due_share)
    level = reached - due
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
    """The recovery enrollment each climbed lead has (its id is the lead's), and a nurture sequence for a few."""
    climbed = world["level"] > 0
    ids, level, control = world["ids"][climbed], world["level"][climbed], world["control"][climbed]
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
    key = pa.compute.binary_join_element_wise(prefix, pa.array(lead_ids).cast(pa.string()), ":", node, ":send", "")
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


def _copy(conn: sa.Connection, table: str, data: pa.Table) -> None:
    buffer = io.BytesIO()
    pacsv.write_csv(data, buffer, pacsv.WriteOptions(include_header=False))
    columns = ", ".join(data.column_names)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())


# --- the two approaches -------------------------------------------------------------------------


Approach = Callable[[Session, int], dict[str, int]]


def set_based(session: Session, tenant_id: int) -> dict[str, int]:
    """The service's own scan (app/services/scan.py), inside the caller's transaction."""
    return scan.run_scan(session, tenant_id=tenant_id, now=ANCHOR).counts()


_OPEN = scan.OPEN_STATES_SQL

LOOP_CANDIDATES = sa.text(
    f"""
    SELECT l.id, l.silence_level + 1 AS rung, l.email, l.phone, l.consent_email, l.consent_sms
    FROM leads AS l JOIN tenants AS t ON t.id = l.tenant_id
    WHERE l.tenant_id = :tenant_id AND l.recovery_state IN {_OPEN}
      AND l.silence_level < cardinality(t.silence_ladder_hours)
      AND l.last_activity_at <= :now - make_interval(hours => t.silence_ladder_hours[l.silence_level + 1])
      AND (l.last_contacted_at IS NULL OR l.last_contacted_at <= :now - make_interval(hours => t.cooldown_hours))
    ORDER BY l.intent_score * l.deal_value DESC, l.last_activity_at, l.id
    """
)
LOOP_TENANT = sa.text("SELECT holdout_percent, scan_cap FROM tenants WHERE id = :tenant_id")
LOOP_SUPPRESSED = sa.text(
    "SELECT 1 FROM suppressions "
    "WHERE tenant_id = :tenant_id AND channel = :channel AND address IN (:address, lower(:address))"
)
LOOP_BUSY = sa.text("SELECT 1 FROM enrollments WHERE lead_id = :lead_id AND status IN ('active', 'waiting') LIMIT 1")
LOOP_SENT = sa.text("SELECT 1 FROM scheduled_actions WHERE dedupe_key = :key")
LOOP_PREVIOUS = sa.text("SELECT current_node FROM enrollments WHERE campaign_id = :campaign_id AND lead_id = :lead_id")
LOOP_ENROLL = sa.text(
    """
    INSERT INTO enrollments AS e (tenant_id, campaign_id, lead_id, current_node, rung, is_control, status,
                                  next_action_at, enrolled_at)
    VALUES (:tenant_id, :campaign_id, :lead_id, :node, :rung, :control, :status, :next_at, :now)
    ON CONFLICT (campaign_id, lead_id) DO UPDATE
    SET current_node = excluded.current_node, rung = excluded.rung, is_control = excluded.is_control,
        status = excluded.status, next_action_at = excluded.next_action_at, enrolled_at = excluded.enrolled_at,
        completed_at = NULL, updated_at = now()
    WHERE e.status NOT IN ('active', 'waiting')
    RETURNING e.id
    """
)
LOOP_ACTION = sa.text(
    """
    INSERT INTO scheduled_actions (tenant_id, enrollment_id, lead_id, kind, node, due_at, dedupe_key, payload)
    VALUES (:tenant_id, :enrollment_id, :lead_id, 'send', :node, :now, :key, CAST(:payload AS jsonb))
    ON CONFLICT (dedupe_key) DO NOTHING
    """
)
LOOP_CLIMB = sa.text(
    "UPDATE leads SET silence_level = :rung, recovery_state = :state, updated_at = now() WHERE id = :lead_id"
)
LOOP_AUDIT = sa.text(
    """
    INSERT INTO campaign_transitions (tenant_id, enrollment_id, from_node, to_node, event, reason, at)
    VALUES (:tenant_id, :enrollment_id, :from_node, :node, :event, 'silence scan', :now)
    """
)


class Counted:
    """A session wrapper that counts the statements the loop sends."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.statements = 0

    def run(self, statement: sa.TextClause, params: dict[str, Any]) -> sa.Result[Any]:
        self.statements += 1
        return self.session.execute(statement, params)


def per_lead_loop(session: Session, tenant_id: int) -> dict[str, int]:
    """The obvious way: select the candidates, then one statement per check and per write, per lead."""
    db = Counted(session)
    campaign_id = scan.ensure_recovery_campaign(session, tenant_id)
    rules = db.run(LOOP_TENANT, {"tenant_id": tenant_id}).one()
    holdout, cap = rules.holdout_percent, rules.scan_cap
    base = {"tenant_id": tenant_id, "campaign_id": campaign_id, "now": ANCHOR}
    counts = {"enrolled": 0, "control": 0}
    for lead in db.run(LOOP_CANDIDATES, base).all():
        if counts["enrolled"] + counts["control"] >= cap:
            break
        control = is_control(tenant_id, lead.id, holdout)
        if _loop_can_enroll(db, base, lead, control):
            _loop_enroll(db, base, lead, control)
            counts["control" if control else "enrolled"] += 1
    return {**counts, "statements": db.statements + 1}


def _loop_can_enroll(db: Counted, base: dict[str, Any], lead: Any, control: bool) -> bool:
    if not (_loop_reachable(db, base, lead, "email") or _loop_reachable(db, base, lead, "sms")):
        return False
    if db.run(LOOP_BUSY, {"lead_id": lead.id}).first():
        return False
    key = f"{base['tenant_id']}:{base['campaign_id']}:{lead.id}:rung-{lead.rung}:send"
    return control or not db.run(LOOP_SENT, {"key": key}).first()


def _loop_reachable(db: Counted, base: dict[str, Any], lead: Any, channel: str) -> bool:
    address, consent = (lead.email, lead.consent_email) if channel == "email" else (lead.phone, lead.consent_sms)
    if not address or not consent:
        return False
    params = {"tenant_id": base["tenant_id"], "channel": channel, "address": address}
    return not db.run(LOOP_SUPPRESSED, params).first()


def _loop_enroll(db: Counted, base: dict[str, Any], lead: Any, control: bool) -> None:
    node = f"rung-{lead.rung}"
    previous = db.run(LOOP_PREVIOUS, {**base, "lead_id": lead.id}).scalar_one_or_none()
    status, next_at = ("control", None) if control else ("active", ANCHOR)
    params = {**base, "lead_id": lead.id, "node": node, "rung": lead.rung, "control": control}
    enrollment_id = db.run(LOOP_ENROLL, {**params, "status": status, "next_at": next_at}).scalar_one()
    if not control:
        key = f"{base['tenant_id']}:{base['campaign_id']}:{lead.id}:{node}:send"
        payload = json.dumps({"rung": lead.rung, "source": "silence scan"})
        db.run(LOOP_ACTION, {**params, "enrollment_id": enrollment_id, "key": key, "payload": payload})
    state = "control" if control else "in_recovery"
    db.run(LOOP_CLIMB, {"lead_id": lead.id, "rung": lead.rung, "state": state})
    event = "held_out" if control else "enrolled"
    db.run(LOOP_AUDIT, {**params, "enrollment_id": enrollment_id, "from_node": previous, "event": event})


def per_lead_orm_loop(session: Session, tenant_id: int) -> dict[str, int]:
    """The same loop as an ORM user writes it: lead objects in, a query per check, a flush per lead."""
    tenant = session.get_one(Tenant, tenant_id)
    campaign_id = scan.ensure_recovery_campaign(session, tenant_id)
    hours = tenant.silence_ladder_hours
    candidates = (
        select(Lead)
        .where(
            Lead.tenant_id == tenant_id,
            Lead.recovery_state.in_(scan.OPEN_STATES),
            Lead.silence_level < len(hours),
            Lead.last_activity_at <= ANCHOR - timedelta(hours=hours[0]),
        )
        .order_by((Lead.intent_score * Lead.deal_value).desc(), Lead.last_activity_at, Lead.id)
    )
    counts = {"enrolled": 0, "control": 0}
    for lead in session.scalars(candidates):
        if counts["enrolled"] + counts["control"] >= tenant.scan_cap:
            break
        control = is_control(tenant_id, lead.id, tenant.holdout_percent)
        if _orm_due(tenant, lead) and _orm_can_enroll(session, campaign_id, lead, control):
            _orm_enroll(session, campaign_id, lead, control)
            counts["control" if control else "enrolled"] += 1
    session.flush()
    return counts


def _orm_due(tenant: Tenant, lead: Lead) -> bool:
    threshold = ANCHOR - timedelta(hours=tenant.silence_ladder_hours[lead.silence_level])
    rested = lead.last_contacted_at is None or lead.last_contacted_at <= ANCHOR - timedelta(hours=tenant.cooldown_hours)
    return lead.last_activity_at <= threshold and rested


def _orm_can_enroll(session: Session, campaign_id: int, lead: Lead, control: bool) -> bool:
    def suppressed(channel: str, address: str) -> bool:
        where = (Suppression.tenant_id == lead.tenant_id, Suppression.channel == channel)
        return bool(session.scalar(select(exists().where(*where, Suppression.address.in_([address, address.lower()])))))

    email_ok = bool(lead.email) and lead.consent_email and not suppressed("email", lead.email or "")
    if not email_ok and not (bool(lead.phone) and lead.consent_sms and not suppressed("sms", lead.phone or "")):
        return False
    busy = exists().where(Enrollment.lead_id == lead.id, Enrollment.status.in_(("active", "waiting")))
    if session.scalar(select(busy)):
        return False
    key = f"{lead.tenant_id}:{campaign_id}:{lead.id}:rung-{lead.silence_level + 1}:send"
    return control or not session.scalar(select(exists().where(ScheduledAction.dedupe_key == key)))


def _orm_enroll(session: Session, campaign_id: int, lead: Lead, control: bool) -> None:
    rung, node = lead.silence_level + 1, f"rung-{lead.silence_level + 1}"
    found = select(Enrollment).where(Enrollment.campaign_id == campaign_id, Enrollment.lead_id == lead.id)
    enrollment = session.scalar(found) or Enrollment(tenant_id=lead.tenant_id, campaign_id=campaign_id, lead_id=lead.id)
    previous = enrollment.current_node
    enrollment.current_node, enrollment.rung, enrollment.is_control = node, rung, control
    enrollment.status, enrollment.next_action_at = ("control", None) if control else ("active", ANCHOR)
    enrollment.enrolled_at, enrollment.completed_at = ANCHOR, None
    session.add(enrollment)
    session.flush()
    if not control:
        key = f"{lead.tenant_id}:{campaign_id}:{lead.id}:{node}:send"
        payload = {"rung": rung, "source": "silence scan"}
        session.add(
            ScheduledAction(
                tenant_id=lead.tenant_id,
                enrollment_id=enrollment.id,
                lead_id=lead.id,
                kind="send",
                node=node,
                due_at=ANCHOR,
                dedupe_key=key,
                payload=payload,
            )
        )
    lead.silence_level, lead.recovery_state = rung, "control" if control else "in_recovery"
    event = "held_out" if control else "enrolled"
    session.add(
        CampaignTransition(
            tenant_id=lead.tenant_id,
            enrollment_id=enrollment.id,
            from_node=previous,
            to_node=node,
            event=event,
            reason="silence scan",
            at=ANCHOR,
        )
    )


# --- measuring ----------------------------------------------------------------------------------

Runs = list[tuple[float, dict[str, int]]]

APPROACHES: dict[str, Approach] = {
    "set_based": set_based,
    "per_lead_loop_orm": per_lead_orm_loop,
    "per_lead_loop_queries": per_lead_loop,
}

_ENROLLED_NOW = sa.text(
    "SELECT lead_id, rung, is_control FROM enrollments WHERE tenant_id = :tenant_id AND enrolled_at = :now"
)


def timed_in_rollback(
    engine: sa.Engine, approach: Approach, tenant_id: int, *, capture: bool = False
) -> tuple[float, dict[str, int], set[tuple[int, int, bool]]]:
    """Run one approach on one tenant inside a transaction, time it, and roll it back."""
    with Session(engine) as session:
        session.begin()
        started = time.perf_counter()
        counts = approach(session, tenant_id)
        seconds = time.perf_counter() - started
        enrolled: set[tuple[int, int, bool]] = set()
        if capture:
            found = session.execute(_ENROLLED_NOW, {"tenant_id": tenant_id, "now": ANCHOR})
            enrolled = {(row.lead_id, row.rung, row.is_control) for row in found}
        session.rollback()
    return seconds, counts, enrolled


def check_same_enrollments(engine: sa.Engine, *, tenant_id: int) -> dict[str, Any]:
    """Every approach, on the same tenant, must enroll the same leads at the same rungs and groups."""
    outcomes = {
        name: timed_in_rollback(engine, approach, tenant_id, capture=True) for name, approach in APPROACHES.items()
    }
    with engine.connect() as conn:
        cap = conn.execute(sa.text("SELECT scan_cap FROM tenants WHERE id = :t"), {"t": tenant_id}).scalar_one()
    vacuum(engine)
    sets = [enrolled for _, _, enrolled in outcomes.values()]
    return {**outcomes["set_based"][1], "cap": cap, "same": all(e == sets[0] for e in sets) and bool(sets[0])}


def repeated(engine: sa.Engine, repeats: int, tenants: int) -> dict[str, Runs]:
    """Median material: each repetition scans one tenant with each approach (different tenants, same
    data shape), in a rotating order.

    Each timed run follows an untimed one of the same approach on the same tenant, so all are
    measured with that tenant's pages in the buffer cache (the data set is several times
    PostgreSQL's default shared_buffers); the first, cold touch of each tenant is what
    `seconds_per_tenant_cold_each` reports.
    """
    runs: dict[str, Runs] = {name: [] for name in APPROACHES}
    names = list(APPROACHES)
    for index in range(repeats):
        for k in range(len(names)):
            name = names[(index + k) % len(names)]
            tenant_id = 1 + (len(names) * index + k) % tenants
            timed_in_rollback(engine, APPROACHES[name], tenant_id)
            vacuum(engine)
            seconds, counts, _ = timed_in_rollback(engine, APPROACHES[name], tenant_id)
            runs[name].append((seconds, counts))
            vacuum(engine)
    return runs


if __name__ == "__main__":
    raise SystemExit(main())
