"""The businesses of the demo and the few rows each one has: operators, templates, campaigns.

These are tens of rows, so they are plain Python and plain INSERTs; what they decide (who the
reps are, when each campaign ran, which ladder a tenant climbs) steers the millions of rows
generated column-wise in `leads` and `journey`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from . import vocab
from .columns import DAY

HISTORY_DAYS = 90
LEAD_HISTORY_DAYS = 150  # the CRM is older than the engine: its first leads arrived this long ago
RUNNING_SINCE_DAYS = 30
LADDER_HOURS = (24, 48, 72)
HOLDOUT_PERCENT = 10
SEND_WINDOW = (8, 20)
AUDIENCE_PERCENTILE_Z = -0.524  # z of the 30th percentile: the cheapest 30 % of deals are not chased
# What a demo business pays a month for the platform and its seats (the admin, the manager and
# each rep), whatever it sends: $1,500 for the smallest team, at most $4,000. Stored where the
# ROI page's price form keeps it (app/domain/pricing.FIXED_COST_KEY, restated: db/ imports no app/).
FIXED_COST_KEY = "fixed_monthly_cost"
PLATFORM_MONTHLY = 900
SEAT_MONTHLY = 120
FIXED_MONTHLY_CAP = 4000


@dataclass(frozen=True)
class CampaignPlan:
    """One campaign of a tenant and the window of silence episodes it handled."""

    name: str
    status: str
    starts_s: int
    ends_s: int | None
    kind: str = "recovery"


@dataclass
class TenantPlan:
    """A tenant before it has ids: its identity, its rules and its share of the leads."""

    index: int
    slug: str
    name: str
    industry: str
    region: str
    timezone: str
    sender_name: str
    sender_first: str
    sender_phone: str
    physical_address: str
    leads: int
    campaigns: list[CampaignPlan]
    reps: list[tuple[str, str]] = field(default_factory=list)
    ladder_hours: tuple[int, ...] = LADDER_HOURS

    @property
    def min_deal_value(self) -> int:
        """The recovery campaigns' audience floor: about the 30th percentile of the tenant's deals."""
        industry = vocab.INDUSTRIES[self.industry]
        floor = industry.deal_median * math.exp(AUDIENCE_PERCENTILE_Z * industry.deal_sigma)
        step = industry.deal_step * 10
        return int(round(floor / step) * step)

    @property
    def fixed_monthly_cost(self) -> int:
        """Platform plus seats (admin, manager, reps), capped: $1,500 for 3 reps up to $4,000."""
        seats = len(self.reps) + 2
        return min(FIXED_MONTHLY_CAP, PLATFORM_MONTHLY + SEAT_MONTHLY * seats)

    @property
    def sender_email(self) -> str:
        return f"{self.sender_first.lower()}@{self.slug}.example"

    @property
    def demo_email(self) -> str:
        return f"demo@{self.slug}.example"


def demo_slugs(tenants: int) -> list[str]:
    """The slugs a seed of `tenants` tenants creates; they depend on nothing else."""
    return [name_and_slug(index)[1] for index in range(tenants)]


def name_and_slug(index: int) -> tuple[str, str]:
    if index < len(vocab.DEMO_BUSINESSES):
        business = vocab.DEMO_BUSINESSES[index]
        return business.name, business.slug
    k = index - len(vocab.DEMO_BUSINESSES)
    industry = _generated_industry(k)
    head = vocab.GENERATED_NAME_HEADS[k % len(vocab.GENERATED_NAME_HEADS)]
    tails = vocab.GENERATED_NAME_TAILS[industry]
    name = f"{head} {tails[(k // len(vocab.GENERATED_INDUSTRIES)) % len(tails)]}"
    return name, f"{slugify(name)}-{index + 1}"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("&", "and")).strip("-")


def _generated_industry(k: int) -> str:
    return vocab.GENERATED_INDUSTRIES[k % len(vocab.GENERATED_INDUSTRIES)]


def plan_tenants(tenants: int, leads: int, seed: int, anchor: datetime) -> list[TenantPlan]:
    """Every tenant with its leads share, reps and campaign windows."""
    rng = np.random.default_rng([seed, 1])
    shares = _lead_shares(tenants, leads)
    return [_plan_one(index, int(shares[index]), rng, anchor) for index in range(tenants)]


def _lead_shares(tenants: int, leads: int) -> np.ndarray:
    base = np.full(tenants, leads // tenants, dtype=np.int64)
    base[: leads % tenants] += 1
    return base


def _plan_one(index: int, leads: int, rng: np.random.Generator, anchor: datetime) -> TenantPlan:
    name, slug = name_and_slug(index)
    if index < len(vocab.DEMO_BUSINESSES):
        b = vocab.DEMO_BUSINESSES[index]
        industry, region, zone = b.industry, b.region, b.timezone
        sender_name, sender_first, phone, address = b.sender_name, b.sender_first, b.sender_phone, b.physical_address
    else:
        k = index - len(vocab.DEMO_BUSINESSES)
        industry = _generated_industry(k)
        region = vocab.GENERATED_REGIONS[k % len(vocab.GENERATED_REGIONS)]
        zone, city, area = vocab.REGION_HOME[region]
        sender_first = vocab.FIRST_NAMES[int(rng.integers(0, 60))]
        sender_last = vocab.LAST_NAMES[int(rng.integers(0, 60))]
        sender_name = f"{sender_first} {sender_last}, {name}"
        phone = f"+1{area}555{int(rng.integers(100, 200)):04d}"
        address = f"{int(rng.integers(10, 2000))} Main St, {city}"
    plan = TenantPlan(
        index=index,
        slug=slug,
        name=name,
        industry=industry,
        region=region,
        timezone=zone,
        sender_name=sender_name,
        sender_first=sender_first,
        sender_phone=phone,
        physical_address=address,
        leads=leads,
        campaigns=_campaigns(anchor, completed=1 + (index % 2 == 0)),
    )
    plan.reps = _reps(plan, rng)
    return plan


def _campaigns(anchor: datetime, completed: int) -> list[CampaignPlan]:
    """Past win-back campaigns cover the older silence episodes, the running one the last month."""
    a = int(anchor.timestamp())
    start = a - HISTORY_DAYS * DAY
    running_from = a - RUNNING_SINCE_DAYS * DAY
    step = (running_from - start) // completed
    past = []
    for number in range(completed):
        begins = start + number * step
        label = datetime.fromtimestamp(begins + 15 * DAY, anchor.tzinfo).strftime("%B %Y")
        past.append(CampaignPlan(f"Win-back {label}", "completed", begins, begins + step))
    running = CampaignPlan("Silent-lead recovery", "running", running_from, None)
    return [*past, running]


def _reps(plan: TenantPlan, rng: np.random.Generator) -> list[tuple[str, str]]:
    count = int(np.clip(plan.leads // vocab.LEADS_PER_REP, vocab.REP_COUNT_MIN, vocab.REP_COUNT_MAX))
    firsts = rng.choice(len(vocab.FIRST_NAMES), size=count, replace=False)
    lasts = rng.choice(len(vocab.LAST_NAMES), size=count, replace=False)
    people = []
    for f, last in zip(firsts, lasts, strict=True):
        first, surname = vocab.FIRST_NAMES[int(f)], vocab.LAST_NAMES[int(last)]
        email = f"{first.lower()}.{re.sub('[^a-z]', '', surname.lower())}@{plan.slug}.example"
        people.append((f"{first} {surname}", email))
    return people


def tenant_row(plan: TenantPlan) -> dict[str, Any]:
    industry = vocab.INDUSTRIES[plan.industry]
    return {
        "slug": plan.slug,
        "name": plan.name,
        "timezone": plan.timezone,
        "silence_ladder_hours": list(plan.ladder_hours),
        "holdout_percent": HOLDOUT_PERCENT,
        "send_window_start_hour": SEND_WINDOW[0],
        "send_window_end_hour": SEND_WINDOW[1],
        "sender_name": plan.sender_name,
        "sender_email": plan.sender_email,
        "sender_phone": plan.sender_phone,
        "physical_address": plan.physical_address,
        "monthly_budget": 500 + 250 * (plan.leads // 10_000),
        "ai_monthly_budget": 150 + 50 * (plan.leads // 10_000),
        "settings": {
            "industry": plan.industry,
            "industry_label": industry.label,
            "currency": "USD",
            "demo": True,
            FIXED_COST_KEY: str(plan.fixed_monthly_cost),
        },
    }


def recovery_plan(plan: TenantPlan, starts_s: int) -> dict[str, Any]:
    """The campaign plan (DESIGN §6): email, then SMS, then a last email, a rung apart."""
    ladder = plan.ladder_hours

    def send(rung: int, channel: str, fallback: str) -> dict[str, Any]:
        return {
            "id": f"rung-{rung}",
            "kind": "send",
            "channel": channel,
            "fallback_channel": fallback,
            "brief": vocab.TEMPLATE_NAMES[rung],
            "variants": [{"name": "A", "weight": 50}, {"name": "B", "weight": 50}],
            "transitions": [
                {"on": "replied", "to": "stop"},
                {"on": "unsubscribed", "to": "stop"},
                {"on": "bounced", "to": f"rung-{rung + 1}" if rung < len(ladder) else "stop"},
                {
                    "on": "no_reply",
                    "to": f"rung-{rung + 1}" if rung < len(ladder) else "stop",
                    "after": f"PT{ladder[rung] - ladder[rung - 1]}H" if rung < len(ladder) else "P4D",
                },
            ],
        }

    return {
        "version": 1,
        "timezone": plan.timezone,
        "quiet_hours": {"start": 21, "end": 8},
        "send_window": {"start": SEND_WINDOW[0], "end": SEND_WINDOW[1]},
        "start": _utc(starts_s).isoformat(),
        "nodes": [
            send(1, "email", "sms"),
            send(2, "sms", "email"),
            send(3, "email", "sms"),
            {"id": "stop", "kind": "stop"},
        ],
    }


def campaign_row(plan: TenantPlan, campaign: CampaignPlan) -> dict[str, Any]:
    ladder = ", ".join(f"{hours} h" for hours in plan.ladder_hours)
    return {
        "name": campaign.name,
        "kind": campaign.kind,
        "status": campaign.status,
        "channel": None,
        "audience": {
            "silent_for_hours": list(plan.ladder_hours),
            "states": ["active", "silent"],
            "description": ladder,
        },
        "plan": recovery_plan(plan, campaign.starts_s),
        "plan_version": 1,
        "starts_at": _utc(campaign.starts_s),
        "ends_at": None if campaign.ends_s is None else _utc(campaign.ends_s),
        "quiet_hours": {"sms": {"start": 21, "end": 8}},
        "budget": 300 + plan.leads // 100,
        "goal": "Win back quiet leads: replies and recovered deals",
        "variants": {"A": {"weight": 50, "tone": "friendly check-in"}, "B": {"weight": 50, "tone": "direct question"}},
        "created_at": _utc(campaign.starts_s - 2 * DAY),
    }


def draft_campaign_row(plan: TenantPlan, anchor_s: int) -> dict[str, Any]:
    return {
        "name": "Spring referral drive",
        "kind": "sequence",
        "status": "draft",
        "channel": "email",
        "audience": {"states": ["recovered"], "min_deal_value": 1000},
        "plan": {"version": 1, "timezone": plan.timezone, "nodes": []},
        "plan_version": 1,
        "starts_at": None,
        "ends_at": None,
        "quiet_hours": {},
        "budget": 200,
        "goal": "Ask recovered customers for referrals",
        "variants": {},
        "created_at": _utc(anchor_s - 3 * DAY),
    }


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def template_rows(plan: TenantPlan, anchor_s: int) -> list[dict[str, Any]]:
    """Six templates (three rungs × two channels), each with an older and a current version."""
    rows = []
    for rung, name in vocab.TEMPLATE_NAMES.items():
        for channel in ("email", "sms"):
            bodies = vocab.EMAIL_BODIES[rung] if channel == "email" else vocab.SMS_BODIES[rung]
            subjects = vocab.EMAIL_SUBJECTS[rung] if channel == "email" else (None, None)
            versions = []
            for version in (1, 2):
                subject = subjects[version - 1]
                versions.append(
                    {
                        "version": version,
                        "subject": None if subject is None else as_template(subject),
                        "body": as_template(bodies[version - 1]),
                        "variables": ["first_name", "topic", "sender_first_name"],
                        "created_at": _utc(anchor_s - (120 - 40 * version) * DAY),
                    }
                )
            rows.append({"name": name, "channel": channel, "current_version": 2, "rung": rung, "versions": versions})
    return rows


def as_template(text: str) -> str:
    """Our vocab's {slots} as the {{variables}} of app/domain/templates."""
    return (
        text.replace("{first}", "{{first_name}}")
        .replace("{topic}", "{{topic}}")
        .replace("{sender}", "{{sender_first_name}}")
    )


# What `app.services.agent_runs.fail_abandoned` writes for a run whose worker died: an error the
# product really records, for the one failure of the demo's history.
ABANDONED_ERROR = "abandoned: the worker stopped before the run finished"
AGENT_RUNS_PER_TENANT = 12


def agent_run_rows(
    plan: TenantPlan, anchor_s: int, rng: np.random.Generator, agents: Sequence[str]
) -> list[dict[str, Any]]:
    """A day of past jobs of `agents` (the product's, named by the caller), one failure among
    them, as the Agents page would show; none when no agent is named."""
    rows: list[dict[str, Any]] = []
    if not agents:
        return rows
    for number in range(AGENT_RUNS_PER_TENANT):
        agent = agents[number % len(agents)]
        started = anchor_s - (number + 1) * 2 * 3600 + int(rng.integers(0, 600))
        seconds = float(rng.uniform(0.2, 9.0))
        failed = number == 7
        rows.append(
            {
                "job_id": f"demo:{plan.slug}:{agent}:{number}",
                "agent": agent,
                "status": "failed" if failed else "succeeded",
                "counts": {"processed": int(rng.integers(0, 400))},
                "error": ABANDONED_ERROR if failed else None,
                "started_at": _utc(started),
                "finished_at": _utc(started + int(seconds) + 1),
                "host": "demo-worker-1",
                "created_at": _utc(started),
            }
        )
    return rows
