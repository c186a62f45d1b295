"""`python -m bench.seed [--leads 1000000]`: how fast the demo generator loads a million leads.

Target (DESIGN.md §8): one million leads with their history (activities, enrollments, the
outbox, provider events, replies, suppressions, conversions, the AI ledger, transitions,
scheduled actions, daily rollups) in under 60 s on this 2-core machine. The run seeds a
scratch database on the server of DATABASE_URL (or the embedded one when unset), dropped
afterwards, so it never touches demo data. The clock covers everything `seed_demo` does:
generating, COPY, rebuilding indexes, proving foreign keys, ANALYZE and the rollups.

Per table it reports the rows and the seconds between the start of its COPY and its last
chunk; in bulk mode the two lanes load at the same time, so per-table seconds overlap and
add up to more than the total.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app import runtime
from app.settings import load_settings
from bench.scratch import scratch_database
from db.engine import make_engine
from db.seed import BULK_FROM_LEADS, seed_demo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "seed.json"
TARGET_S = 60.0
ANCHOR = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)  # fixed, so every run loads the same rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    urls = runtime.resolve_urls(load_settings())
    try:
        result = run(urls.database_url, leads=args.leads, tenants=args.tenants, seed=args.seed)
    finally:
        urls.stop_embedded()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["met"] else 1


def run(server_url: str, *, leads: int, tenants: int, seed: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    with scratch_database(server_url, "seed") as url:
        engine = make_engine(url, null_pool=True)
        clock = StageClock()
        started = time.perf_counter()
        rows = seed_demo(engine, tenants=tenants, leads=leads, seed=seed, anchor=ANCHOR, progress=clock)
        seconds = time.perf_counter() - started
        server = server_info(engine)
        engine.dispose()
    total = sum(rows.values())
    copied = {table: count for table, count in rows.items() if table in clock.seconds and table != "metrics_daily"}
    return {
        "leads": leads,
        "tenants": tenants,
        "seed": seed,
        "bulk_mode": leads >= BULK_FROM_LEADS,
        "seconds": round(seconds, 2),
        "rows_total": total,
        "rows_per_s_overall": round(total / seconds),
        "rows": rows,
        "copy_seconds": {table: round(clock.seconds[table], 2) for table in copied},
        "rows_per_s": {table: round(count / max(clock.seconds[table], 1e-3)) for table, count in copied.items()},
        "stage_seconds": {name: round(value, 2) for name, value in clock.seconds.items() if name not in copied},
        "machine": machine_info(load_before),
        "server": server,
        "target_s": TARGET_S,
        "met": seconds < TARGET_S,
    }


class StageClock:
    """The progress callback: when each stage (a table's COPY, index rebuilds …) started and ended."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def __call__(self, label: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.started.setdefault(label, now)
        if done >= total:
            self.seconds[label] = now - self.started[label]
            print(f"{label:<34} {total:>12,} {self.seconds[label]:7.2f} s", file=sys.stderr, flush=True)


def machine_info(load_before: float) -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_avg_1m_before": round(load_before, 2),  # the machine may be shared: read the figure with it
    }


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def server_info(engine: sa.Engine) -> dict[str, str]:
    names = ("server_version", "shared_buffers", "max_wal_size", "maintenance_work_mem", "wal_level")
    with engine.connect() as conn:
        return {name: str(conn.execute(sa.text(f"SHOW {name}")).scalar_one()) for name in names}


if __name__ == "__main__":
    raise SystemExit(main())
