"""Scheduled drafts through the Message Batches API, from the writer job to the outbox, against the fake.

The clock is injected: the tenant (UTC, send window 08-20, quiet 21-08) gets its due sends
written at 03:00, so their slot is 08:00, five hours away, and batching applies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from agents.batch_writer import write_batches
from app.services import batch_writes
from app.services.write import write_due
from app.settings import get_settings
from tests.fakes.anthropic_server import FakeAnthropic, written_reply
from tests.integration.writer_world import (
    MODEL,
    action_states,
    activity,
    campaign,
    db,
    due_send,
    generations,
    insert,
    lead,
    outbox,
    rows,
    tenant,
)
from tests.support import PRODUCTION_ENV

__all__ = ["db"]  # fixture used by name

NIGHT = datetime(2030, 1, 14, 3, 0, tzinfo=UTC)
SLOT = datetime(2030, 1, 14, 8, 0, tzinfo=UTC)


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    """A fake that never caches prompts, so a draft's cost is worked out from its tokens by hand."""
    with FakeAnthropic(cache_min_tokens=10**9) as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
        for name, value in PRODUCTION_ENV.items():  # a real provider key needs them
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("ANTHROPIC_MODEL", MODEL)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


def leads_due(engine: Engine, stages: list[str], **action: Any) -> int:
    """One tenant, one campaign, a due send per lead; leads of different stages ask different requests."""
    tenant_id = tenant(engine)
    campaign_id = campaign(engine, tenant_id)
    for n, stage in enumerate(stages):
        due_send(engine, tenant_id, campaign_id, lead(engine, tenant_id, f"Lead{n}", stage=stage), **action)
    return tenant_id


def requests(engine: Engine) -> list[sa.Row[Any]]:
    return rows(engine, "SELECT * FROM ai_batch_requests ORDER BY id")


def batch_id(fake: FakeAnthropic) -> str:
    [only] = fake.batches.batches
    return only


def half_price(generation: sa.Row[Any]) -> Decimal:
    """claude-sonnet-5-5 is $2 in and $10 out per million tokens; a batch pays half."""
    full = (Decimal(generation.tokens_in) * 2 + Decimal(generation.tokens_out) * 10) / 1_000_000
    return (full / 2).quantize(Decimal("0.000001"))


def test_a_send_five_hours_away_is_drafted_through_a_batch_at_half_price(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = leads_due(db, ["qualified"])

    report = write_due(tenant_id=tenant_id, now=NIGHT)

    assert claude.call_count == 0
    assert (report["batched"], report["written"]) == (1, 0)
    [request] = requests(db)
    assert (request.status, request.send_at, request.custom_id) == ("queued", SLOT, f"lre-action-{request.action_id}")
    assert request.request["output_config"]["format"]["type"] == "json_schema"
    assert action_states(db) == [("running", None)]
    assert write_due(tenant_id=tenant_id, now=NIGHT)["claimed"] == 0  # the writer leaves it to the batch

    created = batch_writes.run(now=NIGHT + timedelta(minutes=1))  # created, in progress
    assert created["submitted"] == 1
    [submitted] = requests(db)
    assert (submitted.status, submitted.batch_id) == ("submitted", batch_id(claude))
    assert [r["custom_id"] for r in claude.batches.batches[batch_id(claude)].requests] == [request.custom_id]
    in_progress = batch_writes.run(now=NIGHT + timedelta(minutes=2))
    assert in_progress["batches_in_progress"] == 1
    assert outbox(db) == []

    claude.batches.end(batch_id(claude))
    ended = batch_writes.run(now=NIGHT + timedelta(minutes=30))

    assert ended["results_succeeded"] == 1
    [message] = outbox(db)
    assert (message.source, message.scheduled_for, message.status) == ("ai", SLOT, "pending")
    [generation] = generations(db)
    assert message.ai_generation_id == generation.id
    assert generation.model == MODEL
    assert generation.cost_usd == half_price(generation) > 0
    assert action_states(db) == [("done", None)]
    assert requests(db)[0].status == "done"
    assert claude.call_count == 0  # no direct call was ever made


def test_mixed_results_write_each_send_before_its_slot(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = leads_due(db, ["new", "qualified", "proposal", "on hold"])  # four stage bands: four requests
    write_due(tenant_id=tenant_id, now=NIGHT)
    batch_writes.run(now=NIGHT)
    asked = {r.lead_id: r.custom_id for r in requests(db)}
    lead_ids = sorted(asked)
    outcomes = dict(zip((asked[i] for i in lead_ids), ("succeeded", "errored", "canceled", "expired"), strict=True))
    claude.batches.end(batch_id(claude), outcomes)

    report = batch_writes.run(now=NIGHT + timedelta(hours=1))

    assert (report["results_succeeded"], report["results_errored"]) == (1, 1)
    assert (report["results_canceled"], report["results_expired"]) == (1, 1)
    by_lead = {m.lead_id: m for m in outbox(db)}
    assert [by_lead[i].source for i in lead_ids] == ["ai", "offline", "offline", "offline"]
    assert {m.scheduled_for for m in by_lead.values()} == {SLOT}
    paid = rows(db, "SELECT * FROM ai_generations WHERE model = :m", m=MODEL)
    assert len(paid) == 1  # errored, canceled and expired requests are not billed
    assert {r.status for r in requests(db)} == {"done"}


def test_an_expired_batch_falls_back_to_the_offline_writer(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = leads_due(db, ["new", "qualified"])
    write_due(tenant_id=tenant_id, now=NIGHT)
    batch_writes.run(now=NIGHT)
    claude.batches.expire(batch_id(claude))

    report = batch_writes.run(now=NIGHT + timedelta(hours=2))

    assert report["results_expired"] == 2
    assert [m.source for m in outbox(db)] == ["offline", "offline"]
    assert {m.scheduled_for for m in outbox(db)} == {SLOT}


def test_a_batch_still_running_near_the_slot_gets_the_offline_writer_and_no_second_message(
    db: Engine, claude: FakeAnthropic
) -> None:
    tenant_id = leads_due(db, ["qualified"])
    write_due(tenant_id=tenant_id, now=NIGHT)
    batch_writes.run(now=NIGHT)

    early = batch_writes.run(now=SLOT - timedelta(minutes=16))
    assert outbox(db) == []
    late = batch_writes.run(now=SLOT - timedelta(minutes=14))

    assert (late["late_fallbacks"], late["written"]) == (1, 1)
    assert early["batches_in_progress"] == 1
    [message] = outbox(db)
    assert (message.source, message.scheduled_for) == ("offline", SLOT)
    claude.batches.end(batch_id(claude))
    after = batch_writes.run(now=SLOT - timedelta(minutes=10))
    assert (after["written"], after["late_answers"]) == (0, 1)
    assert len(outbox(db)) == 1
    [late_answer] = rows(db, "SELECT * FROM ai_generations WHERE model = :m", m=MODEL)
    assert late_answer.cost_usd == half_price(late_answer) > 0  # paid, so on the books


def test_leads_of_one_request_key_share_one_batch_request(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = leads_due(db, ["qualified", "qualified", "qualified"])
    write_due(tenant_id=tenant_id, now=NIGHT)
    assert [r.status for r in requests(db)] == ["queued", "waiting", "waiting"]

    batch_writes.run(now=NIGHT)
    claude.batches.end(batch_id(claude))
    batch_writes.run(now=NIGHT + timedelta(minutes=20))

    assert len(claude.batches.batches[batch_id(claude)].requests) == 1
    assert sorted(m.source for m in outbox(db)) == ["ai", "ai_cache", "ai_cache"]
    assert {m.scheduled_for for m in outbox(db)} == {SLOT}


def quoting(user_text: str) -> str:
    """A draft that quotes the lead's latest history line: it names its lead and is never reused."""
    reply = json.loads(written_reply(user_text))
    history = [line.split(": ", 1)[-1] for line in user_text.splitlines() if line.startswith("- ")]
    first, rest = reply["body"].split("\n\n", 1)
    reply["body"] = f"{first}\n\nYou mentioned: {history[0].rstrip('.')}.\n\n{rest}"
    return json.dumps(reply)


def test_a_waiter_whose_ask_was_kept_personal_asks_in_the_next_batch(db: Engine, claude: FakeAnthropic) -> None:
    claude.writer = quoting
    tenant_id = leads_due(db, ["qualified", "qualified"])
    for lead_id, summary in zip((1, 2), ("Asked about zebra fences", "Asked about walrus gates"), strict=True):
        activity(db, tenant_id, lead_id, "form", 2, summary)
    write_due(tenant_id=tenant_id, now=NIGHT)
    batch_writes.run(now=NIGHT)
    first = batch_id(claude)
    claude.batches.end(first)

    report = batch_writes.run(now=NIGHT + timedelta(minutes=20))

    assert (report["written"], report["asked_again"], report["submitted"]) == (1, 1, 0)
    [message] = outbox(db)
    assert "zebra fences" in message.body
    assert [r.status for r in requests(db)] == ["done", "queued"]
    again = batch_writes.run(now=NIGHT + timedelta(minutes=21))
    assert again["submitted"] == 1
    [second] = [b for b in claude.batches.batches if b != first]
    claude.batches.end(second)
    batch_writes.run(now=NIGHT + timedelta(minutes=40))
    walrus = [m for m in outbox(db) if m.lead_id == 2]
    assert [(m.source, "walrus gates" in m.body, m.scheduled_for) for m in walrus] == [("ai", True, SLOT)]


def test_a_slot_within_the_hour_stays_direct(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = leads_due(db, ["qualified"])

    write_due(tenant_id=tenant_id, now=SLOT - timedelta(minutes=30))

    assert requests(db) == []
    assert claude.call_count == 1
    assert [(m.source, m.scheduled_for) for m in outbox(db)] == [("ai", SLOT)]


def test_recover_now_stays_direct_even_hours_before_its_slot(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = leads_due(db, ["qualified"], payload={"source": "recover now by operator 1"})

    write_due(tenant_id=tenant_id, now=NIGHT)

    assert requests(db) == []
    assert claude.call_count == 1
    assert [m.source for m in outbox(db)] == ["ai"]


def test_the_batch_agent_submits_and_records_its_run(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = leads_due(db, ["qualified"])
    write_due(tenant_id=tenant_id, now=NIGHT)

    counts = write_batches()

    assert counts["submitted"] == 1
    [run] = rows(db, "SELECT * FROM agent_runs WHERE agent = 'batch_writer'")
    assert (run.status, run.counts["submitted"]) == ("succeeded", 1)
    [request] = requests(db)
    assert request.status == "submitted"
    body = claude.batches.batches[request.batch_id].requests[0]
    assert json.dumps(body["params"], sort_keys=True) == json.dumps(request.request, sort_keys=True)


def test_a_send_whose_enrollment_stopped_while_its_batch_ran_is_canceled_not_written(
    db: Engine, claude: FakeAnthropic
) -> None:
    tenant_id = leads_due(db, ["qualified"])
    write_due(tenant_id=tenant_id, now=NIGHT)
    batch_writes.run(now=NIGHT)
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE enrollments SET status = 'stopped'"))
    claude.batches.end(batch_id(claude))

    batch_writes.run(now=NIGHT + timedelta(minutes=20))

    assert outbox(db) == []
    assert action_states(db) == [("canceled", "enrollment is stopped")]
    assert requests(db)[0].status == "done"


def test_a_paused_campaigns_batch_drafts_wait_for_it(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = leads_due(db, ["qualified"])
    write_due(tenant_id=tenant_id, now=NIGHT)
    batch_writes.run(now=NIGHT)
    claude.batches.end(batch_id(claude))
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE campaigns SET status = 'paused'"))

    paused = batch_writes.run(now=NIGHT + timedelta(minutes=20))
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE campaigns SET status = 'running'"))
    resumed = batch_writes.run(now=NIGHT + timedelta(minutes=21))

    assert (paused["results_succeeded"], paused["written"]) == (1, 0)
    assert resumed["written"] == 1
    assert [(m.source, m.scheduled_for) for m in outbox(db)] == [("ai", SLOT)]


def test_asks_in_flight_are_held_against_the_ai_budget(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db, ai_monthly_budget=Decimal("0.01"))
    insert(db, "ai_generations", tenant_id=tenant_id, purpose="write", model=MODEL, prompt_hash="x", output="{}",
           cost_usd=Decimal("0.009"))  # fmt: skip
    campaign_id = campaign(db, tenant_id)
    for name, stage in (("Ana", "new"), ("Bo", "qualified")):  # two request keys: two asks needed
        due_send(db, tenant_id, campaign_id, lead(db, tenant_id, name, stage=stage))

    report = write_due(tenant_id=tenant_id, now=NIGHT)

    # $0.001 left: the first ask is held at $0.002, which spends it; the second lead is written offline now.
    assert (report["batched"], report["offline"], claude.call_count) == (1, 1, 0)
    assert len(requests(db)) == 1
