"""Deterministic, realistic demo data for the whole schema, loaded with COPY.

`seed_demo` gives the same names, addresses, timestamps and outcomes for the same (tenants,
leads, seed, anchor). Ids continue the database's own sequences, and the control group is
chosen from them by the product's md5 holdout bucket (so a lead's group never flips when
the live scanner climbs it later); on a fresh database, or one whose demo was replaced
(which restarts the sequences), the ids and so every row are the same too. Everything is
relative to `anchor`: 90 days of the engine's history before it, with a realistic share of
leads silent at each rung of the ladder right now, so the demo's agents find work the moment
they start; the CRM is older (leads from 150 days back, some of which bought on their own
before the first campaign), so the ROI page's naive before/after has a "before".

Why it looks the way it does:
- the recovery loop is *played*, rung by rung over whole columns (`db/demo/journey.py`),
  rather than each table being drawn independently, so the tables agree with each other and
  with the scanner's and writer's contracts; `metrics_daily` is then computed by SQL from
  the raw rows;
- columns are generated with numpy and Arrow, never a Python loop per row, and encoder
  threads turn tables into binary COPY data while PostgreSQL ingests earlier chunks;
- a small seed is one transaction with every constraint checked row by row. A large one
  (bulk mode, db/demo/integrity.py) loads on two connections so that two PostgreSQL
  backends work at once, rebuilds secondary indexes after the load and proves foreign keys
  set-based; the lead lane (tenants, leads, enrollments and whichever history tables it
  takes) commits first and the recovery lane (the outbox and everything the rollup reads)
  second, each only after proving its own rows, and a failure after the first commit
  deletes the seeded tenants again. One backend alone measured ~70 s for a million leads
  with their history (with CSV); two lanes and binary COPY bring it to ~40-50 s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, Engine, Index, delete, func, select, text
from sqlalchemy.engine import RootTransaction

from . import rollups
from .demo import activities, integrity, journey, leads, load, messages, small, tables, vocab, world
from .demo.columns import LocalClock
from .models import Base, Tenant

Progress = Callable[[str, int, int], None]

# Foreign-key order, for the one-transaction load where every key is checked as it arrives.
LOAD_ORDER = (
    "leads",
    "ai_generations",
    "enrollments",
    "outbound_messages",
    "scheduled_actions",
    "message_events",
    "inbound_messages",
    "suppressions",
    "conversions",
    "campaign_transitions",
    "activities",
)
# The two lanes of bulk mode. Keys are proven after the load, so any table may go to either
# lane, except that a lane loads the tables whose id ranges it reserved, and the recovery lane
# loads everything the rollup reads; the floating tables go to whichever lane is free first,
# which keeps the lanes level however busy the machine is.
LEAD_LANE = ("leads", "enrollments")
RECOVERY_LANE = (
    "ai_generations",
    "outbound_messages",
    "message_events",
    "inbound_messages",
    "suppressions",
    "conversions",
)
FLOATING = ("activities", "campaign_transitions", "scheduled_actions")  # largest first
BULK_FROM_LEADS = 100_000
"""From this size on the seed runs in bulk mode (see the module docstring)."""

demo_slugs = world.demo_slugs


def seed_demo(
    engine: Engine,
    *,
    tenants: int,
    leads: int,
    seed: int,
    anchor: datetime,
    progress: Progress | None = None,
    password_hash: str | None = None,
    bulk: bool | None = None,
    agents: Sequence[str] = (),
) -> dict[str, int]:
    """Create `tenants` demo tenants sharing `leads` leads, with their history; rows per table.

    Raises ValueError when a tenant with one of the demo slugs already exists (remove them
    first with `delete_tenants`). `bulk` forces or forbids bulk mode; by default it is on
    from BULK_FROM_LEADS leads. `agents` names the agents whose past runs the history shows:
    the caller's, because `db/` does not know which agents the product has; none by default.
    """
    _check_arguments(tenants, leads, anchor)
    anchor = anchor.astimezone(UTC)
    report = _serialised(progress)
    bulk = leads >= BULK_FROM_LEADS if bulk is None else bulk
    with engine.connect() as first:
        transaction = first.begin()
        try:
            prepared = _prepare(first, tenants, leads, seed, anchor, password_hash, report, agents)
            if not bulk:
                counts = _load_in_one(first, prepared, report)
                transaction.commit()
                return counts
            return _load_in_two(engine, first, transaction, prepared, report)
        finally:
            if transaction.is_active:
                transaction.rollback()


def _check_arguments(tenants: int, leads: int, anchor: datetime) -> None:
    if tenants < 1:
        raise ValueError("a demo needs at least one tenant")
    if leads < tenants:
        raise ValueError(f"{leads} leads cannot be spread over {tenants} tenants; give each at least one")
    if anchor.tzinfo is None:
        raise ValueError("the anchor must be timezone-aware (UTC), not a naive datetime")


def existing_slugs(conn: Connection, slugs: list[str]) -> list[str]:
    rows = conn.execute(select(Tenant.slug).where(Tenant.slug.in_(slugs)).order_by(Tenant.slug))
    return [row[0] for row in rows]


def delete_tenants(conn: Connection, slugs: list[str]) -> int:
    """Delete these tenants and everything they own; returns how many tenants went.

    When they are the only tenants (a demo database), every table is truncated and its
    identity restarted instead: cascading a million-lead delete row by row through foreign
    keys, several of them without an index on the referencing column, would take hours, and
    restarting the ids makes a replaced demo identical to a fresh one, ids included.
    """
    doomed = conn.execute(select(func.count()).select_from(Tenant).where(Tenant.slug.in_(slugs))).scalar_one()
    if not doomed:
        return 0
    everyone = conn.execute(select(func.count()).select_from(Tenant)).scalar_one()
    if everyone == doomed:
        names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    else:
        conn.execute(delete(Tenant).where(Tenant.slug.in_(slugs)))
    return int(doomed)


# --- generating -----------------------------------------------------------------------------


class Generated:
    """The simulated world: leads, their journeys and what the writer drafted."""

    def __init__(
        self, plans: list[world.TenantPlan], owners: list[list[int]], ids: tables.Ids, seed: int, anchor: datetime
    ) -> None:
        anchor_s = int(anchor.timestamp())
        clock = LocalClock(vocab.ZONES, anchor - timedelta(days=world.HISTORY_DAYS + 5), world.HISTORY_DAYS + 10)
        self.leads = leads.make_leads(plans, owners, seed, anchor_s)

        def buckets(rows: np.ndarray) -> np.ndarray:
            return journey.holdout_buckets(ids.tenant[self.leads.tenant[rows]], tables.lead_ids(ids, rows))

        self.journey = journey.play(self.leads, plans, clock, buckets, seed, anchor_s)
        self.drafted = messages.Drafted(self.leads, self.journey, plans, seed)
        self.ai_rows = int((self.drafted.ai_row >= 0).sum())


@dataclass
class Prepared:
    """Everything decided before the COPYs: plans, small rows, the world, the lead ids."""

    plans: list[world.TenantPlan]
    rows: small.SmallRows
    generated: Generated
    seed: int
    anchor: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ids(self) -> tables.Ids:
        return self.rows.ids

    @property
    def anchor_s(self) -> int:
        return int(self.anchor.timestamp())


def _prepare(
    conn: Connection,
    tenants: int,
    leads: int,
    seed: int,
    anchor: datetime,
    password_hash: str | None,
    report: Progress,
    agents: Sequence[str],
) -> Prepared:
    plans = world.plan_tenants(tenants, leads, seed, anchor)
    taken = existing_slugs(conn, [p.slug for p in plans])
    if taken:
        raise ValueError(f"demo tenants already exist: {', '.join(taken)}; seed with replace to recreate them")
    counts: dict[str, int] = {}
    rows = small.insert_small_rows(conn, plans, int(anchor.timestamp()), seed, password_hash, counts, agents)
    rows.ids.lead_base = load.reserve_ids(conn, "leads", leads)
    report("generate", 0, 1)
    generated = Generated(plans, rows.owners, rows.ids, seed, anchor)
    report("generate", 1, 1)
    return Prepared(plans, rows, generated, seed, anchor, counts)


def _reserve_ids(conn: Connection, prepared: Prepared, tables: tuple[str, ...]) -> tuple[str, ...]:
    """Reserve the id ranges of these tables (those that have one) on this connection, whose
    transaction then holds their locks; returns the tables reserved."""
    ids, sizes = prepared.ids, _ranges(prepared)
    bases = {"ai_generations": "ai_base", "enrollments": "enrollment_base", "outbound_messages": "message_base"}
    reserved = tuple(name for name in tables if name in bases)
    for name in reserved:
        setattr(ids, bases[name], load.reserve_ids(conn, name, sizes[name][1]))
    return reserved


def _builders(prepared: Prepared, names: tuple[str, ...]) -> list[load.Builder]:
    """Table builders in foreign-key order; each runs on an encoder thread when its turn comes."""
    g, plans, ids, seed, anchor_s = prepared.generated, prepared.plans, prepared.ids, prepared.seed, prepared.anchor_s
    lead, run, drafted = g.leads, g.journey, g.drafted
    every: dict[str, Callable[[], pa.Table]] = {
        "leads": lambda: tables.leads_table(lead, run, plans, ids, anchor_s),
        "ai_generations": lambda: messages.ai_generations_table(lead, run, ids, drafted, seed),
        "activities": lambda: activities.activities_table(lead, run, ids, seed),
        "enrollments": lambda: tables.enrollments_table(lead, run, ids),
        "outbound_messages": lambda: messages.outbound_table(lead, run, plans, ids, drafted),
        "scheduled_actions": lambda: tables.scheduled_actions_table(lead, run, ids),
        "message_events": lambda: messages.events_table(lead, run, plans, ids, drafted, seed),
        "inbound_messages": lambda: messages.replies_table(lead, run, ids, drafted, seed, anchor_s),
        "suppressions": lambda: messages.suppressions_table(lead, run, ids, seed, anchor_s),
        "conversions": lambda: tables.conversions_table(lead, run, ids, drafted.source, anchor_s),
        "campaign_transitions": lambda: tables.transitions_table(lead, run, plans, ids),
    }
    return [(name, every[name]) for name in names]


def _ranges(prepared: Prepared) -> dict[str, tuple[int, int]]:
    ids, g = prepared.ids, prepared.generated
    return {
        "leads": (ids.lead_base, g.leads.size),
        "ai_generations": (ids.ai_base, g.ai_rows),
        "enrollments": (ids.enrollment_base, int(g.journey.enrolled.sum())),
        "outbound_messages": (ids.message_base, g.journey.messages.size),
    }


# --- loading --------------------------------------------------------------------------------


def _load_in_one(conn: Connection, prepared: Prepared, report: Progress) -> dict[str, int]:
    """A small seed: one transaction, every constraint checked row by row as usual."""
    _reserve_ids(conn, prepared, LOAD_ORDER)
    chunks = load.produce(_builders(prepared, LOAD_ORDER))
    prepared.counts.update(load.copy_all(conn, chunks, _chunk_reporter(report)))
    _analyze(conn, LOAD_ORDER)
    prepared.counts["metrics_daily"] = _roll_up(conn, prepared, report)
    return prepared.counts


@dataclass
class Lane:
    """One connection, its transaction and the tables it loads in bulk mode."""

    conn: Connection
    tables: tuple[str, ...]
    owns: tuple[str, ...]  # reserved id ranges whose parent rows this lane loads
    rolls_up: bool = False
    error: BaseException | None = None
    counts: dict[str, int] = field(default_factory=dict)


def _load_in_two(
    engine: Engine, first: Connection, first_transaction: RootTransaction, prepared: Prepared, report: Progress
) -> dict[str, int]:
    """A large seed: the lead lane on `first` (whose transaction holds the small rows) and the
    recovery lane on a second connection, both at once; commit the lead lane, then the other."""
    slugs = [p.slug for p in prepared.plans]
    with engine.connect() as second:
        second_transaction = second.begin()
        try:
            lanes = (
                Lane(first, LEAD_LANE, owns=("leads", *_reserve_ids(first, prepared, LEAD_LANE))),
                Lane(second, RECOVERY_LANE, owns=_reserve_ids(second, prepared, RECOVERY_LANE), rolls_up=True),
            )
            _run_lanes(lanes, prepared, Floating(FLOATING), report)
            first_transaction.commit()
        except BaseException:
            second_transaction.rollback()
            raise
        try:
            second_transaction.commit()
        except BaseException:
            if second_transaction.is_active:
                second_transaction.rollback()
            with first.begin():  # the lead lane is committed: take the half-seeded tenants away again
                delete_tenants(first, slugs)
            raise
    for lane in lanes:
        prepared.counts.update(lane.counts)
    return prepared.counts


class Floating:
    """What the two lanes share: the tables either may load (a lane's encoder takes the next
    one when it gets there), and the first failure, which stops both."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self._names = list(names)
        self._lock = threading.Lock()
        self.failure: BaseException | None = None

    def take(self) -> str | None:
        with self._lock:
            return self._names.pop(0) if self._names and self.failure is None else None

    def fail(self, error: BaseException) -> bool:
        """Record a lane's failure; True when it is the first (the cause, not a consequence)."""
        with self._lock:
            first = self.failure is None
            if first:
                self.failure = error
            return first

    def check(self) -> None:
        if self.failure is not None:
            raise RuntimeError("the other lane of the seed failed") from self.failure


def _run_lanes(lanes: tuple[Lane, Lane], prepared: Prepared, floating: Floating, report: Progress) -> None:
    """The second lane on a thread, the first here. The first lane to fail cancels the other's
    running statement and stops its next table; both are waited for, and the first error is
    raised (the other's is only its consequence)."""
    lead, recovery = lanes
    worker = threading.Thread(
        target=_guarded, args=(recovery, prepared, floating, report, lead), name="seed-recovery-lane"
    )
    worker.start()
    try:
        _guarded(lead, prepared, floating, report, recovery)
    finally:
        worker.join()
    if floating.failure is not None:
        raise floating.failure


def _guarded(lane: Lane, prepared: Prepared, floating: Floating, report: Progress, other: Lane) -> None:
    try:
        _run_lane(lane, prepared, floating, report)
    except BaseException as error:
        lane.error = error
        if floating.fail(error):
            other.conn.connection.driver_connection.cancel()  # type: ignore[union-attr]


def _run_lane(lane: Lane, prepared: Prepared, floating: Floating, report: Progress) -> None:
    """Load, analyze, roll up, index and prove one lane's tables inside its open transaction."""
    conn = lane.conn
    dropped: list[Index] = []

    def unindex(table: str) -> None:
        indexes = integrity.secondary_indexes((table,))
        integrity.drop_indexes(conn, indexes)
        dropped.extend(indexes)

    def builders() -> Iterator[load.Builder]:
        for fixed in lane.tables:
            floating.check()
            yield from _builders(prepared, (fixed,))
        while (taken := floating.take()) is not None:
            yield from _builders(prepared, (taken,))
        floating.check()

    unchecked = integrity.bypass_foreign_key_triggers(conn)
    lane.counts = load.copy_all(conn, load.produce(builders()), _chunk_reporter(report), before_table=unindex)
    loaded = tuple(lane.counts)
    stage = f"{lane.tables[0]} lane: indexes, keys"
    report(stage, 0, 3)
    _analyze(conn, loaded)  # before the rollup too: its joins need the row counts
    if lane.rolls_up:  # the rollup reads only this lane's tables, so it runs while the other lane works
        lane.counts["metrics_daily"] = _roll_up(conn, prepared, report)
    if unchecked:
        integrity.restore_triggers(conn)
    report(stage, 1, 3)
    integrity.create_indexes(conn, dropped)
    report(stage, 2, 3)
    if unchecked:
        ranges = _ranges(prepared)
        proven = (*loaded, "metrics_daily") if lane.rolls_up else loaded
        integrity.verify_foreign_keys(conn, proven, ranges, {k: ranges[k] for k in lane.owns}, prepared.rows.known)
    report(stage, 3, 3)


LIGHT_STATISTICS = 30
"""Statistics target for the history tables: a tenth of the sample is plenty for their few
distinct tenants, kinds and statuses, and ANALYZE reads far fewer pages. Leads keep the
server's default, as the console filters and sorts them most."""


def _analyze(conn: Connection, names: tuple[str, ...]) -> None:
    """Fresh statistics now: the console's first queries on a million rows need them, and
    autovacuum may be off (it is on this machine's server) or minutes away."""
    for name in names:
        if name != "leads":
            conn.execute(text(f"SET LOCAL default_statistics_target = {LIGHT_STATISTICS}"))
        conn.execute(text(f'ANALYZE "{name}"'))
        conn.execute(text("RESET default_statistics_target"))


def _roll_up(conn: Connection, prepared: Prepared, report: Progress) -> int:
    report("metrics_daily", 0, 1)
    zones = {int(t): p.timezone for t, p in zip(prepared.ids.tenant, prepared.plans, strict=True)}
    written = rollups.roll_up(conn, zones, prepared.anchor)
    conn.execute(text('ANALYZE "metrics_daily"'))
    report("metrics_daily", 1, 1)
    return written


def _chunk_reporter(report: Progress) -> Callable[[load.Chunk], None]:
    sent: dict[str, int] = {}

    def on_chunk(chunk: load.Chunk) -> None:
        sent[chunk.table] = sent.get(chunk.table, 0) + chunk.rows
        report(chunk.table, sent[chunk.table], chunk.total)

    return on_chunk


def _serialised(progress: Progress | None) -> Progress:
    """The caller's callback, never entered by two lanes at once."""
    lock = threading.Lock()

    def report(label: str, done: int, total: int) -> None:
        if progress is not None:
            with lock:
                progress(label, done, total)

    return report
