"""The pure parts of the writer: offline variety, cache keys and templates, cost, reply parsing."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest

from app.ai import cache, cost, features, offline, prompt
from app.ai.claude import parse_reply, retry_after
from app.ai.context import LeadContext, PastActivity
from app.domain.messages import SMS_MAX_CHARS, Draft, Facts, check
from app.domain.outreach import Reach, pick_channel

ANA = LeadContext(
    tenant_id=1,
    lead_id=101,
    rung=1,
    channel="email",
    first_name="Ana",
    last_name="Silva",
    company="Sunbeam Roofing",
    stage="qualified",
    source="web form",
    deal_value=Decimal(4200),
    days_silent=3,
    interest="roof repair",
    recent=(PastActivity("form", 3, "Asked about a roof repair quote"),),
    sender_name="Maya",
    business_name="Bright Homes",
)


def lead(lead_id: int, **changes: object) -> LeadContext:
    return replace(ANA, lead_id=lead_id, **changes)  # type: ignore[arg-type]


# --- offline writer -------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["email", "sms"])
@pytest.mark.parametrize("rung", [1, 2, 3])
def test_offline_drafts_pass_the_checks_for_every_rung_and_channel(channel: str, rung: int) -> None:
    for lead_id in range(1, 40):
        context = lead(lead_id, channel=channel, rung=rung)
        written = offline.write_offline(context)
        assert written.problems == ()
        assert check(written.draft, context.facts()).ok
        if channel == "sms":
            assert len(written.draft.body) <= SMS_MAX_CHARS
            assert written.draft.body.endswith("Reply STOP to opt out.")


def test_offline_choice_varies_between_leads_but_not_for_one_lead() -> None:
    bodies = {offline.write_offline(lead(i)).template.body for i in range(1, 60)}
    assert len(bodies) >= 3
    assert offline.write_offline(lead(7)).draft == offline.write_offline(lead(7)).draft


def test_offline_skips_templates_needing_values_the_lead_lacks() -> None:
    bare = lead(5, company=None, interest=None)
    for lead_id in range(1, 30):
        written = offline.write_offline(replace(bare, lead_id=lead_id))
        assert "{{" not in written.draft.body
        assert written.template.needs() <= set(bare.slots())


def test_offline_sms_moves_to_a_shorter_template_for_long_names() -> None:
    context = lead(
        9, channel="sms", first_name="Maximiliana-Josephine", business_name="Northern Lights Home Improvements"
    )
    written = offline.write_offline(context)
    assert written.problems == ()
    assert len(written.draft.body) <= SMS_MAX_CHARS


def test_without_a_sender_person_the_business_signs_once() -> None:
    context = lead(11, sender_name="", channel="sms")
    for lead_id in range(1, 20):
        body = offline.write_offline(replace(context, lead_id=lead_id)).draft.body
        assert "Bright Homes from Bright Homes" not in body


# --- channel choice -------------------------------------------------------------------------------


def test_rung_two_texts_only_with_a_phone_and_consent() -> None:
    both = Reach(email="a@x.com", phone="+15551234567", consent_sms=True)
    assert pick_channel(2, both) == "sms"
    assert pick_channel(1, both) == "email"
    assert pick_channel(2, replace(both, consent_sms=False)) == "email"
    assert pick_channel(2, replace(both, sms_suppressed=True)) == "email"
    assert pick_channel(1, Reach(email=None, phone="+15551234567", consent_sms=True)) is None
    assert pick_channel(3, Reach(email="a@x.com", consent_email=False)) is None


# --- cache keys and templates ---------------------------------------------------------------------


def test_near_identical_leads_share_a_key_whatever_their_names() -> None:
    other = lead(202, first_name="Bo", last_name="Chen", company="Acme", interest="gutters", deal_value=Decimal(3900))
    assert cache.cache_key(ANA).digest() == cache.cache_key(other).digest()


@pytest.mark.parametrize(
    "changes",
    [
        {"rung": 2},
        {"channel": "sms"},
        {"stage": "proposal"},
        {"source": "cold outbound list"},
        {"large_deal": True},
        {"days_silent": 45},
        {"recent": (PastActivity("call", 3, "Spoke on the phone"),)},
        {"interest": None},
        {"tenant_id": 2},
    ],
)
def test_what_changes_the_message_changes_the_key(changes: dict[str, object]) -> None:
    assert cache.cache_key(lead(303, **changes)).digest() != cache.cache_key(ANA).digest()


def test_deal_value_bands_are_relative_to_the_business() -> None:
    assert features.value_band(large_deal=True) == "large"
    assert features.value_band(large_deal=False) == "standard"


@pytest.mark.parametrize(("days", "band"), [(0, "recent"), (7, "recent"), (8, "long")])
def test_silence_bands(days: int, band: str) -> None:
    assert features.silence_band(days) == band


def test_buckets_for_stage_source_and_activity() -> None:
    assert features.stage_bucket("Proposal") == "deciding"
    assert features.stage_bucket("something odd") == "other"
    assert features.source_bucket("Website form") == features.source_bucket("partner referral") == "inbound"
    assert features.source_bucket("cold outbound list") == "outbound"
    assert features.source_bucket("unknown") == "unknown"
    assert features.activity_bucket("meeting") == features.activity_bucket("call") == "talk"
    assert features.activity_bucket("click") == features.activity_bucket("none") == "quiet"


def test_the_last_activity_is_the_leads_own_step_never_tracking() -> None:
    history = (PastActivity("email_out", 1, ""), PastActivity("click", 2, ""), PastActivity("form", 3, ""))
    assert lead(1, recent=history).last_activity_kind == "form"
    assert lead(1, recent=history[:2]).last_activity_kind == "none"


def test_a_generalised_answer_serves_another_lead_in_their_own_words() -> None:
    draft = Draft(
        "email",
        "Hi Ana,\n\nStill thinking about the roof repair? A yes or no is plenty.\n\nBest,\nMaya, Bright Homes",
        "Your roof repair, Ana",
    )
    template = cache.template_of(draft, ANA, "claude-sonnet-5-5")
    assert template.body.startswith("Hi {{first_name}},")
    assert "{{interest}}" in (template.subject or "")
    assert template.body.endswith("{{sender_name}}, {{business_name}}")
    assert cache.leftover_specifics(template, ANA) == set()

    bo = lead(404, first_name="Bo", company="Acme Corp", interest="gutter cleaning")
    filled = template.fill(bo)
    assert filled.body.startswith("Hi Bo,")
    assert "Still thinking about the gutter cleaning?" in filled.body
    assert check(filled, bo.facts()).ok
    assert template == cache.CachedTemplate.from_json(template.to_json(), model="claude-sonnet-5-5")


def test_an_answer_naming_the_company_stays_with_its_lead() -> None:
    draft = Draft("email", "Hi Ana,\n\nIs the roof repair for Sunbeam Roofing still on?\n\nMaya", "Quick one")
    assert cache.leftover_specifics(cache.template_of(draft, ANA), ANA) == {"sunbeam", "roofing"}


def test_company_is_context_not_a_slot_so_it_does_not_split_the_key() -> None:
    assert "company" not in ANA.slots()
    assert cache.cache_key(lead(9, company=None)).digest() == cache.cache_key(ANA).digest()


def test_an_answer_carrying_one_leads_details_is_not_reusable() -> None:
    context = lead(505, recent=(PastActivity("call", 2, "Worried about the skylight leaking into the attic"),))
    draft = Draft("email", "Hi Ana,\n\nIs the skylight still leaking? Happy to help.\n\nMaya", "Your skylight")
    assert cache.leftover_specifics(cache.template_of(draft, context), context) == {"skylight", "leaking"}


def test_personal_hashes_never_equal_a_key_digest() -> None:
    digest = cache.cache_key(ANA).digest()
    assert cache.personal_hash(digest, 101) != digest
    assert cache.personal_hash(digest, 101).startswith(digest)


# --- cost -----------------------------------------------------------------------------------------


def test_cost_prices_every_kind_of_token() -> None:
    usage = cost.Usage(input_tokens=1_000_000, output_tokens=100_000, cache_read_tokens=1_000_000)
    # Sonnet-class list prices as configured: 3 + 0.1 × 15 + 0.30 per million.
    assert cost.cost_usd("claude-sonnet-4-5-20250929", usage) == Decimal("4.800000")
    assert cost.cost_usd("claude-haiku-4-5", cost.Usage(cache_write_tokens=1_000_000)) == Decimal("1.250000")


def test_the_longest_model_prefix_sets_the_price() -> None:
    assert cost.price_for("claude-sonnet-5-5").cache_read == Decimal("0.10")
    assert cost.price_for("claude-sonnet-5").cache_read == Decimal("0.20")
    assert cost.price_for("claude-opus-4-1-20250805").input == Decimal(15)
    assert cost.price_for("claude-opus-4-5-20251101").input == Decimal(5)


@pytest.mark.parametrize(
    ("model", "effort"),
    [
        ("claude-sonnet-5-5", True),
        ("claude-haiku-5-5", True),
        ("claude-sonnet-4-5", False),
        ("claude-haiku-4-5", False),
    ],
)
def test_low_effort_is_asked_only_of_models_that_accept_it(model: str, effort: bool) -> None:
    assert prompt.supports_effort(model) is effort


def test_unknown_models_are_priced_like_the_default_not_as_free() -> None:
    usage = cost.Usage(input_tokens=1000, output_tokens=1000)
    assert cost.cost_usd("claude-future-9", usage) == cost.cost_usd("claude-sonnet-4-5", usage) > 0


def test_usage_adds_up_and_knows_its_uncached_input() -> None:
    total = cost.Usage(10, 5, 100, 50) + cost.Usage(1, 1, 1, 1)
    assert total == cost.Usage(11, 6, 101, 51)
    assert total.uncached_input == 62


# --- reply parsing --------------------------------------------------------------------------------


def test_structured_replies_are_parsed_and_subjects_flattened() -> None:
    text = '{"subject": "Your  roof", "body": "Hi Ana,\nline two"}'
    assert parse_reply(text, "email") == Draft("email", "Hi Ana,\nline two", "Your roof")


def test_prose_around_the_json_is_not_the_schema_and_is_refused() -> None:
    text = 'Here you go:\n```json\n{"subject": "Your roof", "body": "Hi Ana"}\n```'
    assert parse_reply(text, "email") is None


def test_sms_replies_are_flattened_and_get_the_opt_out_when_it_fits() -> None:
    draft = parse_reply('{"body": "Hi Ana,\\n still keen?"}', "sms")
    assert draft == Draft("sms", "Hi Ana, still keen? Reply STOP to opt out.")


@pytest.mark.parametrize(
    "text", ["no json here", '{"subject": "x"}', '{"subject": "x", "body": "  "}', "[1, 2]", '{"body": "x"}']
)
def test_replies_without_a_body_are_unparsable(text: str) -> None:
    assert parse_reply(text, "email") is None


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [({"retry-after": "3"}, 3.0), ({"retry-after-ms": "250"}, 0.25), ({"retry-after": "soon"}, None), ({}, None)],
)
def test_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(headers) == seconds


def test_the_prompts_own_examples_obey_the_rules_we_hold_claude_to() -> None:
    examples = [json.loads(line) for line in prompt.EXAMPLES.splitlines() if line.startswith("{")]
    assert len(examples) == 6
    for example in examples:
        draft = Draft("email" if "subject" in example else "sms", example["body"], example.get("subject"))
        name = example["body"].split()[1].rstrip(",")
        assert check(draft, Facts(first_name=name, sender_name="Sam", known_text="Bright Homes")).ok, example
