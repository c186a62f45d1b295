"""`python -m bench.writer`: how many recovery messages our cache writes without calling Claude.

Target (DESIGN.md §8): at least 70 % of the messages of a realistic campaign need no API call.
The run seeds a scratch database (dropped afterwards) with two businesses of different kinds
and ~2,000 due sends between them, points the real anthropic SDK at the local fake server
(`tests/fakes/anthropic_server.py`) with a key set, and drains the sends through the real
`write_due` service in batches of 200, cold cache first. A second, smaller "next day" campaign
on the same tenants shows the warm-cache rate.

The leads are drawn as `bench/writer_world.py` describes. Costs come from `app/ai/cost.py`'s configured list prices
and the fake's token estimates (4 characters a token); the fake answers at once, so the time
per message is our own overhead (context queries, cache, checks, inserts), not model latency:
add `calls × real latency` for wall time against the real API.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app import runtime
from app.services import batch_writes
from app.services.write import write_due
from app.settings import get_settings, load_settings
from bench.scratch import scratch_database, scratch_redis
from bench.writer_world import BUSINESSES, seed_business, seed_campaign
from tests.fakes.anthropic_server import FakeAnthropic, written_reply
from tests.support import PRODUCTION_BASE_URL, PRODUCTION_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "writer.json"
TARGET_SHARE = 0.70
TARGET_CUT = 0.40  # cost per 1,000 messages with batches, against every draft direct
MAX_BATCH_ROUNDS = 10
BENCH_REDIS_DB = 12
MODEL = "claude-sonnet-5-5"
BATCH = 200
# Emails in which the fake quotes the lead's history although the prompt asks for general terms:
# a pessimistic allowance for a real model's slips. Such answers are sent, never reused.
QUOTING_SHARE = 0.2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.writer", description=__doc__.split("\n")[0])
    parser.add_argument("--sends", type=int, default=2000, help="due sends in the cold campaign")
    parser.add_argument("--next-day", type=int, default=500, help="due sends in the warm follow-up campaign")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quoting-share", type=float, default=QUOTING_SHARE, help="emails that quote history")
    parser.add_argument("--redis-db", type=int, default=BENCH_REDIS_DB, help="scratch Redis db (flushed)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    urls = runtime.resolve_urls(load_settings())
    options = {"sends": args.sends, "next_day": args.next_day, "seed": args.seed, "quoting_share": args.quoting_share}
    try:
        result = run(urls.database_url, urls.redis_url, redis_db=args.redis_db, **options)
    finally:
        urls.stop_embedded()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["met"] else 1


def run(
    database_url: str,
    redis_url: str,
    *,
    sends: int,
    next_day: int,
    seed: int,
    quoting_share: float,
    redis_db: int = BENCH_REDIS_DB,
) -> dict[str, Any]:
    """The same campaigns written twice, on fresh databases: every draft direct, then batched where it may."""
    write_at = next_night(datetime.now(UTC))
    modes = {
        batched: run_mode(
            database_url, redis_url, redis_db, batched=batched, write_at=write_at, sends=sends, next_day=next_day,
            seed=seed, quoting_share=quoting_share,
        )
        for batched in (False, True)
    }  # fmt: skip
    before, after = modes[False], modes[True]
    per_1000 = {"before": before["cost_per_1000_messages_usd"], "after": after["cost_per_1000_messages_usd"]}
    cut = round(1 - per_1000["after"] / per_1000["before"], 4) if per_1000["before"] else 0.0
    shares = {"before": before["cold_campaign"]["share_without_api_call"]}
    shares["after"] = after["cold_campaign"]["share_without_api_call"]
    prompt_cache = {"before": before["prompt_cache_read_share"], "after": after["prompt_cache_read_share"]}
    return {
        "target_share_without_api_call": TARGET_SHARE,
        "target_cost_cut_with_batches": TARGET_CUT,
        "met": min(shares.values()) >= TARGET_SHARE and cut >= TARGET_CUT,
        "cost_per_1000_messages_usd": per_1000 | {"cut": cut},
        "share_without_api_call": shares,
        "prompt_cache_read_share": prompt_cache,
        "model_priced_as": MODEL,
        "batch": BATCH,
        "tenants": len(BUSINESSES),
        "written_at": write_at.isoformat(),
        "before_batching": before,
        "after_batching": after,
        "seed": seed,
        "emails_quoting_history": quoting_share,
        "notes": [
            "fake Anthropic server answers instantly: ms_per_message is our overhead, not model latency",
            "the fake quotes the lead's latest history in a share of its emails; those answers are never reused",
            "cost uses the configured list prices in app/ai/cost.py and the fake's 4-chars-per-token estimate",
            "sends are written at 03:00 UTC, so every slot (send window 08-20) is hours away and may be batched",
            "the fake ends each batch when asked and reads batch requests from the prompt cache like direct ones;"
            " the real API's batch cache hits are best-effort, so the real cut can be smaller than measured",
            "cost per 1,000 messages covers both campaigns (cold and next-day warm)",
        ],
    }


def next_night(now: datetime) -> datetime:
    """The next 03:00 UTC: writing then puts every slot of the default send window hours away."""
    night = now.replace(hour=3, minute=0, second=0, microsecond=0)
    return night if night > now else night + timedelta(days=1)


def run_mode(
    database_url: str,
    redis_url: str,
    redis_db: int,
    *,
    batched: bool,
    write_at: datetime,
    sends: int,
    next_day: int,
    seed: int,
    quoting_share: float,
) -> dict[str, Any]:
    rng = random.Random(seed)
    fake_server = FakeAnthropic(writer=functools.partial(sometimes_quoting, share=quoting_share))
    with (
        scratch_database(database_url, "writer") as db_url,
        scratch_redis(redis_url, redis_db) as rd_url,
        fake_server as fake,
        pointed_at(db_url, rd_url, fake, batched=batched),
    ):
        engine = runtime.engine()
        tenants = [seed_business(engine, business) for business in BUSINESSES]
        seed_campaign(engine, rng, tenants, sends, days_ago=1)
        cold = drain(engine, fake, [t for t, _ in tenants], write_at)
        seed_campaign(engine, rng, tenants, next_day, days_ago=0)
        warm = drain(engine, fake, [t for t, _ in tenants], write_at)
        keys = distinct_keys(engine)
    written = cold["messages_written"] + warm["messages_written"]
    cost = cold["cost_usd"] + warm["cost_usd"]
    read = cold["tokens"]["tokens_cache_read"] + warm["tokens"]["tokens_cache_read"]
    fresh = cold["tokens"]["tokens_in"] + warm["tokens"]["tokens_in"]
    return {
        "cost_per_1000_messages_usd": round(1000 * cost / written, 6) if written else 0.0,
        "prompt_cache_read_share": round(read / (read + fresh), 4) if read + fresh else 0.0,
        "cold_campaign": cold,
        "next_day_campaign_warm_cache": warm,
        "distinct_cache_keys": keys,
    }


def sometimes_quoting(user_text: str, *, share: float) -> str:
    """The fake's usual draft, but a stable share of emails quote the lead's latest history line.

    Such an answer must stay with its lead (`cache.leftover_specifics`), and the measured share
    pays for every one of them.
    """
    reply = json.loads(written_reply(user_text))
    history = [line.split(": ", 1)[-1] for line in user_text.splitlines() if line.startswith("- ")]
    digest = int(hashlib.sha256(user_text.encode()).hexdigest()[:8], 16)
    if "subject" in reply and history and history[0] != "(nothing recorded)" and digest % 100 < share * 100:
        first, rest = reply["body"].split("\n\n", 1)
        reply["body"] = f"{first}\n\nYou mentioned: {history[0].rstrip('.')}.\n\n{rest}"
    return json.dumps(reply)


@contextlib.contextmanager
def pointed_at(database_url: str, redis_url: str, fake: FakeAnthropic, *, batched: bool) -> Iterator[None]:
    """The process's settings and runtime on the scratch servers, with a key for the fake."""
    names = (
        "DATABASE_URL",
        "REDIS_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_MODEL",
        "SECRET_KEY",
        "PUBLIC_BASE_URL",
        "ANTHROPIC_BATCH_WRITES",
    )
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        ANTHROPIC_API_KEY=fake.api_key,
        ANTHROPIC_BASE_URL=fake.url,
        ANTHROPIC_MODEL=MODEL,
        SECRET_KEY=PRODUCTION_SECRET_KEY,  # a provider key needs a random secret and https links
        PUBLIC_BASE_URL=PRODUCTION_BASE_URL,
        ANTHROPIC_BATCH_WRITES="true" if batched else "false",
    )
    runtime.reset_for_tests()
    assert get_settings().ai_mode == "claude"
    try:
        yield
    finally:
        runtime.engine().dispose()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        runtime.reset_for_tests()


def drain(engine: sa.Engine, fake: FakeAnthropic, tenant_ids: list[int], now: datetime) -> dict[str, Any]:
    """Run `write_due` batch by batch for every tenant until nothing is due, then the batch agent; measure it."""
    before_calls, before_ids = fake.call_count, max_generation_id(engine)
    before_requests = batch_requests(fake)
    started = time.perf_counter()
    batches = 0
    totals: dict[str, float] = {}
    pending = set(tenant_ids)
    while pending:
        for tenant_id in sorted(pending):
            report = write_due(tenant_id=tenant_id, limit=BATCH, now=now)
            batches += 1
            add(totals, report)
            if report["claimed"] == 0:
                pending.discard(tenant_id)
    rounds = drain_batches(fake, totals, now)
    seconds = time.perf_counter() - started
    calls = fake.call_count - before_calls + batch_requests(fake) - before_requests
    summary = summarise(engine, totals, seconds, batches, calls, before_ids)
    with engine.connect() as conn:
        left_open = conn.execute(sa.text("SELECT count(*) FROM ai_batch_requests WHERE status <> 'done'")).scalar_one()
    batching = {"batch_requests": batch_requests(fake) - before_requests, "batch_rounds": rounds}
    return summary | batching | {"batch_rows_left_open": int(left_open)}


def drain_batches(fake: FakeAnthropic, totals: dict[str, float], now: datetime) -> int:
    """Submit, let the fake end every batch, write the answers; again while waiters asked again."""
    for rounds in range(1, MAX_BATCH_ROUNDS + 1):
        add(totals, batch_writes.run(now=now))
        open_batches = [b.id for b in fake.batches.batches.values() if b.status == "in_progress"]
        if not open_batches:
            return rounds
        for batch_id in open_batches:
            fake.batches.end(batch_id)
        add(totals, batch_writes.run(now=now + timedelta(minutes=30)))
    return MAX_BATCH_ROUNDS


def batch_requests(fake: FakeAnthropic) -> int:
    return sum(len(batch.requests) for batch in fake.batches.batches.values())


def add(totals: dict[str, float], report: dict[str, Any]) -> None:
    for key, value in report.items():
        if isinstance(value, int | float):
            totals[key] = totals.get(key, 0) + value


def max_generation_id(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT COALESCE(max(id), 0) FROM ai_generations")).scalar_one())


def summarise(
    engine: sa.Engine, totals: dict[str, float], seconds: float, batches: int, calls: int, after_id: int
) -> dict[str, Any]:
    sql = """
        SELECT count(*) FILTER (WHERE model <> 'offline' AND NOT served_from_cache) AS with_call,
               COALESCE(sum(cost_usd), 0) AS cost,
               COALESCE(avg(cost_usd) FILTER (WHERE model <> 'offline' AND NOT served_from_cache), 0) AS cost_per_call
        FROM ai_generations WHERE id > :after
    """
    with engine.connect() as conn:
        row = conn.execute(sa.text(sql), {"after": after_id}).one()
    written = int(totals.get("written", 0))
    without_call = written - int(row.with_call)
    return {
        "messages_written": written,
        "share_without_api_call": round(without_call / written, 4) if written else 0.0,
        "by_source": {s: int(totals.get(s, 0)) for s in ("ai", "ai_cache", "offline", "template")},
        "canceled_unreachable": int(totals.get("canceled", 0)),
        "api_calls": calls,
        "cost_usd": round(float(row.cost), 6),
        "cost_usd_if_every_message_called": round(float(row.cost_per_call) * written, 6),
        "tokens": {k: int(totals.get(k, 0)) for k in ("tokens_in", "tokens_out", "tokens_cache_read")},
        "seconds": round(seconds, 3),
        "ms_per_message": round(1000 * seconds / written, 3) if written else None,
        "write_due_calls": batches,
    }


def distinct_keys(engine: sa.Engine) -> dict[str, int]:
    sql = """
        SELECT count(DISTINCT split_part(prompt_hash, ':', 1)) AS requests,
               count(*) FILTER (WHERE model <> 'offline' AND NOT served_from_cache
                                AND position(:marker IN prompt_hash) = 0) AS reusable_answers,
               count(*) FILTER (WHERE position(:marker IN prompt_hash) > 0 AND model <> 'offline') AS personal_answers
        FROM ai_generations
    """
    with engine.connect() as conn:
        row = conn.execute(sa.text(sql), {"marker": ":lead-"}).one()
    return {"request_keys": int(row.requests), "reusable_answers": int(row.reusable_answers),
            "answers_kept_personal": int(row.personal_answers)}  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
