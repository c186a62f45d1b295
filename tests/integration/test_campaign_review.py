"""The review step and "Draft with AI" on real PostgreSQL: sends and cost worked by hand over the
campaign world, the compliance checklist, the reasons a campaign cannot launch yet, and a
drafted template (offline without a key, Claude through its SDK at a local fake with one)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from app.domain.audience import Audience, AudienceCriteria
from app.domain.plan.wizard import FollowUp, MessageText
from app.services import campaign_ai, campaign_estimates
from app.services import campaign_drafts as drafts
from app.settings import get_settings
from tests.fakes.anthropic_server import FakeAnthropic
from tests.integration.campaign_world import NOW, World, build, sql
from tests.support import PRODUCTION_ENV

# A curly apostrophe makes the text UCS-2: 70 units a segment, so "Hi Ann, it’s Sam. ..." (74 units) takes two.
SMS = "Hi {{first_name}}, it’s {{sender_name}}. Still keen on a quote this month? Reply STOP to opt out."
HELLO = MessageText("Hello {{first_name}}", "Hi {{first_name}}, still keen?", SMS, "a check-in")


@pytest.fixture
def world(clean_db: Engine) -> World:
    return build(clean_db)


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", fake.api_key)
        for name, value in PRODUCTION_ENV.items():  # a real provider key needs them
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


def test_the_review_of_a_campaign_ready_to_launch(world: World) -> None:
    campaign = drafts.create_draft(tenant_id=world.tenant, operator_id=world.rep, name="Spring", now=NOW)
    ids = {"tenant_id": world.tenant, "campaign_id": campaign, "operator_id": world.rep}
    drafts.save_channels(**ids, name="Spring", channels=["email", "sms"])
    drafts.save_audience(**ids, audience=Audience(criteria=AudienceCriteria()))
    drafts.save_message(**ids, message=HELLO, variant_b=None, weights=(50.0, 50.0))
    drafts.save_timing(
        **ids,
        starts_at=None,
        timezone="America/New_York",
        send_window=(8, 20),
        quiet_hours=(21, 8),
        follow_ups=[FollowUp("no_reply", timedelta(days=2), ("sms",), "a nudge")],
    )
    review = campaign_estimates.review(tenant_id=world.tenant, campaign_id=campaign, now=NOW)
    assert review.problems == ()
    # First message, email first: Ann and Ben by email, Cat by SMS. Follow-up by SMS: Ann, Cat.
    assert review.sends == {"email": 2, "sms": 3}
    assert review.sms_segments == 2
    assert review.cost == 2 * Decimal("0.001") + 3 * 2 * Decimal("0.0079")
    assert [(c.label, c.ok) for c in review.checks] == [
        ("Unsubscribe link in every email", True),
        ("Postal address in every email", True),
        ("STOP text in every SMS", True),
        ("Quiet hours set", True),
        ("Consent and suppressions", True),
    ]
    assert review.checks[-1].detail.startswith("3 of 5 matching leads can be written to; 2 cannot")


def test_the_review_of_a_new_draft_says_what_is_missing(world: World) -> None:
    campaign = drafts.create_draft(tenant_id=world.tenant, operator_id=world.rep, name="Spring", now=NOW)
    review = campaign_estimates.review(tenant_id=world.tenant, campaign_id=campaign, now=NOW)
    assert review.problems == (
        "$.nodes[0].channels: a send needs at least one channel (email, sms)",
        "$.nodes[0]: a send needs a template or a brief (on the node or on each variant)",
        "Audience: choose who the campaign writes to",
    )
    assert (review.sends, review.cost) == (None, None)


def test_draft_with_ai_offline_gives_a_template_and_records_the_generation(
    world: World, clean_db: Engine, no_key: None
) -> None:
    drafted = campaign_ai.draft_with_ai(
        tenant_id=world.tenant,
        lead_id=world.leads["Ann"],
        channel="sms",
        brief="a check-in",
        now=NOW,
        operator_id=world.rep,
    )
    assert drafted.source == "offline"
    assert "{{first_name}}" in drafted.body
    assert "Ann" not in drafted.body, "the sample lead's own name became a slot"
    assert "stop" in drafted.body.lower()
    rows = sql(clean_db, "SELECT purpose, model, lead_id FROM ai_generations")
    assert [tuple(r) for r in rows] == [("wizard_draft", "offline", world.leads["Ann"])]


def test_draft_with_ai_asks_claude_when_a_key_is_set(world: World, clean_db: Engine, claude: FakeAnthropic) -> None:
    drafted = campaign_ai.draft_with_ai(
        tenant_id=world.tenant,
        lead_id=world.leads["Ann"],
        channel="email",
        brief="a check-in",
        now=NOW,
        operator_id=world.rep,
    )
    assert (drafted.source, claude.call_count) == ("ai", 1)
    assert drafted.subject == "About your {{interest}}"
    assert drafted.body.startswith("Hi {{first_name}},")
    cost = sql(clean_db, "SELECT purpose, cost_usd > 0 AS paid FROM ai_generations")
    assert [tuple(r) for r in cost] == [("wizard_draft", True)]


def test_draft_with_ai_refuses_another_tenant_s_lead(world: World, no_key: None) -> None:
    with pytest.raises(LookupError):
        campaign_ai.draft_with_ai(
            tenant_id=world.tenant, lead_id=world.other_lead, channel="sms", brief="hi", now=NOW, operator_id=None
        )
    with pytest.raises(PermissionError, match="you are: viewer"):
        campaign_ai.draft_with_ai(
            tenant_id=world.tenant,
            lead_id=world.leads["Ann"],
            channel="sms",
            brief="hi",
            now=NOW,
            operator_id=world.viewer,
        )
