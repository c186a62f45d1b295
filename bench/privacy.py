"""`python -m bench.privacy`: what an erasure and a retention run cost on the demo's data.

On a scratch database (and a scratch Redis db) on the configured servers, the demo generator
loads `--leads` leads (20,000 by default, the size `make run` seeds), then:
- `erase`: ten leads that replied, erased one after another through `erase_lead` (the function
  behind `python -m app erase-lead` and Settings → Privacy): seconds each, median and worst;
- `retention`: one tenant's retention set to one day and the retention run over a clock a year
  after the demo's anchor (every closed lead of that tenant expired): leads anonymised, seconds,
  leads per second; then the same run again (nothing left: the idempotent pass's cost).
Results go to bench/results/privacy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app import runtime
from app.settings import get_settings, load_settings
from bench.scratch import BENCH_REDIS_DB, scratch_database, scratch_redis
from bench.seed import machine_info
from db.engine import make_engine
from db.seed import seed_demo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "privacy.json"
ANCHOR = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
ERASURES = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.privacy", description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--redis-db", type=int, default=BENCH_REDIS_DB, help="the scratch Redis db (flushed)")
    args = parser.parse_args(argv)
    urls = runtime.resolve_urls(load_settings())
    try:
        result = run(urls.database_url, urls.redis_url, leads=args.leads, redis_db=args.redis_db)
    finally:
        urls.stop_embedded()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


def run(server_url: str, redis_url: str, *, leads: int, redis_db: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    with scratch_database(server_url, "privacy") as url, scratch_redis(redis_url, redis_db) as scratch_redis_url:
        os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = url, scratch_redis_url
        get_settings.cache_clear()
        engine = make_engine(url, null_pool=True)
        rows = seed_demo(engine, tenants=3, leads=leads, seed=7, anchor=ANCHOR, progress=None)
        result = {
            "leads": leads,
            "rows_total": sum(rows.values()),
            "erase": erase(engine),
            "retention": retention_run(engine),
        }
        engine.dispose()
        runtime.engine().dispose()
    result["machine"] = machine_info(load_before)
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return result


def erase(engine: sa.Engine) -> dict[str, Any]:
    from app.services import erasure

    with engine.connect() as conn:
        picked = conn.execute(
            sa.text("SELECT DISTINCT lead_id, tenant_id FROM inbound_messages ORDER BY lead_id LIMIT :n"),
            {"n": ERASURES},
        ).all()
    seconds = []
    for lead_id, tenant_id in picked:
        started = time.perf_counter()
        erasure.erase_lead(tenant_id=tenant_id, lead_id=lead_id, operator_id=None)
        seconds.append(time.perf_counter() - started)
    return {
        "leads_erased": len(seconds),
        "median_s": round(statistics.median(seconds), 3),
        "max_s": round(max(seconds), 3),
    }


def retention_run(engine: sa.Engine) -> dict[str, Any]:
    from app.services import retention

    with engine.begin() as conn:
        tenant_id = conn.execute(sa.text("SELECT min(id) FROM tenants")).scalar_one()
        conn.execute(sa.text("UPDATE tenants SET retention_days = 1 WHERE id = :t"), {"t": tenant_id})
    later = ANCHOR + timedelta(days=365)
    started = time.perf_counter()
    done = retention.anonymise_expired(now=later)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = retention.anonymise_expired(now=later)
    second = time.perf_counter() - started
    anonymised = sum(done.values())
    return {
        "leads_anonymised": anonymised,
        "batch": retention.BATCH,
        "seconds": round(seconds, 2),
        "leads_per_s": round(anonymised / seconds, 1) if seconds else None,
        "second_run_anonymised": sum(again.values()),
        "second_run_s": round(second, 3),
    }


if __name__ == "__main__":
    raise SystemExit(main())
