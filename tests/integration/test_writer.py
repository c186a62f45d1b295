"""The writer end to end: real PostgreSQL, real Redis, the real anthropic SDK against a local fake."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from agents.writer import write_due as write_due_job
from app.services.write import write_due
from tests.fakes.anthropic_server import FakeAnthropic, ok
from tests.integration.writer_world import (
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
    rows,
    tenant,
)

__all__ = ["claude", "db", "fake", "no_key"]  # fixtures used by name


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
