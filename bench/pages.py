"""`python -m bench.pages [--reuse]`: every console page at 1,000,000 leads and 10,000,000 events.

Target (DESIGN.md §8): every page renders in under 1 s server-side and adds under 100 MB per
session, with a million leads and ten million *events* (activities + message_events +
inbound_messages: everything a lead did or was done to it) in the database.

The data: a database `lre_bench_pages` on the server of DATABASE_URL, loaded by the demo
generator (`db/seed.py`, ~3.6 M events for 1 M leads) and topped up to the event target with
historical activities: set-based `INSERT … SELECT` over every lead, spread over the twelve
months before its last activity, kinds and channels as the demo's. The top-up goes in with the
table's secondary indexes dropped and rebuilt and, when the role may, the foreign-key triggers
off for its own session (every row is built from a lead row, so its keys hold by
construction), then ANALYZE. A marker table in that database records what was built; with
`--reuse` a database whose marker matches the arguments is kept (its migrations are brought
up to date), otherwise it is rebuilt. It is left in place for the next `--reuse`.

The measure: Streamlit's AppTest runs the real console (`streamlit_app.py`, router included)
in this process, signed in as the demo operator of the biggest tenant. Per page and round:
`st.cache_data` cleared, the page run once (*cold*: every read hits PostgreSQL; this is the
honest figure and the target), then run again twice (*warm*: served from the cache). The
seconds are the wall time of `AppTest.run()` (script run plus AppTest's own decoding of the
page, so slightly more than a server spends). PostgreSQL's own buffers are warm after the
first round: `first_visit` is each page's very first run. The baseline is the same pages,
same rounds, in the same process on a fresh 1,000-lead demo database, so `ratio_vs_baseline`
(cold medians) says what the million leads cost. The machine is shared: the load average is
recorded before and after, and each cold run's CPU seconds in this process (`cold_cpu_median_s`,
the Python side only) are a figure that other processes' load moves far less than wall time.

Memory per session, two ways, both with the process-wide cache warm (it is shared by every
session of a server; its own size is reported apart):
- `tracemalloc`: one fresh session signs in and visits every page; the peak of traced Python
  allocations above the level before it, and what the session still holds at the end;
- `rss`: N fresh sessions each visit every page and are kept alive; growth of the process's
  resident set ÷ N (catches native buffers, e.g. Arrow, that tracemalloc does not see).
`met.memory` holds when the larger of the tracemalloc peak and the RSS figure is under 100 MB.
Results go to bench/results/pages.json.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import statistics
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
import streamlit as st
from sqlalchemy.schema import CreateIndex, DropIndex
from streamlit.testing.v1 import AppTest

from app import runtime
from app.services import operators
from app.settings import load_settings
from bench.scratch import BENCH_REDIS_DB, scratch_database, scratch_redis
from bench.seed import machine_info, server_info
from db import migrate
from db.engine import make_engine
from db.models import ACTIVITY_KINDS, Base
from db.seed import seed_demo
from streamlit_app import PAGES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "pages.json"
APP = str(ROOT / "streamlit_app.py")
DATABASE = "lre_bench_pages"
TARGET_SECONDS = 1.0
TARGET_MB = 100.0
EVENT_TABLES = ("activities", "message_events", "inbound_messages")
TIMEOUT = 120
MB = 2**20

# The top-up's kinds, channels and summaries: a lead's ordinary history between its first
# touch and its last (page views and opens dominate, as in any CRM's activity log).
HISTORY = (
    ("page_view", None, "Viewed the pricing page"),
    ("page_view", None, "Viewed a case study"),
    ("page_view", None, "Viewed the services page"),
    ("open", "email", "Opened the newsletter"),
    ("open", "email", "Opened a follow-up email"),
    ("click", "email", "Clicked a link in the newsletter"),
    ("email_out", "email", "Rep sent a follow-up email"),
    ("email_in", "email", "Asked a question by email"),
    ("sms_out", "sms", "Rep sent an SMS reminder"),
    ("sms_in", "sms", "Answered by SMS"),
    ("call", None, "Call with a rep"),
    ("note", None, "Rep added a note"),
    ("form", None, "Filled in a contact form"),
    ("meeting", None, "Met a rep"),
    ("stage_change", None, "Moved to the next stage"),
)
assert {kind for kind, _, _ in HISTORY} <= set(ACTIVITY_KINDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000, help="activities + message_events + inbound")
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline-leads", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3, help="cold runs per page (each followed by two warm)")
    parser.add_argument("--sessions", type=int, default=6, help="fresh sessions kept alive for the RSS figure")
    parser.add_argument("--reuse", action="store_true", help=f"keep {DATABASE} when its marker matches")
    parser.add_argument("--redis-db", type=int, default=BENCH_REDIS_DB)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    urls = runtime.resolve_urls(load_settings())
    load_before = os.getloadavg()
    try:
        big_url, built = prepare_big(urls.database_url, args)
        with (
            scratch_redis(urls.redis_url, args.redis_db) as redis_url,
            scratch_database(urls.database_url, "pages_baseline") as small_url,
        ):
            result = run(big_url, small_url, redis_url, built, args)
    finally:
        runtime.stop_embedded()
        urls.stop_embedded()
    result["machine"] = machine_info(load_before[0])
    result["load_average"] = {"before": [round(x, 2) for x in load_before], "after": _load()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["met"]["all"] else 1


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- the million-lead database -------------------------------------------------------------------


def database_url(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


def prepare_big(server_url: str, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The bench database, reused when `--reuse` and its marker matches, else built afresh."""
    url = database_url(server_url, DATABASE)
    wanted = {"leads": args.leads, "tenants": args.tenants, "seed": args.seed, "events": args.events}
    if args.reuse:
        marker = read_marker(url)
        if marker is not None and all(marker.get(k) == v for k, v in wanted.items()):
            migrate.upgrade(url)  # indexes added since it was built
            return url, marker | {"reused": True}
    admin = make_engine(server_url, null_pool=True).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    migrate.upgrade(url)
    built = build(url, args)
    write_marker(url, built)
    return url, built | {"reused": False}


def read_marker(url: str) -> dict[str, Any] | None:
    engine = make_engine(url, null_pool=True)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT facts FROM bench_pages_marker")).scalar()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return None  # no such database, or no marker: not a finished build
    finally:
        engine.dispose()
    return dict(row) if row else None


def write_marker(url: str, facts: dict[str, Any]) -> None:
    engine = make_engine(url, null_pool=True)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE bench_pages_marker (facts jsonb NOT NULL)"))
        conn.execute(sa.text("INSERT INTO bench_pages_marker VALUES (CAST(:f AS jsonb))"), {"f": json.dumps(facts)})
    engine.dispose()


def build(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Seed the demo at `args.leads`, then top up activities to `args.events` events in all."""
    anchor = datetime.now(UTC).replace(second=0, microsecond=0)
    engine = make_engine(url, null_pool=True)
    try:
        started = time.perf_counter()
        seed_demo(
            engine,
            tenants=args.tenants,
            leads=args.leads,
            seed=args.seed,
            anchor=anchor,
            password_hash=operators.hash_password(operators.DEMO_PASSWORD),
        )
        seed_s = time.perf_counter() - started
        started = time.perf_counter()
        added = top_up_activities(engine, events=args.events)
        top_up_s = time.perf_counter() - started
    finally:
        engine.dispose()
    started = time.perf_counter()
    vacuum(url)
    vacuum_s = time.perf_counter() - started
    return {
        "leads": args.leads,
        "tenants": args.tenants,
        "seed": args.seed,
        "events": args.events,
        "anchor": anchor.isoformat(),
        "seed_seconds": round(seed_s, 1),
        "top_up_rows": added,
        "top_up_seconds": round(top_up_s, 1),
        "vacuum_analyze_seconds": round(vacuum_s, 1),
    }


def event_count(conn: sa.Connection) -> int:
    return sum(int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in EVENT_TABLES)


def top_up_activities(engine: sa.Engine, *, events: int) -> int:
    """Add historical activities until the three event tables hold `events` rows; rows added.

    Each lead gets `base` rows, and the first `extra` leads (by id order) one more, at instants
    spread over the year before its last activity; md5 of (lead, n) picks kind and time, so a
    rebuild loads the same rows.
    """
    indexes = [i for i in Base.metadata.tables["activities"].indexes if not i.unique]
    with engine.begin() as conn:
        missing = events - event_count(conn)
        leads = int(conn.execute(sa.text("SELECT count(*) FROM leads")).scalar_one())
        if missing <= 0 or leads == 0:
            return 0
        base, extra = divmod(missing, leads)
        for index in indexes:
            conn.execute(DropIndex(index, if_exists=True))
        if conn.execute(sa.text("SELECT has_parameter_privilege('session_replication_role', 'SET')")).scalar_one():
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        history = ", ".join(
            f"({n}, '{kind}', {_sql_text(channel)}, '{summary}')" for n, (kind, channel, summary) in enumerate(HISTORY)
        )
        conn.execute(
            sa.text(
                f"""
                WITH history(n, kind, channel, summary) AS (VALUES {history}),
                numbered AS (
                    SELECT id, tenant_id, last_activity_at, row_number() OVER (ORDER BY id) AS nth FROM leads
                ), drawn AS (
                    SELECT l.id, l.tenant_id, l.last_activity_at,
                           ('x' || md5(l.id::text || ':' || g.n))::bit(64)::bigint AS h
                    FROM numbered l
                    CROSS JOIN LATERAL generate_series(1, :base + CASE WHEN l.nth <= :extra THEN 1 ELSE 0 END) g(n)
                )
                INSERT INTO activities (tenant_id, lead_id, kind, channel, occurred_at, summary, created_at, updated_at)
                SELECT d.tenant_id, d.id, h.kind, h.channel, t.ts, h.summary, t.ts, t.ts
                FROM drawn d
                JOIN history h ON h.n = abs(d.h % {len(HISTORY)})
                CROSS JOIN LATERAL (
                    SELECT d.last_activity_at - make_interval(secs => abs((d.h >> 8) % (365 * 86400))) AS ts
                ) t
                """
            ),
            {"base": base, "extra": extra},
        )
        conn.execute(sa.text("SET LOCAL session_replication_role = origin"))
        conn.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
        for index in indexes:
            conn.execute(CreateIndex(index))
    return missing


def vacuum(url: str) -> None:
    """VACUUM ANALYZE everything, as autovacuum would have by the time a database is this big.

    Without it the visibility map is empty after a bulk load, so no index-only scan is
    possible and every count reads the heap: slower than any database in service (and the
    test server runs with autovacuum off, so it would never catch up by itself).
    """
    engine = make_engine(url, null_pool=True)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()


def _sql_text(value: str | None) -> str:
    return "NULL" if value is None else f"'{value}'"


def row_counts(url: str) -> dict[str, int]:
    engine = make_engine(url, null_pool=True)
    tables = ("tenants", "leads", *EVENT_TABLES, "outbound_messages", "enrollments", "conversions", "metrics_daily")
    try:
        with engine.connect() as conn:
            counts = {t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables}
    finally:
        engine.dispose()
    return counts | {"events": sum(counts[t] for t in EVENT_TABLES)}


def schema_revision(url: str) -> str:
    engine = make_engine(url, null_pool=True)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one())
    finally:
        engine.dispose()


def biggest_tenant(url: str) -> tuple[int, str, int]:
    """The tenant with the most leads: its id, its demo operator's email, its lead count."""
    engine = make_engine(url, null_pool=True)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    """
                    SELECT t.id, o.email, (SELECT count(*) FROM leads l WHERE l.tenant_id = t.id) AS leads
                    FROM tenants t JOIN operators o ON o.tenant_id = t.id AND o.email LIKE 'demo@%'
                    ORDER BY leads DESC, t.id LIMIT 1
                    """
                )
            ).one()
    finally:
        engine.dispose()
    return int(row.id), str(row.email), int(row.leads)


# --- the console in this process ---------------------------------------------------------------


@contextlib.contextmanager
def console_on(database: str, redis_url: str) -> Iterator[None]:
    """Point this process's runtime (engine, Redis, settings) and the page cache at `database`."""
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "REDIS_URL")}
    os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = database, redis_url
    _forget_runtime()
    try:
        yield
    finally:
        _forget_runtime()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _forget_runtime() -> None:
    if runtime.engine.cache_info().currsize:
        runtime.engine().dispose()
    runtime.reset_for_tests()
    st.cache_data.clear()


def signed_in(email: str) -> AppTest:
    """A fresh session, signed in as `email` (its own tenant selected), on the dashboard."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.text_input(key="signin.email").input(email)
    at.text_input(key="signin.password").input(operators.DEMO_PASSWORD)
    at.form_submit_button[0].click().run()
    _check(at, "sign-in")
    return at.run()  # settles AppTest's legacy-mode widget ids (see tests/app/driver.py)


def _check(at: AppTest, what: str) -> None:
    if at.exception:
        raise RuntimeError(f"{what}: {[e.value for e in at.exception]}")


def visit(at: AppTest, path: str, cpu: list[float] | None = None) -> float:
    """Wall seconds of one run of `path`; its CPU seconds in this process (every thread: the
    script runs in AppTest's own) go to `cpu`, a figure the machine's other load barely moves."""
    started, cpu_started = time.perf_counter(), time.process_time()
    at.switch_page(path).run()
    seconds = time.perf_counter() - started
    if cpu is not None:
        cpu.append(time.process_time() - cpu_started)
    _check(at, path)
    return seconds


def time_pages(email: str, rounds: int) -> tuple[dict[str, dict[str, list[float]]], dict[str, str]]:
    """Per page: its first visit, then per round one cold run (cache cleared) and two warm.

    A page that raises is recorded with its error and left out of the later rounds (the tree
    may hold a colleague's half-landed page): the bench reports it rather than dying.
    """
    at = signed_in(email)
    runs: dict[str, dict[str, list[float]]] = {
        p: {"first": [], "cold": [], "warm": [], "cold_cpu": []} for p in PAGES_BY_PATH
    }
    errors: dict[str, str] = {}

    def attempt(path: str, kind: str, cold: bool) -> None:
        if path in errors:
            return
        if cold:
            st.cache_data.clear()
        try:
            runs[path][kind].append(visit(at, path, runs[path]["cold_cpu"] if kind == "cold" else None))
        except RuntimeError as error:
            errors[path] = str(error)

    for path in PAGES_BY_PATH:
        attempt(path, "first", cold=True)
    for _ in range(rounds):
        for path in PAGES_BY_PATH:
            attempt(path, "cold", cold=True)
            attempt(path, "warm", cold=False)
            attempt(path, "warm", cold=False)
    return runs, errors


PAGES_BY_PATH = {spec.path: spec.title for spec in PAGES}


def one_session(email: str, skip: dict[str, str]) -> AppTest:
    at = signed_in(email)
    for path in PAGES_BY_PATH:
        if path not in skip:
            visit(at, path)
    return at


def rss_bytes() -> int:
    """The resident set after a full collection and, on glibc, handing free heap pages back to
    the system (else memory freed by earlier runs hides what the sessions take)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def memory(email: str, sessions: int, skip: dict[str, str]) -> dict[str, Any]:
    """Memory a session adds, by tracemalloc and by RSS (see the module docstring)."""
    st.cache_data.clear()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    one_session(email, skip).run()  # cold: fills the process-wide cache too
    gc.collect()
    cache_and_session = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.reset_peak()
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    kept = one_session(email, skip)
    held = tracemalloc.get_traced_memory()[0] - before
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    del kept
    gc.collect()
    one_session(email, skip)  # warm the cache again outside tracing
    gc.collect()
    rss_before = rss_bytes()
    alive = [one_session(email, skip) for _ in range(sessions)]
    gc.collect()
    rss_per = (rss_bytes() - rss_before) / sessions
    del alive
    gc.collect()
    worst = max(peak, rss_per) / MB
    return {
        "tracemalloc_peak_mb_per_session": round(peak / MB, 1),
        "tracemalloc_held_mb_per_session": round(held / MB, 1),
        "shared_cache_mb": round(cache_and_session / MB, 1),
        "rss_mb_per_session": round(rss_per / MB, 1),
        "rss_sessions": sessions,
        "worst_mb_per_session": round(worst, 1),
        "method": (
            "A session signs in and visits every page. tracemalloc: peak and still-held traced Python "
            "allocations of one fresh session over the level before it, the shared cache already warm; "
            "shared_cache_mb is what a first session with the cache cleared leaves behind once it "
            "is gone (the cache, shared by every session of a server). rss: growth of VmRSS after N "
            "fresh sessions kept alive, divided by N."
        ),
    }


def summarise(runs: dict[str, dict[str, list[float]]], errors: dict[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path, found in runs.items():
        title = PAGES_BY_PATH[path]
        if path in errors or not found["cold"]:
            out[title] = {"path": path, "error": errors.get(path, "no run"), "met": False}
            continue
        out[title] = {
            "path": path,
            "first_visit_s": round(found["first"][0], 3),
            "cold_median_s": round(statistics.median(found["cold"]), 3),
            "cold_max_s": round(max(found["cold"]), 3),
            "warm_median_s": round(statistics.median(found["warm"]), 3),
            "warm_max_s": round(max(found["warm"]), 3),
            "cold_runs_s": [round(x, 3) for x in found["cold"]],
            "cold_cpu_median_s": round(statistics.median(found["cold_cpu"]), 3),
        }
    return out


def run(
    big_url: str, small_url: str, redis_url: str, built: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    small_engine = make_engine(small_url, null_pool=True)
    seed_demo(
        small_engine,
        tenants=1,
        leads=args.baseline_leads,
        seed=args.seed,
        anchor=datetime.now(UTC).replace(second=0, microsecond=0),
        password_hash=operators.hash_password(operators.DEMO_PASSWORD),
    )
    small_engine.dispose()
    vacuum(small_url)
    _, small_email, small_leads = biggest_tenant(small_url)
    tenant_id, email, tenant_leads = biggest_tenant(big_url)
    counts = row_counts(big_url)
    with console_on(small_url, redis_url):
        baseline = summarise(*time_pages(small_email, args.rounds))
    with console_on(big_url, redis_url):
        runs, errors = time_pages(email, args.rounds)
        pages = summarise(runs, errors)
        mem = memory(email, args.sessions, errors)
        engine = make_engine(big_url, null_pool=True)
        server = server_info(engine)
        engine.dispose()
    for title, figures in pages.items():
        if "error" in figures:
            continue
        base = baseline[title].get("cold_median_s")
        figures["baseline_cold_median_s"] = base
        figures["ratio_vs_baseline"] = round(figures["cold_median_s"] / base, 1) if base else None
        figures["met"] = figures["cold_max_s"] < TARGET_SECONDS
    measured = {title: f for title, f in pages.items() if "error" not in f}
    slowest = max(measured.items(), key=lambda item: item[1]["cold_max_s"])
    met_time = all(f["met"] for f in pages.values())
    met_memory = mem["worst_mb_per_session"] < TARGET_MB
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": DATABASE,
        "build": built,
        "schema_revision": schema_revision(big_url),
        "data_age_hours": round(
            (datetime.now(UTC) - datetime.fromisoformat(built["anchor"])).total_seconds() / 3600, 2
        ),
        "events_definition": "activities + message_events + inbound_messages rows",
        "rows": counts,
        "tenant": {"id": tenant_id, "leads": tenant_leads, "operator": email},
        "baseline": {
            "what": "the same pages, rounds and process on a fresh demo database of this many leads",
            "leads": small_leads,
            "pages": baseline,
        },
        "rounds": args.rounds,
        "method": (
            "AppTest in-process, router included; seconds = wall time of AppTest.run() after "
            "switch_page. cold = st.cache_data cleared before the run (the target); warm = the two "
            "runs right after it; first_visit = each page's first run (PostgreSQL buffers cold too). "
            "cold_cpu = CPU seconds of this process in a cold run (Python side only, not PostgreSQL's), "
            "which the shared machine's load changes far less than wall time."
        ),
        "pages": pages,
        "slowest_page": {"title": slowest[0], "cold_max_s": slowest[1]["cold_max_s"]},
        "memory": mem,
        "server": server,
        "targets": {"seconds_per_page_cold": TARGET_SECONDS, "mb_per_session": TARGET_MB},
        "met": {"time": met_time, "memory": met_memory, "all": met_time and met_memory},
    }


if __name__ == "__main__":
    raise SystemExit(main())
