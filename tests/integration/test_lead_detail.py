"""The call list and drawer reads on real PostgreSQL: the candidate cut, empty leads, zones, the insight cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from app.domain import priority
from app.services import demo
from app.services import insight as insight_service
from app.settings import get_settings
from db import lead_detail
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support import PRODUCTION_ENV, truncate_all


@pytest.fixture
def tenant(clean_db: Engine) -> Iterator[int]:
    demo.seed(tenants=1, leads=300, seed=3)
    with clean_db.connect() as conn:
        yield int(conn.execute(sa.text("SELECT id FROM tenants")).scalar_one())
    truncate_all(clean_db)


def ranked_in_python(engine: Engine, tenant_id: int, limit: int) -> list[int]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                """SELECT id, intent_score, deal_value, recovery_state,
                          extract(epoch FROM now() - last_activity_at) / 86400 AS days
                   FROM leads WHERE tenant_id = :t"""
            ),
            {"t": tenant_id},
        ).all()
    leads = [
        priority.Candidate(r.id, r.intent_score, float(r.deal_value), float(r.days), r.recovery_state) for r in found
    ]
    return [c.lead_id for c in priority.rank(leads, limit)]


def queue(engine: Engine, tenant_id: int, **options: int) -> list[int]:
    frame = lead_detail.priority_queue(
        engine,
        tenant_id,
        states=priority.QUEUED_STATES,
        half_life_days=priority.RECENCY_HALF_LIFE_DAYS,
        **options,
    )
    return [int(i) for i in frame["id"]]


def test_with_every_lead_a_candidate_the_queue_is_exact(engine: Engine, tenant: int) -> None:
    assert queue(engine, tenant, limit=25, candidates=1_000) == ranked_in_python(engine, tenant, 25)


def test_a_small_candidate_set_still_returns_queued_leads_best_first(engine: Engine, tenant: int) -> None:
    shown = lead_detail.priority_queue(
        engine, tenant, states=priority.QUEUED_STATES, half_life_days=14.0, limit=10, candidates=10
    )
    assert len(shown) == 10
    assert set(shown["state"]) <= set(priority.QUEUED_STATES)
    assert shown["priority"].tolist() == sorted(shown["priority"], reverse=True)
    # The best score of the queued states is always a candidate, so the top is never worse than its priority.
    with engine.connect() as conn:
        best = conn.execute(
            sa.text(
                """SELECT id FROM leads WHERE tenant_id = :t AND recovery_state = ANY(:s)
                   ORDER BY intent_score DESC LIMIT 1"""
            ),
            {"t": tenant, "s": list(priority.QUEUED_STATES)},
        ).scalar_one()
    full = lead_detail.priority_queue(
        engine, tenant, states=priority.QUEUED_STATES, half_life_days=14.0, limit=300, candidates=300
    )
    assert shown["priority"].iloc[0] >= float(full.loc[full["id"] == best, "priority"].iloc[0])
    with pytest.raises(ValueError, match="limit"):
        lead_detail.priority_queue(engine, tenant, states=("active",), half_life_days=14.0, limit=5, candidates=4)


def test_a_lead_with_no_history_has_an_empty_timeline_with_its_columns(engine: Engine, tenant: int) -> None:
    with engine.begin() as conn:
        lead_id = conn.execute(
            sa.text(
                """INSERT INTO leads (tenant_id, external_id, first_name, last_activity_at, timezone)
                   VALUES (:t, 'fresh-1', 'Nova', now(), 'Not/AZone') RETURNING id"""
            ),
            {"t": tenant},
        ).scalar_one()
        tenant_zone = conn.execute(sa.text("SELECT timezone FROM tenants WHERE id = :t"), {"t": tenant}).scalar_one()
    events = lead_detail.lead_timeline(engine, tenant, lead_id, zone="Not/AZone")
    assert events.empty
    assert list(events.columns) == ["at", "local_at", "kind", "what", "detail", "status"]
    header = lead_detail.lead_header(engine, tenant, lead_id)
    assert header is not None
    assert header.zone == lead_detail.shown_zone(tenant_zone)  # an unknown zone falls back to the tenant's
    assert lead_detail.lead_header(engine, tenant + 1, lead_id) is None, "another tenant's lead is not found"
    assert lead_detail.shown_zone("", None, "Nowhere/Else") == "UTC"


def test_stored_insight_prefers_the_first_hash(engine: Engine, tenant: int) -> None:
    with engine.begin() as conn:
        for model, hash_ in (("offline", "insight:a"), ("claude-x", "insight:b")):
            conn.execute(
                sa.text(
                    """INSERT INTO ai_generations (tenant_id, purpose, model, prompt_hash, output)
                       VALUES (:t, 'insight', :m, :h, '{}')"""
                ),
                {"t": tenant, "m": model, "h": hash_},
            )
    found = lead_detail.stored_insight(engine, tenant, ["insight:b", "insight:a"])
    assert found is not None
    assert found.model == "claude-x"
    assert lead_detail.stored_insight(engine, tenant, ["insight:none"]) is None
    assert lead_detail.stored_insight(engine, tenant + 1, ["insight:a"]) is None


def test_a_spent_ai_budget_writes_offline_without_calling_claude(
    engine: Engine, tenant: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
        for name, value in PRODUCTION_ENV.items():  # a real provider key needs them
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        get_settings.cache_clear()
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE tenants SET ai_monthly_budget = 1 WHERE id = :t"), {"t": tenant})
                conn.execute(
                    sa.text(
                        """INSERT INTO ai_generations (tenant_id, purpose, model, prompt_hash, output, cost_usd)
                           VALUES (:t, 'write', 'claude-x', 'spent', '{}', :c)"""
                    ),
                    {"t": tenant, "c": Decimal("1.5")},
                )
                lead_id = conn.execute(
                    sa.text("SELECT min(id) FROM leads WHERE tenant_id = :t"), {"t": tenant}
                ).scalar()
            written = insight_service.write_insight(tenant_id=tenant, lead_id=lead_id, operator_id=None)
        finally:
            get_settings.cache_clear()
        assert fake.call_count == 0
    assert written.source == "offline"
    assert written.note == "this month's AI budget is spent"
    with pytest.raises(LookupError):
        insight_service.write_insight(tenant_id=tenant, lead_id=-1, operator_id=None)


def test_facts_are_whole_days_so_the_key_holds_within_a_day(engine: Engine, tenant: int) -> None:
    last = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:  # a lead with no history: only its silence moves with the clock
        lead_id = conn.execute(
            sa.text(
                """INSERT INTO leads (tenant_id, external_id, first_name, last_activity_at)
                   VALUES (:t, 'quiet-1', 'Quinn', :at) RETURNING id"""
            ),
            {"t": tenant, "at": last},
        ).scalar_one()

    def facts(after: dt.timedelta) -> str:
        found = insight_service.insight_facts(tenant_id=tenant, lead_id=lead_id, now=last + after)
        assert found is not None
        return found.digest("offline")

    half_day = dt.timedelta(days=40, hours=12)
    assert facts(half_day) == facts(half_day + dt.timedelta(hours=1))
    assert facts(half_day) != facts(half_day + dt.timedelta(days=1))
