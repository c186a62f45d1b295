"""The writer bench's world: two businesses of different kinds, their leads, histories and due sends.

The leads are drawn per tenant the way one business's leads look: a handful of dominant
sources, a typical deal size (log-normal around the business's median), most leads early in
the pipeline, recent silence for rung 1 with a backlog tail, and a last activity that is
usually a form, a call or an email.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from db.models import Activity, Campaign, Enrollment, Lead, ScheduledAction, Tenant


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
