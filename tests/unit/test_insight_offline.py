"""The drawer's offline insight: a deterministic reading of the lead's facts, and a stable cache key."""

from __future__ import annotations

import dataclasses
import json

from app.ai import insight
from app.ai.insight import InsightFacts, objections_in, offline_insight

QUIET = InsightFacts(
    first_name="Dana",
    state="silent",
    stage="proposal",
    source="web_form",
    score=55,
    deal_value=8_000,
    rung=1,
    days_silent=12,
    window_days=30,
    opens=0,
    clicks=0,
    replies=0,
    sent=2,
    days_since_sent=3,
    last_own_kind="form",
    last_own_summary="Asked for a quote",
    days_since_own=12,
    reply_intent=None,
    reply_sentiment=None,
    days_since_reply=None,
    objections=(),
    has_phone=True,
    interest="kitchen remodel",
)


def test_unopened_messages_suggest_another_channel() -> None:
    written = offline_insight(QUIET)
    assert written.source == "offline"
    assert written.model == insight.OFFLINE_MODEL
    assert written.why_silent == (
        "Quiet for 12 days. We sent 2 messages in 30 days and none was opened, so they may not be seeing them. "
        "Their last own step was a form 12 days ago."
    )
    assert written.next_step == "Change channel: a short call or text, since the emails are not being opened."


def test_objections_in_replies_decide_the_advice() -> None:
    facts = dataclasses.replace(
        QUIET,
        replies=1,
        reply_intent="not_now",
        reply_sentiment="neutral",
        days_since_reply=4,
        objections=objections_in(("It's too expensive for us, maybe next year.",)),
    )
    assert facts.objections == ("price", "timing")
    written = offline_insight(facts)
    assert "Their last reply (4 days ago) said not now." in written.why_silent
    assert "Their replies raised price, timing." in written.why_silent
    assert written.next_step.startswith(
        "Lead with value, not a discount: offer a smaller first step on kitchen remodel"
    )


def test_a_lead_who_replied_is_waiting_for_us() -> None:
    facts = dataclasses.replace(QUIET, state="replied", replies=1, days_since_reply=0, sent=0)
    written = offline_insight(facts)
    assert written.why_silent.startswith("Quiet for 12 days. They replied today and are waiting for us")
    assert written.next_step.startswith("Answer their reply today")


def test_readers_who_do_not_reply_get_an_easy_question() -> None:
    written = offline_insight(dataclasses.replace(QUIET, opens=3))
    assert "opened our messages 3 times but neither clicked nor replied" in written.why_silent
    assert written.next_step.startswith("Ask one easy yes-or-no question about kitchen remodel")


def test_a_lead_active_today_is_not_called_silent() -> None:
    written = offline_insight(dataclasses.replace(QUIET, days_silent=0, days_since_own=0, sent=0))
    assert written.why_silent == "Not silent yet: active within the last day. Their last own step was a form today."


def test_objections_match_whole_phrases_only() -> None:
    assert objections_in(("We went with someone else",)) == ("competitor",)
    assert objections_in(("I need to check with my partner",)) == ("decision maker",)
    assert objections_in(("Costa Rica trip, back soon",)) == ()  # "cost" inside a word is no objection
    assert objections_in(()) == ()


def test_the_same_facts_always_give_the_same_words_and_key() -> None:
    assert offline_insight(QUIET) == offline_insight(dataclasses.replace(QUIET))
    assert QUIET.digest("offline") == dataclasses.replace(QUIET).digest("offline")
    assert QUIET.digest("offline") != QUIET.digest("claude-sonnet-5-5"), "the key names the writer"
    assert QUIET.digest("offline") != dataclasses.replace(QUIET, days_silent=13).digest("offline")


def test_stored_output_reads_back_with_its_writer() -> None:
    written = offline_insight(QUIET)
    again = insight.from_stored(written.to_json(), insight.OFFLINE_MODEL)
    assert again is not None
    assert (again.why_silent, again.next_step, again.source, again.cached) == (
        written.why_silent,
        written.next_step,
        "offline",
        True,
    )
    claude = insight.from_stored(json.dumps({"why_silent": "a", "next_step": "b"}), "claude-x")
    assert claude is not None
    assert claude.source == "claude"
    assert insight.from_stored("{}", "claude-x") is None
    assert insight.from_stored("not json", "claude-x") is None


def test_the_prompt_lists_only_known_facts() -> None:
    text = insight.user_content(QUIET)
    assert "first_name: Dana" in text
    assert "interest: kitchen remodel" in text
    assert "reply_intent" not in text
    assert "objections" not in text
