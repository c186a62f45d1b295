"""Leads & scores: picking a lead shows its score part by part. The leads are built here with
known signals, and the breakdown each must show is worked out by hand from the scoring rules
documented in `app/domain/scoring.py` (nothing of the scoring code computes the expectation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.models import Activity, InboundMessage, Lead
from pages import session
from tests.app import factories
from tests.app.driver import open_page, pick_tenant, signed_in, truncate


@dataclass(frozen=True)
class Leads:
    now: dt.datetime  # the console's pinned clock
    warm: int
    cold: int


def _insert(conn: sa.Connection, model: type, **values: object) -> int:
    return int(conn.execute(sa.insert(model).values(**values).returning(model.id)).scalar_one())  # type: ignore[attr-defined]


def _lead(
    conn: sa.Connection, tenant: int, name: str, deal: int, silent_days: int, now: dt.datetime, **more: object
) -> int:
    return _insert(
        conn,
        Lead,
        tenant_id=tenant,
        external_id=name,
        first_name=name,
        last_name="Empty",
        email=f"{name.lower()}@empty.example",
        deal_value=Decimal(deal),
        last_activity_at=now - dt.timedelta(days=silent_days),
        **more,
    )


@pytest.fixture(scope="module")
def leads(engine: Engine) -> Iterator[Leads]:
    """In the otherwise empty tenant: deal values 1,000, 2,000, 2,800, 4,000, 5,000 and 0, so the
    80th percentile of the positive ones is at position 0.8 × (5 − 1) = 3.2 of the sorted five:
    4,000 + 0.2 × (5,000 − 4,000) = 4,200."""
    truncate(engine)
    world = factories.build(engine)
    tenant, now = world.tenants["empty"], world.now
    with engine.begin() as conn:
        for n, deal in enumerate((1000, 2000, 4000, 5000)):
            _lead(conn, tenant, f"Filler{n}", deal, 3, now)
        warm = _lead(conn, tenant, "Warm", 2800, 7, now, source="referral", stage="qualified")
        cold = _lead(conn, tenant, "Cold", 0, 70, now, source="cold_outbound", stage="new")
        for kind, days_ago in (
            ("open", 2),
            ("click", 3),
            ("click", 4),
            ("click", 5),
            ("form", 6),
            ("click", 31),  # outside the 30-day window
            ("page_view", 45),  # outside the 30-day window
        ):
            _insert(
                conn,
                Activity,
                tenant_id=tenant,
                lead_id=warm,
                kind=kind,
                channel="email",
                occurred_at=now - dt.timedelta(days=days_ago),
            )
        for lead, sentiment, days_ago in ((warm, "negative", 9), (warm, "positive", 8), (cold, "negative", 71)):
            _insert(
                conn,
                InboundMessage,
                tenant_id=tenant,
                lead_id=lead,
                channel="email",
                from_address="lead@empty.example",
                body="A reply",
                sentiment=sentiment,
                received_at=now - dt.timedelta(days=days_ago),
            )
    yield Leads(now=now, warm=warm, cold=cold)
    truncate(engine)


def breakdown_of(leads: Leads, lead_id: int) -> AppTest:
    at = pick_tenant(signed_in("boss@acme.example", factories.ADMIN_PASSWORD), "Empty Co")
    at.session_state[session.CLOCK] = leads.now
    at = open_page(at, "pages/lead_scores.py")
    at.selectbox(key="leads.breakdown").set_value(lead_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_parts(at: AppTest) -> list[tuple[str, int, str]]:
    parts = at.dataframe[1].value
    return [(str(p), int(n), str(w)) for p, n, w in zip(parts["part"], parts["points"], parts["why"], strict=True)]


def test_a_warm_lead_shows_each_part_worked_by_hand(leads: Leads) -> None:
    at = breakdown_of(leads, leads.warm)
    assert shown_parts(at) == [
        # 30 × 0.5 ** (7 / 7) = 15
        ("recency", 15, "last activity 7.0 days ago (half-life 7 days)"),
        # in 30 days: 1 open, 3 clicks, 1 form (the click of day 31 and the page view of day 45 are out):
        # 1 × log2(1 + 1) + 4 × log2(1 + 3) + 6 × log2(1 + 1) = 1 + 8 + 6 = 15 (under the cap of 30)
        ("engagement", 15, "1 opens, 3 clicks, 1 forms in 30 days"),
        # the latest reply (8 days ago) was positive: +10; the negative one before it does not count
        ("sentiment", 10, "latest reply was positive"),
        # 2,800 ÷ 4,200 = 2/3 of the top-fifth mark: 15 × 2/3 = 10
        ("value", 10, "deal 2,800 is 67% of the account's top-fifth mark"),
        ("source", 8, "came from referral"),  # referral: 8
        ("stage", 4, "at stage qualified"),  # qualified: 4
    ]
    # 15 + 15 + 10 + 10 + 8 + 4 = 62
    assert any(c.value == "Score now: 62 of 100 (recomputed from the lead's signals)" for c in at.caption)


def test_a_negative_reply_is_floored_at_zero(leads: Leads) -> None:
    at = breakdown_of(leads, leads.cold)
    assert shown_parts(at) == [
        # 30 × 0.5 ** (70 / 7) = 30 / 1024 ≈ 0.03, rounds to 0
        ("recency", 0, "last activity 70.0 days ago (half-life 7 days)"),
        ("engagement", 0, "no engagement in 30 days"),
        ("sentiment", -15, "latest reply was negative"),
        # 0 ÷ 4,200 = 0 %
        ("value", 0, "deal 0 is 0% of the account's top-fifth mark"),
        ("source", 1, "came from cold outbound"),  # cold_outbound: 1
        ("stage", 1, "at stage new"),  # new: 1
        # 0 + 0 − 15 + 0 + 1 + 1 = −13: the floor adds 13
        ("floor", 13, "a score never goes below 0"),
    ]
    assert any(c.value == "Score now: 0 of 100 (recomputed from the lead's signals)" for c in at.caption)
