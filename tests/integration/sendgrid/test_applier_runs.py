"""An applier run: batches of deliveries, one transaction each, until none wait; a run that stops
with deliveries still waiting (its batch count or time budget spent) asks for the next run itself."""

from __future__ import annotations

import redis
from fastapi.testclient import TestClient
from rq import Queue
from sqlalchemy import Engine

from app.services import webhook_apply
from tests.integration.sendgrid.scene import T0, Scene, deliveries, post, work
from tests.sendgrid_signing import SigningKey


def post_each(client: TestClient, key: SigningKey, s: Scene, count: int) -> None:
    for i in range(count):
        assert post(client, key, [s.ev(0, "open", T0 + i)]).status_code == 200


def test_a_run_applies_batch_after_batch_until_none_wait(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient
) -> None:
    s = Scene(db, 1)
    post_each(client, key, s, 25)

    totals = webhook_apply.apply_pending(batch=10)

    assert totals == {"deliveries": 25, "events": 25, "applied": 25, "duplicates": 0, "unmatched": 0, "ignored": 0}
    assert {r.result for r in deliveries(db)} == {"applied"}


def test_a_run_out_of_time_leaves_the_rest_waiting_and_queues_the_next_run(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient
) -> None:
    s = Scene(db, 1)
    post_each(client, key, s, 25)
    Queue("high", connection=redis_conn).empty()  # the run the posts asked for is this call

    totals = webhook_apply.apply_pending(batch=10, budget_seconds=0)

    assert totals["deliveries"] == 10, "one batch, then the budget is spent"
    assert [r.result for r in deliveries(db)].count("received") == 15
    assert Queue("high", connection=redis_conn).count == 1, "the next run is queued"
    work(redis_conn)
    assert {r.result for r in deliveries(db)} == {"applied"}


def test_a_run_out_of_batches_queues_the_next_run(
    db: Engine, redis_conn: redis.Redis, key: SigningKey, client: TestClient
) -> None:
    s = Scene(db, 1)
    post_each(client, key, s, 3)
    Queue("high", connection=redis_conn).empty()

    totals = webhook_apply.apply_pending(batch=1, max_batches=2)

    assert totals["deliveries"] == 2
    assert Queue("high", connection=redis_conn).count == 1
    work(redis_conn)
    assert [r.applied_count for r in deliveries(db)] == [1, 1, 1]
