"""Agents through a real RQ worker on the test Redis, the job ledger, and `/healthz`."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from rq import Queue, SimpleWorker
from rq.job import JobStatus
from sqlalchemy import Engine

from app import queue
from app.api import create_app
from app.services import agent_runs, health
from app.web.health import current_health
from db.models import AgentRun, Tenant


def _runs(engine: Engine) -> list[AgentRun]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(AgentRun).order_by(AgentRun.id)).all()
    return [AgentRun(**row._mapping) for row in rows]


def _work(connection: redis.Redis) -> None:
    worker = SimpleWorker(queue.QUEUES, connection=connection)
    worker.work(burst=True)


@pytest.fixture
def two_tenants(clean_db: Engine) -> Engine:
    with clean_db.begin() as conn:
        conn.execute(sa.insert(Tenant), [{"slug": "acme", "name": "Acme"}, {"slug": "globex", "name": "Globex"}])
    return clean_db


def test_heartbeat_through_a_worker_writes_one_run(two_tenants: Engine, redis_conn: redis.Redis) -> None:
    job_id = queue.enqueue(redis_conn, "heartbeat", job_id="heartbeat-test-1")
    _work(redis_conn)

    assert Queue("low", connection=redis_conn).fetch_job(job_id).get_status() == JobStatus.FINISHED
    [run] = _runs(two_tenants)
    assert (run.job_id, run.agent, run.status, run.counts) == (job_id, "heartbeat", "succeeded", {"tenants": 2})
    assert run.finished_at is not None
    assert run.host == socket.gethostname()


def test_the_same_heartbeat_job_twice_leaves_one_row(two_tenants: Engine, redis_conn: redis.Redis) -> None:
    for _ in range(2):
        queue.enqueue(redis_conn, "heartbeat", job_id="heartbeat-twice")
        _work(redis_conn)

    runs = _runs(two_tenants)
    assert [(run.job_id, run.status) for run in runs] == [("heartbeat-twice", "succeeded")]


def test_start_run_is_idempotent_on_the_job_id(clean_db: Engine) -> None:
    first = agent_runs.start_run(job_id="job-a", agent="scanner")
    again = agent_runs.start_run(job_id="job-a", agent="scanner")
    assert first == again
    assert len(_runs(clean_db)) == 1


def test_tracked_run_records_counts(clean_db: Engine) -> None:
    with agent_runs.tracked_run(agent="scanner", job_id="job-ok") as counts:
        counts["enrolled"] = 12

    [run] = _runs(clean_db)
    assert (run.status, run.counts, run.error) == ("succeeded", {"enrolled": 12}, None)


def test_failing_tracked_run_records_the_error_and_reraises(clean_db: Engine) -> None:
    def send_three_then_fail() -> None:
        with agent_runs.tracked_run(agent="sender") as counts:
            counts["sent"] = 3
            raise RuntimeError("provider down")

    with pytest.raises(RuntimeError, match="provider down"):
        send_three_then_fail()

    [run] = _runs(clean_db)
    assert run.job_id.startswith("local-")  # outside RQ the ledger makes its own id
    assert (run.agent, run.status, run.counts) == ("sender", "failed", {"sent": 3})
    assert run.error == "RuntimeError: provider down"
    assert run.finished_at is not None


def test_failing_job_in_a_worker_is_failed_in_both_rq_and_the_ledger(clean_db: Engine, redis_conn: redis.Redis) -> None:
    job = Queue("default", connection=redis_conn).enqueue(_explode, job_id="explodes")
    _work(redis_conn)

    assert job.get_status() == JobStatus.FAILED
    [run] = _runs(clean_db)
    assert (run.job_id, run.status, run.error) == ("explodes", "failed", "ValueError: no such tenant")


def test_finish_without_start_is_refused(clean_db: Engine) -> None:
    with pytest.raises(LookupError, match="start_run"):
        agent_runs.finish_run(job_id="never-started", status="succeeded", counts={})


def _explode() -> None:
    """A job (module level, as RQ needs) whose tracked work fails."""
    with agent_runs.tracked_run(agent="exploder"):
        raise ValueError("no such tenant")


@pytest.fixture
def api_client() -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


def test_healthz_is_200_when_both_answer(api_client: TestClient) -> None:
    response = api_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["redis"]) == ("ok", "ok", "ok")
    assert body["version"] == health.app_version()


def test_healthz_is_503_when_the_database_is_down(redis_url: str) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres"
    api = create_app()
    api.dependency_overrides[current_health] = lambda: health.check(database_url=dead, redis_url=redis_url)
    with TestClient(api) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error"
    assert response.json()["redis"] == "ok"


def test_healthz_is_503_when_redis_is_down(database_url: str) -> None:
    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    api = create_app()
    api.dependency_overrides[current_health] = lambda: health.check(database_url=database_url, redis_url=dead)
    with TestClient(api) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert (response.json()["database"], response.json()["redis"]) == ("ok", "error")


def _closed_port() -> int:
    """A local port nothing listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
