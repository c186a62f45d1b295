"""The wizard's preview: a template filled for one lead, or the reason the writer drafts that lead's message."""

from __future__ import annotations

from app.domain.message_preview import preview_message
from app.domain.messages import Facts
from app.domain.plan.wizard import MessageText
from app.domain.template_library import STARTERS

ANN = {"first_name": "Ann", "sender_name": "Sam"}
FACTS = Facts(first_name="Ann", sender_name="Sam")


def test_an_sms_filled_for_the_lead_with_its_segments() -> None:
    text = MessageText(sms_body="Hi {{first_name}}, it's {{sender_name}}. Still keen? Reply STOP to opt out.")
    shown = preview_message("sms", text, ANN, FACTS)
    assert shown is not None
    assert shown.body == "Hi Ann, it's Sam. Still keen? Reply STOP to opt out."
    assert (shown.subject, shown.segments and shown.segments.segments, shown.uses_template) == (None, 1, True)


def test_a_slot_without_value_hands_the_lead_to_the_writer() -> None:
    text = MessageText("About {{interest}}", "Hi {{first_name}}, about {{interest}}...")
    shown = preview_message("email", text, ANN, FACTS)
    assert shown is not None
    assert shown.problems == ("template variable 'interest' has no value",)
    assert shown.body == "Hi {{first_name}}, about {{interest}}..."


def test_a_text_the_checks_refuse_is_named() -> None:
    shown = preview_message("sms", MessageText(sms_body="Hello {{first_name}}!"), ANN, FACTS)
    assert shown is not None
    assert shown.problems == ("SMS lacks the opt-out line",)
    assert not shown.uses_template


def test_no_text_for_the_channel_is_no_preview() -> None:
    assert preview_message("email", MessageText(sms_body="Hi {{first_name}} STOP"), ANN, FACTS) is None


def test_every_starter_passes_the_writer_s_checks_for_a_long_name() -> None:
    slots = {"first_name": "Alexandra-Maria", "sender_name": "Sunridge Solar team"}
    facts = Facts(first_name="Alexandra-Maria", sender_name="Sunridge Solar team")
    for name, text in STARTERS.items():
        for channel in ("email", "sms"):
            shown = preview_message(channel, text, slots, facts)
            assert shown is not None
            assert shown.problems == (), (name, channel)
