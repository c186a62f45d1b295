"""The writer's Claude path end to end: what Claude is told, its answers, retries and fallbacks."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import redis
from sqlalchemy import Engine

from app.ai.claude import ClaudeWriter
from app.ai.context import LeadContext
from app.ai.writer import Writer
from app.domain.messages import SMS_MAX_CHARS, SMS_OPT_OUT
from app.services.write import write_due
from tests.fakes.anthropic_server import FakeAnthropic, ok, rate_limited, server_error, slow, tokens
from tests.integration.writer_world import (
    MODEL,
    action_states,
    activity,
    campaign,
    claude,
    db,
    due_send,
    fake,
    generations,
    insert,
    lead,
    no_key,
    one_lead_due,
    outbox,
    send_jobs,
    tenant,
)

__all__ = ["claude", "db", "fake", "no_key"]  # fixtures used by name


# --- context --------------------------------------------------------------------------------------


def test_claude_is_told_the_leads_facts_recent_history_and_sender(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db)
    ana = lead(db, tenant_id, "Ana", title="Operations Manager")
    activity(db, tenant_id, ana, "page_view", 1, "Viewed the pricing page")  # tracking: never shown
    for n in range(6):
        activity(db, tenant_id, ana, "form" if n == 0 else "email_in", 3 + n, f"event {n}")
    due_send(db, tenant_id, campaign(db, tenant_id), ana)

    write_due(tenant_id=tenant_id)

    assert claude.call_count == 1
    call = claude.calls[0]
    prompt = call.user_text
    for expected in (
        "first_name: Ana",
        "works_at: Sunbeam Roofing",
        "job_title: Operations Manager",
        "interested_in: roof repair",
        "stage: in conversation with us, no proposal yet",
        "came_from: they came to us first",
        "quiet_for: a few days",
        "deal_size: typical",
        "sender_name: Maya",
        "business: Bright Homes",
    ):
        assert expected in prompt
    history = [line for line in prompt.splitlines() if line.startswith("- ")]
    assert history == [f"- {n + 3} days ago, {'form' if n == 0 else 'email_in'}: event {n}" for n in range(5)]
    assert "event 5" not in prompt
    assert "pricing page" not in prompt
    assert "4200" not in prompt
    assert "4,200" not in prompt
    assert call.body["system"][0]["cache_control"] == {"type": "ephemeral"}
    email_schema = {
        "type": "object",
        "properties": {"subject": {"type": "string"}, "body": {"type": "string"}},
        "required": ["subject", "body"],
        "additionalProperties": False,
    }
    assert call.body["output_config"] == {"effort": "low", "format": {"type": "json_schema", "schema": email_schema}}
    assert call.headers["anthropic-version"]
    assert call.headers["authorization"] == f"Bearer {claude.api_key}"


def test_deal_size_is_judged_against_the_business_own_deals(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db)
    campaign_id = campaign(db, tenant_id)
    for n in range(1, 9):
        lead(db, tenant_id, f"Filler{n}", deal_value=Decimal(1000 * n))
    due_send(db, tenant_id, campaign_id, lead(db, tenant_id, "Big", deal_value=Decimal(20_000)))
    due_send(db, tenant_id, campaign_id, lead(db, tenant_id, "Small", deal_value=Decimal(2_000)))

    write_due(tenant_id=tenant_id)

    big, small = (call.user_text for call in claude.calls)
    assert "first_name: Big" in big
    assert "deal_size: larger than usual for this business" in big
    assert "deal_size: typical for this business" in small


# --- the Claude path ------------------------------------------------------------------------------


def test_claude_writes_the_outbox_row_and_records_tokens_and_cost(
    db: Engine, claude: FakeAnthropic, redis_conn: redis.Redis
) -> None:
    tenant_id, ana = one_lead_due(db)

    report = write_due(tenant_id=tenant_id)

    assert report["written"] == 1
    assert report["ai"] == 1
    assert report["api_calls"] == 1
    [message] = outbox(db)
    [generation] = generations(db)
    assert (message.source, message.status, message.channel, message.to_address) == (
        "ai",
        "pending",
        "email",
        "ana@example.com",
    )
    assert message.body.startswith("Hi Ana,")
    assert "roof repair" in message.body
    assert message.subject
    assert message.ai_generation_id == generation.id
    assert message.lead_id == ana
    assert message.dedupe_key.endswith(f":{ana}:rung-1:email")
    assert generation.model == MODEL
    assert not generation.served_from_cache
    assert generation.tokens_in > 0
    assert generation.tokens_out > 0
    assert generation.cost_usd > 0
    assert json.loads(generation.output)["body"].startswith("Hi {{first_name}},")
    assert action_states(db) == [("done", None)]
    assert send_jobs(redis_conn) == 1
    assert report["cost_usd"] == pytest.approx(float(generation.cost_usd))


def test_the_stable_system_prompt_is_read_from_the_prompt_cache_after_the_first_call(
    db: Engine, claude: FakeAnthropic
) -> None:
    tenant_id = tenant(db)
    campaign_id = campaign(db, tenant_id)
    due_send(db, tenant_id, campaign_id, lead(db, tenant_id, "Ana"))
    due_send(db, tenant_id, campaign_id, lead(db, tenant_id, "Bo", stage="proposal"))  # another cache key

    write_due(tenant_id=tenant_id)

    first, second = generations(db)
    assert claude.call_count == 2
    assert first.tokens_cache_read == 0
    assert second.tokens_cache_read > 0
    assert second.cost_usd < first.cost_usd  # cache reads cost a tenth, cache writes a bit more


def test_sms_fits_in_one_message_and_ends_with_the_stop_line(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(
        db, "Maximiliana", rung=2, phone="+15551234567", consent_sms=True,
        attributes={"interest": "a full loft conversion with two dormer windows and an en-suite bathroom"},
    )  # fmt: skip

    write_due(tenant_id=tenant_id)

    [message] = outbox(db)
    assert (message.channel, message.to_address, message.subject) == ("sms", "+15551234567", None)
    assert len(message.body) <= SMS_MAX_CHARS
    assert message.body.endswith(SMS_OPT_OUT)
    assert message.body.startswith("Hi Maximiliana")


# --- checks, retries, fallbacks -------------------------------------------------------------------

BAD_DRAFTS = {
    "too long": json.dumps({"body": "Hi Ana, " + "so much to say " * 12 + "Reply STOP to opt out."}),
    "placeholder": json.dumps({"body": "Hi Ana, it's {{sender_name}}. Still keen? Reply STOP to opt out."}),
    "invented price": json.dumps({"body": "Hi Ana, roof repairs are $99 this week only! Reply STOP to opt out."}),
}


@pytest.mark.parametrize("bad", list(BAD_DRAFTS))
def test_a_draft_failing_the_checks_twice_falls_back_to_offline(db: Engine, claude: FakeAnthropic, bad: str) -> None:
    tenant_id, _ = one_lead_due(db, rung=2, phone="+15551234567", consent_sms=True)
    claude.script(ok(BAD_DRAFTS[bad]), ok(BAD_DRAFTS[bad]))

    report = write_due(tenant_id=tenant_id)

    assert claude.call_count == 2
    [retry] = claude.calls[1].body["messages"]
    assert retry["role"] == "user"
    assert "rejected by our checks" in retry["content"]
    assert BAD_DRAFTS[bad] in retry["content"]
    [message] = outbox(db)
    rejected, fallback = generations(db)
    assert message.source == "offline"
    assert message.ai_generation_id == fallback.id
    assert len(message.body) <= SMS_MAX_CHARS
    assert "$99" not in message.body
    assert "{{" not in message.body
    assert rejected.model == MODEL
    assert rejected.cost_usd > 0
    assert "rejected" in json.loads(rejected.output)
    assert fallback.model == "offline"
    assert fallback.cost_usd == 0
    assert report["offline"] == 1
    assert report["api_calls"] == 2
    assert report["cost_usd"] > 0


def test_a_draft_failing_once_is_fixed_by_the_retry(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db)
    claude.script(ok(BAD_DRAFTS["invented price"]))

    write_due(tenant_id=tenant_id)

    [message] = outbox(db)
    [generation] = generations(db)
    assert message.source == "ai"
    assert "$" not in message.body
    assert claude.call_count == 2
    assert generation.tokens_out > tokens(BAD_DRAFTS["invented price"])


def test_a_short_retry_after_is_honoured_once(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db)
    claude.script(rate_limited(retry_after="0"))

    write_due(tenant_id=tenant_id)

    assert [c.status for c in claude.calls] == [429, 200]
    assert outbox(db)[0].source == "ai"


def test_a_long_retry_after_falls_back_and_pauses_claude_for_the_batch(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db)
    campaign_id = campaign(db, tenant_id)
    for name, stage in (("Ana", "new"), ("Bo", "proposal"), ("Cy", "qualified")):  # three different cache keys
        due_send(db, tenant_id, campaign_id, lead(db, tenant_id, name, stage=stage))
    claude.script(rate_limited(retry_after="120"))

    report = write_due(tenant_id=tenant_id)

    assert claude.call_count == 1
    assert report["offline"] == 3
    assert report["written"] == 3
    assert {m.source for m in outbox(db)} == {"offline"}


@pytest.mark.parametrize("status", [500, 529])
def test_server_errors_are_retried_twice_by_the_sdk_then_fall_back_to_offline(
    db: Engine, claude: FakeAnthropic, status: int
) -> None:
    tenant_id, _ = one_lead_due(db)
    claude.script(*(server_error(status) for _ in range(3)))

    write_due(tenant_id=tenant_id)

    assert claude.call_count == 3  # the first ask and the SDK's two retries (max_retries=2)
    [message] = outbox(db)
    failed, fallback = generations(db)
    assert message.source == "offline"
    assert message.ai_generation_id == fallback.id
    assert (failed.model, fallback.model) == (MODEL, "offline")
    assert json.loads(failed.output)["rejected"] == [f"HTTP {status}"]


def test_a_timeout_falls_back_to_offline(fake: FakeAnthropic) -> None:
    fake.script(*(slow(seconds=30) for _ in range(3)))
    context = LeadContext(tenant_id=1, lead_id=7, rung=1, channel="email", first_name="Ana", sender_name="Maya")
    claude = ClaudeWriter(api_key=fake.api_key, model=MODEL, base_url=fake.url, timeout=0.3, max_retry_wait=0.01)

    with Writer(claude) as writer:
        written = writer.write(context)

    assert fake.call_count == 3
    assert written.source == "offline"
    assert written.ok
    assert written.body.startswith("Hi Ana,")
    failed, fallback = written.generations
    assert failed.model == MODEL
    assert "Timeout" in failed.output
    assert failed.api_calls == 1
    assert fallback.model == "offline"


def test_repeated_failures_stop_the_batch_calling_a_dead_api(fake: FakeAnthropic) -> None:
    fake.script(*(server_error(500) for _ in range(10)))
    claude = ClaudeWriter(api_key=fake.api_key, model=MODEL, base_url=fake.url, max_retry_wait=0.01)

    with Writer(claude) as writer:
        sources = [
            writer.write(LeadContext(tenant_id=1, lead_id=n, rung=1, channel="email", first_name="Ana")).source
            for n in range(6)
        ]

    assert sources == ["offline"] * 6
    assert fake.call_count == 9  # three writes of three calls each (SDK retries), then the writer pauses


def test_without_a_key_the_writer_is_offline_and_makes_no_http_call(
    db: Engine, fake: FakeAnthropic, no_key: None, redis_conn: redis.Redis
) -> None:
    tenant_id, _ = one_lead_due(db, "Ana")

    report = write_due(tenant_id=tenant_id)

    assert fake.call_count == 0
    [message] = outbox(db)
    [generation] = generations(db)
    assert message.source == "offline"
    assert message.body.startswith("Hi Ana,")
    assert "Maya" in message.body
    assert (generation.model, generation.cost_usd, generation.tokens_in) == ("offline", 0, 0)
    assert report["offline"] == 1
    assert report["api_calls"] == 0
    assert send_jobs(redis_conn) == 1


def test_an_ai_budget_spent_for_the_month_keeps_claude_out(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db, ai_monthly_budget=Decimal("0.01"))
    insert(db, "ai_generations", tenant_id=tenant_id, purpose="write", model=MODEL, prompt_hash="x", output="{}",
           cost_usd=Decimal("0.02"))  # fmt: skip
    due_send(db, tenant_id, campaign(db, tenant_id), lead(db, tenant_id, "Ana"))

    write_due(tenant_id=tenant_id)

    assert claude.call_count == 0
    assert outbox(db)[0].source == "offline"
