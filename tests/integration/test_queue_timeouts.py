"""Jobs are enqueued with the timeout their work needs."""

from __future__ import annotations

import redis
from rq.job import Job

from app.queue import DEFAULT_JOB_TIMEOUT, JOB_TIMEOUTS, enqueue


def test_writer_gets_a_longer_timeout_than_the_default(redis_conn: redis.Redis) -> None:
    writer = Job.fetch(enqueue(redis_conn, "write_due", tenant_id=1), connection=redis_conn)
    heartbeat = Job.fetch(enqueue(redis_conn, "heartbeat"), connection=redis_conn)

    assert writer.timeout == JOB_TIMEOUTS["write_due"] > DEFAULT_JOB_TIMEOUT
    assert heartbeat.timeout == DEFAULT_JOB_TIMEOUT
