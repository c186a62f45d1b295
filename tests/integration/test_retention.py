"""The retention agent through a real RQ worker: a tenant's leads closed for longer than its
`retention_days` are anonymised, nothing else is, and running the job again changes nothing."""

from __future__ import annotations

import pytest
import redis
from rq import SimpleWorker
from sqlalchemy import Engine

from app import queue
from tests.integration.outbox import make_tenant
from tests.integration.privacy_world import one, sql


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def lead(
    engine: Engine, tenant_id: int, name: str, state: str, days_ago: int, contacted_days_ago: int | None = None
) -> int:
    """A lead whose last activity was `days_ago` days ago, with its own unmistakable email."""
    return int(
        one(
            engine,
            """INSERT INTO leads (tenant_id, external_id, first_name, last_name, email, phone, recovery_state,
                                  last_activity_at, last_contacted_at, recovered_at)
               VALUES (:t, :name, :name, 'Keepsake', lower(:name) || '@example.org', NULL, :state,
                       now() - make_interval(days => :days),
                       now() - make_interval(days => CAST(:contacted AS int)),
                       CASE WHEN :state = 'recovered' THEN now() - make_interval(days => :days) END)
               RETURNING id""",
            t=tenant_id,
            name=name,
            state=state,
            days=days_ago,
            contacted=contacted_days_ago,
        )
    )


def run_job(connection: redis.Redis) -> None:
    queue.enqueue(connection, "anonymise_expired")
    SimpleWorker(queue.QUEUES, connection=connection).work(burst=True)


def test_closed_leads_past_the_tenants_period_are_anonymised_once(db: Engine, redis_conn: redis.Redis) -> None:
    acme = make_tenant(db, retention_days=30)
    keeps_all = make_tenant(db, slug="birch")  # retention_days NULL: kept for good
    expired = [lead(db, acme, "Oldwon", "recovered", 40), lead(db, acme, "Oldlost", "lost", 31)]
    kept = [
        lead(db, acme, "Fresh", "recovered", 10),  # closed 10 days ago
        lead(db, acme, "Openold", "silent", 100),  # old, but not closed
        lead(db, acme, "Touched", "lost", 40, contacted_days_ago=5),  # written to 5 days ago
        lead(db, keeps_all, "Forever", "lost", 400),
    ]
    sql(
        db,
        """INSERT INTO conversions (tenant_id, lead_id, value, method, converted_at)
           VALUES (:t, :l, 800, 'ai', now() - interval '40 days')""",
        t=acme,
        l=expired[0],
    )
    sql(
        db,
        """INSERT INTO activities (tenant_id, lead_id, kind, occurred_at, summary)
           SELECT tenant_id, id, 'note', last_activity_at, 'Spoke with ' || first_name FROM leads""",
    )

    run_job(redis_conn)

    rows = sql(db, "SELECT id, first_name, email, erased_at IS NOT NULL AS erased FROM leads ORDER BY id")
    assert [r.id for r in rows if r.erased] == expired
    assert all(r.first_name == "Erased" and r.email is None for r in rows if r.id in expired)
    assert [r.first_name for r in rows if r.id in kept] == ["Fresh", "Openold", "Touched", "Forever"]
    assert one(db, "SELECT count(*) FROM activities WHERE summary = ''") == 2
    assert one(db, "SELECT sum(value) FROM conversions") == 800
    # Retention is no objection to contact: no suppression is written.
    assert one(db, "SELECT count(*) FROM suppressions") == 0
    assert one(db, "SELECT counts FROM agent_runs WHERE agent = 'retention'") == {"anonymised": 2, "tenants": 1}

    stamps = sql(db, "SELECT id, erased_at, updated_at FROM leads ORDER BY id")
    run_job(redis_conn)

    assert sql(db, "SELECT id, erased_at, updated_at FROM leads ORDER BY id") == stamps
    assert sql(db, "SELECT counts FROM agent_runs WHERE agent = 'retention' ORDER BY id") == [
        ({"anonymised": 2, "tenants": 1},),
        ({"anonymised": 0, "tenants": 0},),
    ]
