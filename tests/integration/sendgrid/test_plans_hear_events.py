"""What a running plan hears from SendGrid's door: a click on rung 1's email, posted signed and
applied by a real worker, ends the episode (the recovery plan routes `clicked` to its stop) and
resets the lead's silence; when the lead goes quiet again the scan starts episode 2, whose rung 1
is a new message under a new key, never a second rung 1 in one episode.
"""

from __future__ import annotations

from datetime import timedelta

import redis
from fastapi.testclient import TestClient
from rq import Queue
from sqlalchemy import Engine

from app import queue
from app.services import campaign_run, scan
from app.services.write import write_due
from tests.integration.scan_world import make_lead, make_tenant
from tests.integration.sendgrid.scene import NOW, T0, ev, post, sql, work
from tests.sendgrid_signing import SigningKey

ENROLLED_AT = NOW - timedelta(hours=1)  # 14:00 UTC, inside the plan's 08:00-20:00 window


def test_a_click_ends_the_episode_and_a_later_silence_starts_the_next(
    db: Engine, key: SigningKey, client: TestClient, redis_conn: redis.Redis
) -> None:
    tenant = make_tenant(db)
    lead = make_lead(db, tenant, last_activity_at=ENROLLED_AT - timedelta(hours=30))
    campaign = scan.scan_tenant(tenant_id=tenant, now=ENROLLED_AT).campaign_id
    write_due(tenant_id=tenant, now=ENROLLED_AT)
    [message] = sql(db, "SELECT id, dedupe_key FROM outbound_messages")
    assert message.dedupe_key == f"{tenant}:{campaign}:{lead}:e1:rung-1:email"

    for name in queue.QUEUES:  # the sender the writer woke is not under test (it would send at the real time)
        Queue(name, connection=redis_conn).empty()
    clicked_at = T0 + 60
    assert (
        post(client, key, [ev(message.id, tenant, "click", clicked_at, url="https://acme.example/demo")]).status_code
        == 200
    )
    work(redis_conn)
    heard = campaign_run.fire_due(tenant_id=tenant, now=NOW)

    assert heard["fired"] == 1
    [enrollment] = sql(db, "SELECT status, current_node, episode FROM enrollments")
    assert tuple(enrollment) == ("stopped", "stop", 1)
    moves = [(r.from_node, r.to_node, r.event) for r in sql(db, "SELECT * FROM campaign_transitions ORDER BY id")]
    assert moves[-2:] == [("wait-1", "stop", "clicked"), ("stop", "stop", "stopped")]
    assert [r.status for r in sql(db, "SELECT status FROM scheduled_actions WHERE kind = 'wait'")] == ["canceled"]
    [reset] = sql(db, "SELECT silence_level, recovery_state, extract(epoch FROM last_activity_at) AS at FROM leads")
    assert (reset.silence_level, reset.recovery_state, int(reset.at)) == (0, "active", clicked_at)

    # Quiet again: 25 h after the click the lead crosses rung 1's 24 h once more.
    later = NOW + timedelta(hours=25)
    again = scan.scan_tenant(tenant_id=tenant, now=later)
    write_due(tenant_id=tenant, now=later)

    assert (again.eligible, again.enrolled, again.scheduled) == (1, 1, 1)
    [enrollment] = sql(db, "SELECT status, current_node, episode FROM enrollments")
    assert tuple(enrollment) == ("active", "wait-1", 2)
    keys = [r.dedupe_key for r in sql(db, "SELECT dedupe_key FROM outbound_messages ORDER BY id")]
    assert keys == [f"{tenant}:{campaign}:{lead}:e1:rung-1:email", f"{tenant}:{campaign}:{lead}:e2:rung-1:email"]
