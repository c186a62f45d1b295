"""The demo data use-case: seed realistic tenants, leads and history, or tell whether to.

The generator itself is `db.seed.seed_demo` (deterministic, COPY-fast); this service picks
the anchor (now, to the minute, so the demo's silence ladder is live the moment it loads),
owns replacing an earlier demo, gives the demo admins their password, and draws the progress
bar. Replacing is its own transaction before the seed: a failed seed after it leaves an
empty demo, which the next `seed` or `make run` fills again.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import exists, select

from app import queue, runtime
from app.services import agent_runs, operators
from db.models import Tenant
from db.seed import delete_tenants, demo_slugs, existing_slugs, seed_demo


@dataclass(frozen=True)
class SeedResult:
    """What a seed created, and how fast."""

    tenants: int
    leads: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    anchor: datetime | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        rate = self.total_rows / self.seconds if self.seconds > 0 else 0.0
        return (
            f"seeded {self.tenants} tenants, {self.leads:,} leads, {self.total_rows:,} rows "
            f"in {self.seconds:.1f} s ({rate:,.0f} rows/s)"
        )


def seed(
    *,
    tenants: int,
    leads: int,
    seed: int,
    replace: bool = False,
    progress: bool = False,
    anchor: datetime | None = None,
) -> SeedResult:
    """Load `tenants` demo tenants with `leads` leads in all; ValueError if they already exist."""
    anchor = anchor or now_to_the_minute()
    engine = runtime.engine()
    slugs = demo_slugs(tenants)
    with engine.begin() as conn:
        if replace:
            delete_tenants(conn, slugs)
        elif taken := existing_slugs(conn, slugs):
            raise ValueError(
                f"the database already has the demo tenants {', '.join(taken)}; "
                "run `python -m app seed --replace` to recreate them"
            )
    bar = ProgressBar(sys.stderr) if progress else None
    started = time.perf_counter()
    try:
        rows = seed_demo(
            engine,
            tenants=tenants,
            leads=leads,
            seed=seed,
            anchor=anchor,
            progress=bar,
            password_hash=operators.hash_password(operators.DEMO_PASSWORD),
            agents=demo_agents(),
        )
    finally:
        if bar is not None:
            bar.close()
    return SeedResult(tenants, leads, rows, time.perf_counter() - started, anchor)


def demo_agents() -> tuple[str, ...]:
    """The agents whose past runs the demo history shows: each `agents/<name>.py` that a job of
    `app.queue.JOBS` runs (the cron schedule goes through the same map), so the demo cannot list
    an agent the product does not have. The heartbeat is left out: its age is the console's
    proof that cron and the workers run, so only the real one may write it."""
    modules = {target.split(".")[1] for target, _queue in queue.JOBS.values()}
    return tuple(sorted(modules - {agent_runs.HEARTBEAT_AGENT}))


def is_empty() -> bool:
    """True when the database has no tenant at all (a fresh install, ready for the demo)."""
    with runtime.engine().connect() as conn:
        return not conn.execute(select(exists().where(Tenant.id.isnot(None)))).scalar_one()


def now_to_the_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


class ProgressBar:
    """Each finished stage keeps a line; on a terminal the stage in progress redraws below them.

    Two lanes report at once in bulk mode, so the live line shows whichever moved last.
    """

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.finished: set[str] = set()
        self.dirty = False

    def __call__(self, label: str, done: int, total: int) -> None:
        if label in self.finished:
            return
        line = self._line(label, done, total)
        if total > 0 and done >= total:
            self.finished.add(label)
            self.stream.write(("\r" if self.live else "") + line + "\n")
            self.dirty = False
        elif self.live:
            self.stream.write("\r" + line)
            self.dirty = True
        self.stream.flush()

    def _line(self, label: str, done: int, total: int) -> str:
        filled = min(self.WIDTH, self.WIDTH * done // total) if total else self.WIDTH
        return f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] {label:<22} {done:>11,} / {total:,}"

    def close(self) -> None:
        if self.dirty:
            self.stream.write("\n")
            self.stream.flush()
