"""Intent scores on real PostgreSQL: the set-based recompute agrees with the domain, new
activity raises a score through the job, and other tenants are never touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis
import sqlalchemy as sa
from rq import Queue
from sqlalchemy import Engine

from agents import scorer
from app.domain.scoring import Signals, score
from app.services import score_requests, scoring
from app.services.activities import record_activity
from db.models import Activity, InboundMessage, Lead, Tenant

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def world(clean_db: Engine, redis_conn: redis.Redis) -> dict[str, int]:
    ids: dict[str, int] = {}
    with clean_db.begin() as conn:
        for slug in ("acme", "birch"):
            ids[slug] = conn.execute(sa.insert(Tenant).values(slug=slug, name=slug).returning(Tenant.id)).scalar_one()

        def lead(tenant: str, n: int, days: float, value: int, **fields: object) -> int:
            return int(
                conn.execute(
                    sa.insert(Lead)
                    .values(
                        tenant_id=ids[tenant],
                        external_id=f"{tenant}-{n}",
                        first_name=f"L{n}",
                        last_activity_at=NOW - timedelta(days=days),
                        deal_value=Decimal(value),
                        intent_score=50,
                        **fields,
                    )
                    .returning(Lead.id)
                ).scalar_one()
            )

        ids["hot"] = lead("acme", 1, 1, 1000, source="referral", stage="proposal")
        ids["cold"] = lead("acme", 2, 40, 200, source="meta_ads", stage="new")
        for n in range(3, 8):
            lead("acme", n, 10, 100 * n)
        ids["other"] = lead("birch", 1, 1, 5000, source="referral")
        acts = [("click", 2), ("click", 3), ("form", 5), ("email_in", 1), ("click", 45)]
        conn.execute(
            sa.insert(Activity),
            [
                {"tenant_id": ids["acme"], "lead_id": ids["hot"], "kind": k, "occurred_at": NOW - timedelta(days=d)}
                for k, d in acts
            ],
        )
        conn.execute(
            sa.insert(InboundMessage).values(
                tenant_id=ids["acme"],
                lead_id=ids["hot"],
                channel="email",
                from_address="a@b.c",
                body="yes",
                sentiment="positive",
                received_at=NOW - timedelta(days=1),
            )
        )
    return ids


def stored(engine: Engine, lead_id: int) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT intent_score FROM leads WHERE id = :id"), {"id": lead_id}).scalar_one())


def test_recompute_writes_what_the_domain_computes(clean_db: Engine, world: dict[str, int]) -> None:
    changed = scoring.recompute_scores(tenant_id=world["acme"], now=NOW)
    p80 = 680.0  # acme: 200, 300..700, 1000; percentile_cont(0.8) = 600 + 0.8 × (700 - 600)
    hot = score(
        Signals(
            days_silent=1,
            clicks=2,
            forms=1,
            replies=1,
            sentiment="positive",
            deal_value=1000,
            deal_value_p80=p80,
            source="referral",
            stage="proposal",
        )
    )
    cold = score(Signals(days_silent=40, deal_value=200, deal_value_p80=p80, source="meta_ads", stage="new"))
    assert stored(clean_db, world["hot"]) == hot.total
    assert stored(clean_db, world["cold"]) == cold.total
    assert changed >= 2
    assert scoring.score_breakdown(tenant_id=world["acme"], lead_id=world["hot"], now=NOW) == hot
    assert stored(clean_db, world["other"]) == 50  # another tenant is untouched
    assert scoring.recompute_scores(tenant_id=world["acme"], now=NOW) == 0  # nothing changed, nothing written


def test_a_new_click_raises_the_score_through_the_job(
    clean_db: Engine, world: dict[str, int], redis_conn: redis.Redis
) -> None:
    lead = world["cold"]
    scorer.recompute_scores(world["acme"], [lead])
    before = stored(clean_db, lead)
    record_activity(tenant_id=world["acme"], lead_id=lead, kind="click", occurred_at=datetime.now(UTC))
    jobs = Queue("low", connection=redis_conn).jobs
    assert [(j.func_name, j.kwargs) for j in jobs] == [("agents.scorer.rescore_pending", {"tenant_id": world["acme"]})]
    counts = jobs[0].func(**jobs[0].kwargs)
    assert counts == {"leads": 1, "changed": 1}
    assert stored(clean_db, lead) > before
    assert stored(clean_db, world["other"]) == 50


def test_a_burst_of_activity_makes_one_job_per_tenant(
    clean_db: Engine, world: dict[str, int], redis_conn: redis.Redis
) -> None:
    at = datetime.now(UTC)
    for lead in (world["hot"], world["cold"], world["hot"]):
        record_activity(tenant_id=world["acme"], lead_id=lead, kind="page_view", occurred_at=at)
    record_activity(tenant_id=world["birch"], lead_id=world["other"], kind="page_view", occurred_at=at)
    jobs = Queue("low", connection=redis_conn).jobs
    assert sorted(j.kwargs["tenant_id"] for j in jobs) == sorted([world["acme"], world["birch"]])
    assert score_requests.take_pending(redis_conn, tenant_id=world["acme"]) == sorted([world["hot"], world["cold"]])


def test_a_request_during_a_drain_is_never_lost(world: dict[str, int], redis_conn: redis.Redis) -> None:
    tenant = world["acme"]
    assert score_requests.request_rescore(redis_conn, tenant_id=tenant, lead_ids=[1])
    assert not score_requests.request_rescore(redis_conn, tenant_id=tenant, lead_ids=[2]), "one job is on its way"
    assert score_requests.take_pending(redis_conn, tenant_id=tenant) == [1, 2]
    # After the drain the flag is gone: the next request enqueues the next job, and keeps its lead.
    assert score_requests.request_rescore(redis_conn, tenant_id=tenant, lead_ids=[3])
    assert score_requests.take_pending(redis_conn, tenant_id=tenant) == [3]
    assert score_requests.take_pending(redis_conn, tenant_id=tenant) == []
    assert scorer.rescore_pending(tenant) == {"leads": 0}


def test_unknown_lead_has_no_breakdown(clean_db: Engine, world: dict[str, int]) -> None:
    with pytest.raises(LookupError):
        scoring.score_breakdown(tenant_id=world["birch"], lead_id=world["hot"])
