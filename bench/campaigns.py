"""`python -m bench.campaigns`: enrolling an audience and firing due timers, against per-lead loops.

Targets (issue 10, "Campaigns"), on this machine:
- enrolling an audience of 100,000 leads in a running campaign: under 2 s;
- firing 100,000 due timers: under 10 s, against a per-enrollment loop in the same run;
- validating a 200-node plan: under 50 ms, measured by `python -m bench.plan_validation` and
  quoted here from bench/results/plan_validation.json.

The data (`bench/campaign_world.py`) is a scratch database loaded with COPY: leads with a mix
of zones, channels, consent, suppressions, earlier episodes and leads busy elsewhere.

Enrolling: `enroll_in_session` (what the scan and a launch call) over tenant 1's 100,000 leads,
in the recovery campaign (the default plan of the 24/48/72 h ladder) and in an A/B campaign
(a branch on deal value and three two-variant sends). Firing: tenant 2's audience is enrolled
once (committed) and its wait timers are fired a day later, `FIRE_LIMIT` per round as
`fire_due` does, until 100,000 have fired. Each service is timed against its loop
(`bench/campaign_loops.py`: per lead, read it, `step` it alone, write each row) on the same data.

Every run is one transaction, rolled back (then the tables vacuumed) so each starts from the
same state; a first run of each service only warms the caches (a loop runs long enough to warm
them by itself). The first timed run of each approach also reads back, before its rollback,
every row it wrote (`bench/rows_written.py`: enrollments, actions, transitions, leads): the
service and its loop must write the same rows. Each enrollment is also set against its floors
(`bench/campaign_floor.py`): the same rows written in one statement, and the enrollment rows
alone (`enrollments_only_seconds`), the least any one-row-per-lead enrollment costs here. Medians over the
repeats; the ratio is loop / service. Results go to bench/results/campaigns.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import runtime
from app.services import campaign_run
from app.settings import load_settings
from bench import campaign_floor, campaign_loops
from bench.campaign_world import ANCHOR, Campaigns, seed
from bench.rows_written import digests
from bench.scratch import scratch_database
from bench.seed import machine_info, server_info
from db.engine import make_engine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "campaigns.json"
PLAN_VALIDATION = ROOT / "bench" / "results" / "plan_validation.json"
TARGET_ENROLL_S = 2.0
TARGET_FIRE_S = 10.0
FIRE_LEADS_PER_TIMER = 1.16  # the share of tenant 2's leads left with a wait timer is about 0.87

Run = Callable[[Session], dict[str, Any]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.campaigns", description=__doc__.split("\n")[0])
    parser.add_argument("--audience", type=int, default=100_000, help="leads enrolled per run")
    parser.add_argument("--timers", type=int, default=100_000, help="due timers fired per run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each service")
    parser.add_argument("--loop-repeats", type=int, default=1, help="timed runs of each loop (slow)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    urls = runtime.resolve_urls(load_settings())
    load_before = os.getloadavg()[0]
    try:
        with scratch_database(urls.database_url, "campaigns") as url:
            result = run(url, args)
    finally:
        urls.stop_embedded()
    result["machine"] = machine_info(load_before)
    result["load_average_1m"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if all(result["met"].values()) else 1


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    engine = make_engine(url, pool_size=1)  # one warm connection for every run
    try:
        started = time.perf_counter()
        sizes = (args.audience, round(args.timers * FIRE_LEADS_PER_TIMER))
        audience, firing = seed(engine, sizes=sizes, seed=args.seed)
        launched = launch(engine, firing)
        vacuum(engine, analyze=True)
        seed_s = time.perf_counter() - started
        enroll = {
            name: compare(engine, enroll_runs(audience, campaign), args)
            for name, campaign in (("recovery_plan", audience.recovery), ("ab_plan", audience.ab_test))
        }
        fire = compare(engine, fire_runs(firing, args.timers), args)
        server = server_info(engine)
    finally:
        engine.dispose()
    return report(args, seed_s, audience, launched, enroll, fire, server)


def launch(engine: sa.Engine, firing: Campaigns) -> dict[str, int]:
    """Tenant 2's audience enrolled for good, so its wait timers are there to fire."""
    with Session(engine) as session, session.begin():
        enrolled = campaign_run.enroll_in_session(
            session,
            tenant_id=firing.tenant_id,
            campaign_id=firing.recovery,
            lead_ids=firing.lead_ids,
            now=ANCHOR,
            source="launch",
        )
    return enrolled.summary()


def enroll_runs(world: Campaigns, campaign_id: int) -> dict[str, Run]:
    enrolled: dict[str, Any] = {}  # what the service did, for the floor to write as much

    def service(session: Session) -> dict[str, Any]:
        lead_ids, tenant_id = world.lead_ids, world.tenant_id
        result = campaign_run.enroll_in_session(
            session, tenant_id=tenant_id, campaign_id=campaign_id, lead_ids=lead_ids, now=ANCHOR, source="launch"
        )
        enrolled.update(result.summary(), lead_ids=result.enrolled)
        return {**result.summary(), "classes": result.classes}

    def loop(session: Session) -> dict[str, Any]:
        statements = campaign_loops.enroll_loop(
            session, tenant_id=world.tenant_id, campaign_id=campaign_id, lead_ids=world.lead_ids, now=ANCHOR
        )
        return {"statements": statements}

    def floor(session: Session) -> dict[str, Any]:
        rows = campaign_floor.enroll_floor(
            session,
            tenant_id=world.tenant_id,
            campaign_id=campaign_id,
            lead_ids=enrolled["lead_ids"],
            reached=enrolled["sends"],
            moves=enrolled["transitions"] // enrolled["enrolled"],
            now=ANCHOR,
        )
        return {"enrolled": rows}

    def enrollments_only(session: Session) -> dict[str, Any]:
        rows = campaign_floor.enrollments_only_floor(
            session, tenant_id=world.tenant_id, campaign_id=campaign_id, lead_ids=enrolled["lead_ids"], now=ANCHOR
        )
        return {"enrolled": rows}

    return {"service": service, "loop": loop, "floor": floor, "enrollments_only": enrollments_only}


def fire_runs(world: Campaigns, timers: int) -> dict[str, Run]:
    at = ANCHOR + timedelta(hours=24)

    def service(session: Session) -> dict[str, Any]:
        total: dict[str, int] = {"rounds": 0}
        while total.get("fired", 0) < timers:
            limit = min(campaign_run.FIRE_LIMIT, timers - total.get("fired", 0))
            counts = campaign_run.fire_in_session(session, tenant_id=world.tenant_id, now=at, limit=limit)
            total = {key: total.get(key, 0) + counts.get(key, 0) for key in {*total, *counts}}
            total["rounds"] += 1
            if counts["fired"] < limit:
                break
        return total

    def loop(session: Session) -> dict[str, Any]:
        return {"statements": campaign_loops.fire_loop(session, tenant_id=world.tenant_id, now=at, limit=timers)}

    def floor(session: Session) -> dict[str, Any]:
        return {"moved": campaign_floor.fire_floor(session, tenant_id=world.tenant_id, now=at, limit=timers)}

    return {"service": service, "loop": loop, "floor": floor}


def compare(engine: sa.Engine, runs: dict[str, Run], args: argparse.Namespace) -> dict[str, Any]:
    """Time each approach (the service and the floor after a warm-up run); the service and the loop also
    read back the rows of their first timed run."""
    times: dict[str, list[float]] = {}
    counts: dict[str, dict[str, Any]] = {}
    written: dict[str, dict[str, Any]] = {}
    for name, approach in runs.items():
        repeats = args.loop_repeats if name == "loop" else args.repeats
        if name != "loop":  # a loop runs long enough to warm the caches by itself
            timed_in_rollback(engine, approach)
        capture = name in ("service", "loop")
        seconds, counts[name], written[name] = timed_in_rollback(engine, approach, capture=capture)
        times[name] = [seconds] + [timed_in_rollback(engine, approach)[0] for _ in range(repeats - 1)]
    median = {name: statistics.median(found) for name, found in times.items()}
    alone = {"enrollments_only_seconds": round(median["enrollments_only"], 3)} if "enrollments_only" in median else {}
    return {
        "seconds": round(median["service"], 3),
        "loop_seconds": round(median["loop"], 3),
        "ratio": round(median["loop"] / median["service"], 1),
        "floor_seconds": round(median["floor"], 3),
        "over_floor": round(median["service"] / median["floor"], 2),
        **alone,
        "runs": {name: [round(s, 3) for s in found] for name, found in times.items()},
        "counts": counts["service"],
        "loop_statements": counts["loop"]["statements"],
        "rows_written": {table: digest["rows"] for table, digest in written["service"].items()},
        "same_rows": written["service"] == written["loop"],
    }


def timed_in_rollback(engine: sa.Engine, approach: Run, *, capture: bool = False) -> tuple[float, Any, Any]:
    with Session(engine) as session:
        session.begin()
        started = time.perf_counter()
        counts = approach(session)
        seconds = time.perf_counter() - started
        written = digests(session) if capture else None
        session.rollback()
    vacuum(engine)
    return seconds, counts, written


def vacuum(engine: sa.Engine, *, analyze: bool = False) -> None:
    """Clear what a rolled-back run left behind, so every run starts from the same state."""
    tables = "leads, enrollments, scheduled_actions, campaign_transitions, suppressions"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"VACUUM {'ANALYZE ' if analyze else ''}{tables}"))


def report(
    args: argparse.Namespace,
    seed_s: float,
    audience: Campaigns,
    launched: dict[str, int],
    enroll: dict[str, dict[str, Any]],
    fire: dict[str, Any],
    server: dict[str, str],
) -> dict[str, Any]:
    validation = json.loads(PLAN_VALIDATION.read_text())
    return {
        "audience": len(audience.lead_ids),
        "enroll": enroll,
        "fire": {**fire, "timers": args.timers, "fire_limit": campaign_run.FIRE_LIMIT, "launched": launched},
        "plan_validation": {
            "from": "bench/results/plan_validation.json (python -m bench.plan_validation)",
            "date": validation["date"],
            "nodes": validation["nodes"],
            "median_ms": validation["valid_plan"]["median_ms"],
        },
        "targets": {"enroll_s": TARGET_ENROLL_S, "fire_s": TARGET_FIRE_S, "plan_validation_ms": 50.0},
        "met": {
            **{f"enroll_{name}": found["seconds"] < TARGET_ENROLL_S for name, found in enroll.items()},
            "fire": fire["seconds"] < TARGET_FIRE_S,
            "plan_validation": validation["valid_plan"]["median_ms"] < 50.0,
            "same_rows": fire["same_rows"] and all(found["same_rows"] for found in enroll.values()),
        },
        "repeats": {"service": args.repeats, "loop": args.loop_repeats},
        "seed_seconds": round(seed_s, 1),
        "server": server,
    }


if __name__ == "__main__":
    raise SystemExit(main())
