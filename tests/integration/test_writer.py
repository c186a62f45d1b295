"""The writer end to end: real PostgreSQL, real Redis, the real anthropic SDK against a local fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from rq import Queue
from sqlalchemy import Engine

from agents.writer import write_due as write_due_job
from app import queue
from app.ai.claude import ClaudeWriter
from app.ai.context import LeadContext
from app.ai.writer import Writer
from app.domain.messages import SMS_MAX_CHARS, SMS_OPT_OUT
from app.services.write import write_due
from app.settings import get_settings
from tests.fakes.anthropic_server import FakeAnthropic, ok, rate_limited, server_error, slow, tokens

MODEL = "claude-sonnet-5-5"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def claude(fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    """The settings name a key and point the SDK at the fake, as an operator's environment would."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    monkeypatch.setenv("ANTHROPIC_MODEL", MODEL)
    get_settings.cache_clear()
    yield fake
    get_settings.cache_clear()


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


# --- builders -------------------------------------------------------------------------------------


def insert(engine: Engine, table: str, **values: Any) -> int:
    names = ", ".join(values)
    binds = ", ".join(f"CAST(:{k} AS jsonb)" if isinstance(v, dict) else f":{k}" for k, v in values.items())
    params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()}
    with engine.begin() as conn:
        return int(
            conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({binds}) RETURNING id"), params).scalar()
        )


def tenant(engine: Engine, **columns: Any) -> int:
    return insert(engine, "tenants", slug="bright", name="Bright Homes", sender_name="Maya", **columns)


def campaign(engine: Engine, tenant_id: int, plan: dict[str, Any] | None = None) -> int:
    return insert(engine, "campaigns", tenant_id=tenant_id, name="Recovery", status="running", plan=plan or {})


def lead(engine: Engine, tenant_id: int, first_name: str, **columns: Any) -> int:
    values: dict[str, Any] = {
        "external_id": f"ext-{first_name.lower()}",
        "email": f"{first_name.lower()}@example.com",
        "company": "Sunbeam Roofing",
        "stage": "qualified",
        "source": "web form",
        "deal_value": Decimal(4200),
        "attributes": {"interest": "roof repair"},
        "recovery_state": "in_recovery",
    }
    values.update(columns)
    last_activity = datetime.now(UTC) - timedelta(days=3)
    return insert(engine, "leads", tenant_id=tenant_id, first_name=first_name, last_activity_at=last_activity, **values)


def activity(engine: Engine, tenant_id: int, lead_id: int, kind: str, days_ago: int, summary: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO activities (tenant_id, lead_id, kind, occurred_at, summary) "
                "VALUES (:t, :l, :k, now() - make_interval(days => :d), :s)"
            ),
            {"t": tenant_id, "l": lead_id, "k": kind, "d": days_ago, "s": summary},
        )


def due_send(engine: Engine, tenant_id: int, campaign_id: int, lead_id: int, rung: int = 1, **columns: Any) -> int:
    node = f"rung-{rung}"
    enrollment = insert(
        engine,
        "enrollments",
        tenant_id=tenant_id,
        campaign_id=campaign_id,
        lead_id=lead_id,
        rung=rung,
        current_node=node,
    )
    values = {
        "tenant_id": tenant_id,
        "enrollment_id": enrollment,
        "lead_id": lead_id,
        "kind": "send",
        "node": node,
        "due_at": datetime.now(UTC) - timedelta(seconds=1),
        "dedupe_key": f"{tenant_id}:{campaign_id}:{lead_id}:{node}:send",
        "status": "pending",
        **columns,
    }
    return insert(engine, "scheduled_actions", **values)


def rows(engine: Engine, sql: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def outbox(engine: Engine) -> list[sa.Row[Any]]:
    return rows(engine, "SELECT * FROM outbound_messages ORDER BY id")


def generations(engine: Engine) -> list[sa.Row[Any]]:
    return rows(engine, "SELECT * FROM ai_generations ORDER BY id")


def action_states(engine: Engine) -> list[tuple[str, str | None]]:
    return [(r.status, r.payload.get("reason")) for r in rows(engine, "SELECT * FROM scheduled_actions ORDER BY id")]


def send_jobs(redis_conn: redis.Redis) -> int:
    return Queue(queue.job_target("send_due")[1], connection=redis_conn).count


def one_lead_due(engine: Engine, first_name: str = "Ana", rung: int = 1, **columns: Any) -> tuple[int, int]:
    tenant_id = tenant(engine)
    lead_id = lead(engine, tenant_id, first_name, **columns)
    due_send(engine, tenant_id, campaign(engine, tenant_id), lead_id, rung=rung)
    return tenant_id, lead_id


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
    assert call.body["output_config"] == {"effort": "low"}
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
def test_server_errors_fall_back_to_offline(db: Engine, claude: FakeAnthropic, status: int) -> None:
    tenant_id, _ = one_lead_due(db)
    claude.script(server_error(status))

    write_due(tenant_id=tenant_id)

    assert claude.call_count == 1
    [message] = outbox(db)
    failed, fallback = generations(db)
    assert message.source == "offline"
    assert message.ai_generation_id == fallback.id
    assert (failed.model, fallback.model) == (MODEL, "offline")
    assert json.loads(failed.output)["rejected"] == [f"HTTP {status}"]


def test_a_timeout_falls_back_to_offline(fake: FakeAnthropic) -> None:
    fake.script(slow(seconds=30))
    context = LeadContext(tenant_id=1, lead_id=7, rung=1, channel="email", first_name="Ana", sender_name="Maya")
    claude = ClaudeWriter(api_key=fake.api_key, model=MODEL, base_url=fake.url, timeout=0.3)

    with Writer(claude) as writer:
        written = writer.write(context)

    assert fake.call_count == 1
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
    claude = ClaudeWriter(api_key=fake.api_key, model=MODEL, base_url=fake.url)

    with Writer(claude) as writer:
        sources = [
            writer.write(LeadContext(tenant_id=1, lead_id=n, rung=1, channel="email", first_name="Ana")).source
            for n in range(6)
        ]

    assert sources == ["offline"] * 6
    assert fake.call_count == 3


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


# --- our cache ------------------------------------------------------------------------------------


def test_a_near_identical_lead_is_served_from_our_cache_in_their_own_words(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db)
    campaign_id = campaign(db, tenant_id)
    due_send(db, tenant_id, campaign_id, lead(db, tenant_id, "Ana"))
    write_due(tenant_id=tenant_id)
    bo = lead(db, tenant_id, "Bo", company="Acme Corp", attributes={"interest": "gutter cleaning"})
    due_send(db, tenant_id, campaign_id, bo)

    report = write_due(tenant_id=tenant_id)

    assert claude.call_count == 1
    assert report["ai_cache"] == 1
    assert report["api_calls"] == 0
    first, second = outbox(db)
    source_row, hit_row = generations(db)
    assert second.source == "ai_cache"
    assert second.lead_id == bo
    assert second.body.startswith("Hi Bo,")
    assert "gutter cleaning" in second.body
    assert "Ana" not in second.body
    assert "roof" not in second.body
    assert hit_row.served_from_cache
    assert hit_row.prompt_hash == source_row.prompt_hash
    assert hit_row.cost_usd == 0
    assert second.ai_generation_id == hit_row.id
    assert first.body.replace("Ana", "Bo").replace("roof repair", "gutter cleaning") == second.body


def test_leads_of_one_batch_share_one_call(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db)
    campaign_id = campaign(db, tenant_id)
    for name in ("Ana", "Bo", "Cy", "Dee"):
        due_send(db, tenant_id, campaign_id, lead(db, tenant_id, name))

    report = write_due(tenant_id=tenant_id)

    assert claude.call_count == 1
    assert (report["ai"], report["ai_cache"]) == (1, 3)
    assert [m.body.split(",")[0] for m in outbox(db)] == ["Hi Ana", "Hi Bo", "Hi Cy", "Hi Dee"]


def test_an_answer_about_one_leads_details_is_never_served_to_another(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db)
    campaign_id = campaign(db, tenant_id)
    ana = lead(db, tenant_id, "Ana")
    activity(db, tenant_id, ana, "form", 3, "Worried about the skylight leaking")
    due_send(db, tenant_id, campaign_id, ana)
    bo = lead(db, tenant_id, "Bo")
    activity(db, tenant_id, bo, "form", 3, "Asked for a quote")
    due_send(db, tenant_id, campaign_id, bo)
    personal = json.dumps({"subject": "Your skylight", "body": "Hi Ana,\n\nIs the skylight still leaking?\n\nMaya"})
    claude.script(ok(personal))

    write_due(tenant_id=tenant_id)

    assert claude.call_count == 2
    ana_message, bo_message = outbox(db)
    assert "skylight" in ana_message.body
    assert "skylight" not in bo_message.body
    assert {ana_message.source, bo_message.source} == {"ai"}
    ana_generation = generations(db)[0]
    assert ana_generation.prompt_hash.endswith(f":lead-{ana}")


def test_a_cached_answer_that_fails_the_new_leads_checks_is_not_served(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db)
    campaign_id = campaign(db, tenant_id)
    ana = lead(db, tenant_id, "Ana")
    due_send(db, tenant_id, campaign_id, ana)
    body = "Hi Ana,\n\nShall I send the brochure over again, or is a short call easier?\n\nMaya"
    claude.script(ok(json.dumps({"subject": "Your roof repair", "body": body})))
    write_due(tenant_id=tenant_id)
    bo = lead(db, tenant_id, "Bo")
    # Bo's own words: a message that repeats five of them in a row is refused for Bo.
    activity(db, tenant_id, bo, "email_in", 3, "Please do not send the brochure over again")
    due_send(db, tenant_id, campaign_id, bo)

    write_due(tenant_id=tenant_id)

    ana_message, bo_message = outbox(db)
    assert "brochure" in ana_message.body
    assert "brochure" not in bo_message.body
    assert bo_message.source == "ai"
    assert claude.call_count == 2


def test_a_price_from_the_leads_own_history_is_no_fact_and_the_rejection_is_counted(
    db: Engine, claude: FakeAnthropic
) -> None:
    tenant_id = tenant(db)
    campaign_id = campaign(db, tenant_id)
    ana = lead(db, tenant_id, "Ana")
    activity(db, tenant_id, ana, "form", 3, "Says a neighbour was quoted $5,000 for the roof repair")
    due_send(db, tenant_id, campaign_id, ana)
    planted = json.dumps({"subject": "Your quote", "body": "Hi Ana,\n\nYour $5,000 quote still stands.\n\nMaya"})
    claude.script(ok(planted), ok(planted))

    report = write_due(tenant_id=tenant_id)

    (message,) = outbox(db)
    assert "$5,000" not in message.body
    assert message.source == "offline"
    assert (report["ai_rejected"], report["offline"], report["api_calls"]) == (1, 1, 2)


# --- idempotence and crashes ----------------------------------------------------------------------


def test_running_twice_writes_one_outbox_row(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db)

    first = write_due(tenant_id=tenant_id)
    second = write_due(tenant_id=tenant_id)

    assert (first["written"], second["claimed"], second["written"]) == (1, 0, 0)
    assert len(outbox(db)) == 1
    assert claude.call_count == 1


def test_a_crashed_run_is_reclaimed_later_without_a_second_message_or_call(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db)
    write_due(tenant_id=tenant_id)
    # A worker that died after committing the outbox but before marking the action done, long ago:
    with db.begin() as conn:
        conn.execute(
            sa.text("UPDATE scheduled_actions SET status = 'running', updated_at = now() - interval '2 hours'")
        )

    report = write_due(tenant_id=tenant_id)

    assert (report["claimed"], report["duplicates"], report["written"]) == (1, 1, 0)
    assert len(outbox(db)) == 1
    assert claude.call_count == 1
    assert action_states(db) == [("done", "already in the outbox")]


def test_an_action_another_worker_is_still_writing_is_left_alone(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db)
    due_send(db, tenant_id, campaign(db, tenant_id), lead(db, tenant_id, "Ana"), status="running")

    report = write_due(tenant_id=tenant_id)

    assert report["claimed"] == 0
    assert outbox(db) == []
    assert claude.call_count == 0


def test_a_stale_running_action_is_reclaimed_and_written(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db)
    due_send(db, tenant_id, campaign(db, tenant_id), lead(db, tenant_id, "Ana"), status="running")
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE scheduled_actions SET updated_at = now() - interval '2 hours'"))

    report = write_due(tenant_id=tenant_id)

    assert report["written"] == 1
    assert action_states(db) == [("done", None)]


def test_an_action_that_keeps_crashing_is_given_up(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db)
    due_send(db, tenant_id, campaign(db, tenant_id), lead(db, tenant_id, "Ana"), payload={"claims": 3})

    report = write_due(tenant_id=tenant_id)

    assert report["canceled"] == 1
    assert outbox(db) == []
    assert claude.call_count == 0
    assert action_states(db) == [("canceled", "claimed 4 times without finishing")]


# --- who is not written to ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "reason"),
    [
        ({"consent_email": False}, "no channel"),
        ({"email": None}, "no channel"),
        ({"recovery_state": "replied"}, "lead is replied"),
    ],
)
def test_leads_we_may_not_write_to_are_canceled_with_a_reason(
    db: Engine, claude: FakeAnthropic, columns: dict[str, Any], reason: str
) -> None:
    tenant_id, _ = one_lead_due(db, **columns)

    report = write_due(tenant_id=tenant_id)

    assert report["canceled"] == 1
    assert outbox(db) == []
    assert claude.call_count == 0
    [(status, why)] = action_states(db)
    assert status == "canceled"
    assert why is not None
    assert why.startswith(reason)


def test_a_suppressed_phone_gets_email_at_rung_two(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db, rung=2, phone="+15551234567", consent_sms=True)
    insert(db, "suppressions", tenant_id=tenant_id, channel="sms", address="+15551234567", reason="stop")

    write_due(tenant_id=tenant_id)

    assert outbox(db)[0].channel == "email"


def test_another_tenants_due_sends_are_not_touched(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db)
    other = insert(db, "tenants", slug="other", name="Other Co")

    report = write_due(tenant_id=other)

    assert report["claimed"] == 0
    assert action_states(db) == [("pending", None)]
    assert tenant_id != other


def test_an_operator_template_on_the_campaign_node_is_used_before_any_ai(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id = tenant(db)
    template_id = insert(db, "templates", tenant_id=tenant_id, name="Nudge", channel="email")
    version_id = insert(
        db, "template_versions", tenant_id=tenant_id, template_id=template_id, version=1,
        subject="About {{interest}}", body="Hi {{first_name}}, shall we pick up the {{interest}}? {{sender_name}}",
    )  # fmt: skip
    campaign_id = campaign(db, tenant_id, plan={"nodes": [{"id": "rung-1", "template_id": template_id}]})
    due_send(db, tenant_id, campaign_id, lead(db, tenant_id, "Ana"))

    report = write_due(tenant_id=tenant_id)

    [message] = outbox(db)
    assert report["template"] == 1
    assert claude.call_count == 0
    assert generations(db) == []
    assert (message.source, message.template_version_id) == ("template", version_id)
    assert message.body == "Hi Ana, shall we pick up the roof repair? Maya"


def test_the_writer_agent_records_its_run_in_the_ledger(db: Engine, claude: FakeAnthropic) -> None:
    tenant_id, _ = one_lead_due(db)

    counts = write_due_job(tenant_id)

    assert counts["written"] == 1
    [run] = rows(db, "SELECT * FROM agent_runs")
    assert (run.agent, run.status, run.tenant_id) == ("writer", "succeeded", tenant_id)
    assert run.counts["written"] == 1
    assert run.counts["api_calls"] == 1
