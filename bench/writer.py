"""`python -m bench.writer`: how many recovery messages our cache writes without calling Claude.

Target (DESIGN.md §8): at least 70 % of the messages of a realistic campaign need no API call.
The run seeds a scratch database (dropped afterwards) with two businesses of different kinds
and ~2,000 due sends between them, points the real anthropic SDK at the local fake server
(`tests/fakes/anthropic_server.py`) with a key set, and drains the sends through the real
`write_due` service in batches of 200, cold cache first. A second, smaller "next day" campaign
on the same tenants shows the warm-cache rate.

The leads are drawn per tenant the way one business's leads look: a handful of dominant
sources, a typical deal size (log-normal around the business's median), most leads early in
the pipeline, recent silence for rung 1 with a backlog tail, and a last activity that is
usually a form, a call or an email. Costs come from `app/ai/cost.py`'s configured list prices
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
import math
import os
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app import runtime
from app.services.write import write_due
from app.settings import get_settings, load_settings
from bench.scratch import scratch_database, scratch_redis
from db.models import Activity, Campaign, Enrollment, Lead, ScheduledAction, Tenant
from tests.fakes.anthropic_server import FakeAnthropic, written_reply
from tests.support import PRODUCTION_BASE_URL, PRODUCTION_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "writer.json"
TARGET_SHARE = 0.70
BENCH_REDIS_DB = 12
MODEL = "claude-sonnet-5-5"
BATCH = 200
# Emails in which the fake quotes the lead's history although the prompt asks for general terms:
# a pessimistic allowance for a real model's slips. Such answers are sent, never reused.
QUOTING_SHARE = 0.2


@dataclass(frozen=True)
class Business:
    slug: str
    name: str
    sender: str
    median_deal: int
    stages: dict[str, int]
    sources: dict[str, int]
    interests: tuple[str, ...]
    company_share: float
    phone_share: float
    sms_consent_share: float


BUSINESSES = (
    Business(
        "bright-homes",
        "Bright Homes",
        "Maya",
        median_deal=9_000,
        stages={"new": 35, "contacted": 30, "qualified": 15, "proposal": 15, "negotiation": 5},
        sources={"web form": 45, "google ads": 25, "referral": 15, "facebook ads": 10, "home show": 5},
        interests=(
            "roof repair",
            "kitchen remodel",
            "bathroom refit",
            "solar panels",
            "gutter cleaning",
            "window replacement",
            "loft conversion",
            "driveway paving",
        ),
        company_share=0.1,
        phone_share=0.8,
        sms_consent_share=0.6,
    ),
    Business(
        "northwind",
        "Northwind Software",
        "Alex",
        median_deal=15_000,
        stages={"new": 25, "contacted": 30, "qualified": 25, "proposal": 12, "negotiation": 8},
        sources={"website": 40, "webinar": 20, "referral": 15, "linkedin ads": 15, "outbound": 10},
        interests=("the analytics add-on", "a team plan", "the API tier", "onboarding support", "single sign-on"),
        company_share=0.95,
        phone_share=0.5,
        sms_consent_share=0.3,
    ),
)

LAST_KINDS = {
    "form": 30,
    "call": 14,
    "meeting": 5,
    "email_in": 16,
    "page_view": 15,
    "open": 12,
    "click": 5,
    "sms_in": 3,
}
SUMMARIES = {
    "form": ("Filled in the quote form about {interest}", "Requested a callback about {interest}"),
    "call": ("Call about {interest}: comparing options", "Spoke briefly, asked for a rough price on {interest}"),
    "meeting": ("Met to walk through {interest}", "Demo of {interest}, asked good questions"),
    "email_in": ("Asked when someone could take a look", "Replied: busy this month, will get back"),
    "page_view": ("Viewed the pricing page", "Read the {interest} guide"),
    "open": ("Opened the follow-up email", "Opened the brochure email"),
    "click": ("Clicked the case studies link", "Clicked through to the booking page"),
    "sms_in": ("Texted: can you call me later?", "Texted back a thumbs up"),
    "email_out": ("Sent the brochure", "Sent a follow-up"),
}
FIRST_NAMES = (
    *("Ana", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ida", "Jon", "Kai", "Lea", "Max", "Nia", "Oto", "Pia"),
    *("Raj", "Sam", "Tia", "Uma", "Vic", "Wes", "Xia", "Yan", "Zoe", "Amir", "Beth", "Carlos", "Dana", "Elena"),
    *("Farah", "Greg", "Hana", "Ivan", "Jade", "Kofi", "Lina", "Marco", "Nora", "Omar", "Priya", "Quinn", "Rosa"),
    *("Sven", "Tomas", "Ursula", "Vera", "Wanda", "Yusuf", "Zara"),
)
COMPANIES = ("Acme Corp", "Globex", "Initech", "Umbrella Logistics", "Hooli", "Vandelay Imports", "Stark Tools")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.writer", description=__doc__.split("\n")[0])
    parser.add_argument("--sends", type=int, default=2000, help="due sends in the cold campaign")
    parser.add_argument("--next-day", type=int, default=500, help="due sends in the warm follow-up campaign")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quoting-share", type=float, default=QUOTING_SHARE, help="emails that quote history")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    urls = runtime.resolve_urls(load_settings())
    try:
        result = run(
            urls.database_url,
            urls.redis_url,
            sends=args.sends,
            next_day=args.next_day,
            seed=args.seed,
            quoting_share=args.quoting_share,
        )
    finally:
        urls.stop_embedded()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["met"] else 1


def run(
    database_url: str, redis_url: str, *, sends: int, next_day: int, seed: int, quoting_share: float
) -> dict[str, Any]:
    rng = random.Random(seed)
    fake_server = FakeAnthropic(writer=functools.partial(sometimes_quoting, share=quoting_share))
    with (
        scratch_database(database_url, "writer") as db_url,
        scratch_redis(redis_url, BENCH_REDIS_DB) as rd_url,
        fake_server as fake,
        pointed_at(db_url, rd_url, fake),
    ):
        engine = runtime.engine()
        tenants = [seed_business(engine, business) for business in BUSINESSES]
        seed_campaign(engine, rng, tenants, sends, days_ago=1)
        cold = drain(engine, fake, [t for t, _ in tenants])
        seed_campaign(engine, rng, tenants, next_day, days_ago=0)
        warm = drain(engine, fake, [t for t, _ in tenants])
        keys = distinct_keys(engine)
    return {
        "target_share_without_api_call": TARGET_SHARE,
        "met": cold["share_without_api_call"] >= TARGET_SHARE,
        "model_priced_as": MODEL,
        "batch": BATCH,
        "tenants": len(BUSINESSES),
        "cold_campaign": cold,
        "next_day_campaign_warm_cache": warm,
        "distinct_cache_keys": keys,
        "seed": seed,
        "emails_quoting_history": quoting_share,
        "notes": [
            "fake Anthropic server answers instantly: ms_per_message is our overhead, not model latency",
            "the fake quotes the lead's latest history in a share of its emails; those answers are never reused",
            "cost uses the configured list prices in app/ai/cost.py and the fake's 4-chars-per-token estimate",
        ],
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
def pointed_at(database_url: str, redis_url: str, fake: FakeAnthropic) -> Iterator[None]:
    """The process's settings and runtime on the scratch servers, with a key for the fake."""
    names = (
        "DATABASE_URL",
        "REDIS_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_MODEL",
        "SECRET_KEY",
        "PUBLIC_BASE_URL",
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


def seed_business(engine: sa.Engine, business: Business) -> tuple[int, Business]:
    with engine.begin() as conn:
        tenant_id = conn.execute(
            sa.insert(Tenant).values(slug=business.slug, name=business.name, sender_name=business.sender)
            .returning(Tenant.id)
        ).scalar_one()  # fmt: skip
    return int(tenant_id), business


def seed_campaign(
    engine: sa.Engine, rng: random.Random, tenants: list[tuple[int, Business]], sends: int, days_ago: int
) -> None:
    """`sends` leads split between the tenants, each with history, an enrollment and a due send."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for index, (tenant_id, business) in enumerate(tenants):
            count = sends // len(tenants) + (1 if index < sends % len(tenants) else 0)
            campaign_id = conn.execute(
                sa.insert(Campaign).values(tenant_id=tenant_id, name=f"Recovery {now:%Y-%m-%d} -{days_ago}d",
                                           status="running").returning(Campaign.id)
            ).scalar_one()  # fmt: skip
            leads = [draw_lead(rng, business, tenant_id, now) for _ in range(count)]
            inserted = conn.execute(
                sa.insert(Lead).returning(Lead.id, sort_by_parameter_order=True), [lead for lead, _, _ in leads]
            )
            ids = [int(lead_id) for lead_id in inserted.scalars()]
            conn.execute(sa.insert(Activity), history(rng, business, tenant_id, ids, leads, now))
            enrollments = [
                {"tenant_id": tenant_id, "campaign_id": campaign_id, "lead_id": lead_id, "rung": rung,
                 "current_node": f"rung-{rung}"}
                for lead_id, (_, rung, _) in zip(ids, leads, strict=True)
            ]  # fmt: skip
            enrollment_ids = conn.execute(
                sa.insert(Enrollment).returning(Enrollment.id, sort_by_parameter_order=True), enrollments
            ).scalars().all()  # fmt: skip
            conn.execute(
                sa.insert(ScheduledAction),
                [
                    {"tenant_id": tenant_id, "enrollment_id": enrollment_id, "lead_id": e["lead_id"], "kind": "send",
                     "node": e["current_node"], "due_at": now - timedelta(minutes=1),
                     "dedupe_key": f"{tenant_id}:{campaign_id}:{e['lead_id']}:{e['current_node']}:send"}
                    for enrollment_id, e in zip(enrollment_ids, enrollments, strict=True)
                ],
            )  # fmt: skip
        conn.execute(sa.text("ANALYZE"))


def weighted(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def draw_lead(rng: random.Random, business: Business, tenant_id: int, now: datetime) -> tuple[dict[str, Any], int, str]:
    """One lead row, its rung and its last activity kind."""
    rung = rng.choices((1, 2, 3), weights=(60, 25, 15))[0]
    silent_days = {1: rng.choice((1, 1, 2, 2, 3)), 2: rng.randint(2, 10), 3: rng.randint(3, 45)}[rung]
    if rng.random() < 0.2:  # the backlog a first scan finds
        silent_days = rng.randint(4, 60)
    first = rng.choice(FIRST_NAMES)
    phone = f"+1555{rng.randint(0, 9_999_999):07d}" if rng.random() < business.phone_share else None
    lead = {
        "tenant_id": tenant_id,
        "external_id": uuid.UUID(int=rng.getrandbits(128)).hex,
        "first_name": first,
        "last_name": rng.choice(("Silva", "Chen", "Okafor", "Novak", "Haddad", "Lopez", "Berg")),
        "company": rng.choice(COMPANIES) if rng.random() < business.company_share else None,
        "email": f"{first.lower()}.{rng.getrandbits(24):06x}@example.com" if rng.random() < 0.95 else None,
        "phone": phone,
        "consent_email": rng.random() < 0.97,
        "consent_sms": phone is not None and rng.random() < business.sms_consent_share,
        "source": weighted(rng, business.sources),
        "stage": weighted(rng, business.stages),
        "deal_value": Decimal(round(business.median_deal * math.exp(rng.gauss(0, 0.6)), -2)),
        "attributes": {"interest": rng.choice(business.interests)} if rng.random() < 0.75 else {},
        "last_activity_at": now - timedelta(days=silent_days, hours=rng.randint(0, 20)),
        "recovery_state": "in_recovery",
        "silence_level": rung,
    }
    return lead, rung, weighted(rng, LAST_KINDS)


def history(
    rng: random.Random,
    business: Business,
    tenant_id: int,
    ids: list[int],
    leads: list[tuple[dict[str, Any], int, str]],
    now: datetime,
) -> list[dict[str, Any]]:
    """The last activity of each lead (its kind drawn above) and one to three older ones."""
    rows = []
    for lead_id, (lead, _, last_kind) in zip(ids, leads, strict=True):
        interest = lead["attributes"].get("interest", "our services")
        when = lead["last_activity_at"]
        kinds = [last_kind] + [weighted(rng, {**LAST_KINDS, "email_out": 20}) for _ in range(rng.randint(1, 3))]
        for step, kind in enumerate(kinds):
            summary = rng.choice(SUMMARIES[kind]).format(interest=interest)
            occurred = when - timedelta(days=step * rng.randint(1, 6))
            rows.append(
                {"tenant_id": tenant_id, "lead_id": lead_id, "kind": kind, "occurred_at": occurred, "summary": summary}
            )
    return rows


def drain(engine: sa.Engine, fake: FakeAnthropic, tenant_ids: list[int]) -> dict[str, Any]:
    """Run `write_due` batch by batch for every tenant until nothing is due; measure it."""
    before_calls, before_ids = fake.call_count, max_generation_id(engine)
    started = time.perf_counter()
    batches = 0
    totals: dict[str, float] = {}
    pending = set(tenant_ids)
    while pending:
        for tenant_id in sorted(pending):
            report = write_due(tenant_id=tenant_id, limit=BATCH)
            batches += 1
            for key, value in report.items():
                totals[key] = totals.get(key, 0) + value
            if report["claimed"] == 0:
                pending.discard(tenant_id)
    seconds = time.perf_counter() - started
    return summarise(engine, totals, seconds, batches, fake.call_count - before_calls, before_ids)


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
