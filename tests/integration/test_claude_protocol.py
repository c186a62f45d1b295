"""The Anthropic protocol as the writer, the insight and triage speak it, against the fake's real shapes.

Structured output (the schema asked for, the answer validated), `stop_reason` (refusal goes
offline at once; max_tokens gets one more ask with twice the room), 529 and `x-should-retry`
(bounded SDK retries), and one client per process (every call on one kept-alive connection).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Engine

from app.ai import insight
from app.ai.claude import ClaudeWriter
from app.ai.context import LeadContext
from app.ai.triage import ClaudeTriage
from app.domain.triage import classify
from app.services.triage_model import model
from app.services.write import write_due
from app.settings import get_settings
from tests.fakes.anthropic_server import FakeAnthropic, cut, ok, overloaded, rate_limited, refusal, server_error
from tests.integration.writer_world import MODEL, claude, db, fake, generations, one_lead_due, outbox
from tests.unit.test_insight_offline import QUIET

__all__ = ["claude", "db", "fake"]  # fixtures used by name

SMS_SCHEMA = {
    "type": "object",
    "properties": {"body": {"type": "string"}},
    "required": ["body"],
    "additionalProperties": False,
}


def sms_lead(engine: Engine) -> int:
    tenant_id, _ = one_lead_due(engine, rung=2, phone="+15551234567", consent_sms=True)
    return tenant_id


def test_the_sms_schema_is_asked_for_and_the_structured_answer_is_sent(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = sms_lead(db)
    claude.script(ok(json.dumps({"body": "Hi Ana, it's Maya. Still keen on the roof repair? Reply STOP to opt out."})))

    report = write_due(tenant_id=tenant_id)

    [call] = claude.calls
    assert call.body["output_config"]["format"] == {"type": "json_schema", "schema": SMS_SCHEMA}
    [message] = outbox(db)
    assert (message.source, message.channel) == ("ai", "sms")
    assert message.body == "Hi Ana, it's Maya. Still keen on the roof repair? Reply STOP to opt out."
    assert report["api_calls"] == 1


def test_an_answer_outside_the_schema_is_not_used(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = sms_lead(db)
    wrong = json.dumps({"text": "Hi Ana, still keen? Reply STOP to opt out."})
    claude.script(ok(wrong), ok(wrong))

    write_due(tenant_id=tenant_id)

    assert claude.call_count == 2  # asked once more with the reason, as for any failed check
    assert outbox(db)[0].source == "offline"


def test_a_refusal_is_not_asked_again_and_the_lead_gets_the_offline_writer(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db)
    claude.script(refusal("I can't help with that."))

    report = write_due(tenant_id=tenant_id)

    assert claude.call_count == 1
    [message] = outbox(db)
    refused, fallback = generations(db)
    assert message.source == "offline"
    assert message.ai_generation_id == fallback.id
    assert json.loads(refused.output)["rejected"] == ["Claude declined to write this message"]
    assert refused.cost_usd > 0  # the refusal was paid for, and is on the books
    assert report["api_calls"] == 1


def test_a_reply_cut_at_max_tokens_is_asked_once_more_with_twice_the_room(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db)
    claude.script(cut())

    write_due(tenant_id=tenant_id)

    first, second = claude.calls
    assert (first.body["max_tokens"], second.body["max_tokens"]) == (4000, 8000)
    assert first.body["messages"] == second.body["messages"]  # the same ask, not a correction
    [message] = outbox(db)
    assert message.source == "ai"
    [generation] = generations(db)
    assert generation.tokens_out > 4000  # the cut reply's 4,000 output tokens were paid, and are counted


def test_two_cuts_in_a_row_fall_back_without_a_third_call(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db)
    claude.script(cut(), cut())

    write_due(tenant_id=tenant_id)

    assert claude.call_count == 2
    assert outbox(db)[0].source == "offline"


def test_an_overloaded_api_asking_for_a_retry_is_retried_by_the_sdk(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db)
    claude.script(overloaded(should_retry="true"))

    write_due(tenant_id=tenant_id)

    assert [c.status for c in claude.calls] == [529, 200]
    assert outbox(db)[0].source == "ai"


def test_x_should_retry_false_is_obeyed_even_for_a_529(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db)
    claude.script(overloaded(should_retry="false"))

    write_due(tenant_id=tenant_id)

    assert [c.status for c in claude.calls] == [529]
    assert outbox(db)[0].source == "offline"


def test_triage_server_errors_are_retried_twice_then_the_offline_reading_stands(fake: FakeAnthropic) -> None:
    fake.script(server_error(500), server_error(500), server_error(500))
    triage = ClaudeTriage(api_key=fake.api_key, model=MODEL, base_url=fake.url)
    offline = classify("what does it cost?", model=model(), today=date(2026, 12, 6))

    got = triage.classify("what does it cost?", channel="sms", first_name="Ann", business="Acme", offline=offline)

    assert got == offline
    assert fake.call_count == 3  # the ask and two retries, then the offline reading stands


# --- the insight --------------------------------------------------------------------------------


def test_the_insight_asks_for_its_schema_and_every_call_reuses_one_client(claude: FakeAnthropic) -> None:
    answer = {"why_silent": "Two unopened emails.", "next_step": "Send a short text."}
    claude.script(ok(json.dumps(answer)), ok(json.dumps(answer)))

    first = insight.ask_claude(get_settings(), QUIET)
    second = insight.ask_claude(get_settings(), replace(QUIET, days_silent=13))

    assert first.insight is not None
    assert second.insight is not None
    assert (first.insight.why_silent, first.insight.next_step) == ("Two unopened emails.", "Send a short text.")
    schema = claude.calls[0].body["output_config"]["format"]["schema"]
    assert schema["required"] == ["why_silent", "next_step"]
    assert claude.calls[0].peer == claude.calls[1].peer  # one client, one kept-alive connection


@pytest.mark.parametrize("answer", [refusal("No."), cut()])
def test_an_insight_refused_or_cut_is_not_used_nor_asked_again(claude: FakeAnthropic, answer: object) -> None:
    claude.script(answer)  # type: ignore[arg-type]

    got = insight.ask_claude(get_settings(), QUIET)

    assert got.insight is None
    assert got.problem is not None
    assert "stopped early" in got.problem
    assert claude.call_count == 1
    assert got.cost_usd > 0


def test_triage_refused_keeps_the_offline_reading(fake: FakeAnthropic) -> None:
    fake.script(refusal())
    triage = ClaudeTriage(api_key=fake.api_key, model=MODEL, base_url=fake.url)
    offline = classify("what does it cost?", model=model(), today=date(2026, 12, 6))

    got = triage.classify("what does it cost?", channel="sms", first_name="Ann", business="Acme", offline=offline)

    assert got == offline
    assert fake.call_count == 1


@pytest.mark.parametrize(("asked", "statuses"), [("0.2", [429, 200]), ("5", [429])])
def test_the_sdk_waits_out_a_retry_after_only_within_the_cap(
    fake: FakeAnthropic, asked: str, statuses: list[int]
) -> None:
    fake.script(rate_limited(retry_after=asked))
    writer = ClaudeWriter(api_key=fake.api_key, model=MODEL, base_url=fake.url, max_retry_wait=0.5)

    result = writer.write(LeadContext(tenant_id=1, lead_id=7, rung=1, channel="email", first_name="Ana"))

    assert [c.status for c in fake.calls] == statuses
    assert result.ok == (statuses[-1] == 200)
    assert writer.available == (statuses[-1] == 200)  # a wait past the cap pauses the writer instead
