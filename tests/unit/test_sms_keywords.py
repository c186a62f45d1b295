"""The words a whole text may be: opt-out, help, opt-in; anything else is a reply for a person."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.sms_keywords import Keyword, classify, help_answer, opt_in_confirmation, opt_out_confirmation

OPT_OUTS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"]


@pytest.mark.parametrize("word", OPT_OUTS)
def test_every_opt_out_word_in_any_case_opts_out(word: str) -> None:
    assert classify(word) is Keyword.OPT_OUT
    assert classify(word.lower()) is Keyword.OPT_OUT
    assert classify(word.title()) is Keyword.OPT_OUT


@pytest.mark.parametrize(
    "body",
    [
        " stop ",
        "Stop.",
        "OPT OUT",
        "opt   out",
        "stopall",
        "unsubscribe!",
        "\tSTOP\n",
        "«stop»",
        "...Cancel!!!",
        "end\u00a0",
    ],
)
def test_surrounding_spaces_and_punctuation_are_ignored(body: str) -> None:
    assert classify(body) is Keyword.OPT_OUT


@pytest.mark.parametrize(
    "body",
    [
        "stop by tomorrow please",
        "please stop",
        "STOP IT",
        "stopping",
        "st op",
        "OPT-OUT",  # inner punctuation is part of the word: not one of the listed ones
        "",
        "   ",
        "Can you call me at 5?",
        "stop stop",
    ],
)
def test_anything_else_is_a_reply(body: str) -> None:
    assert classify(body) is Keyword.NONE


@pytest.mark.parametrize(("body", "keyword"), [("help", Keyword.HELP), (" Info? ", Keyword.HELP)])
def test_help_and_info_ask_for_help(body: str, keyword: Keyword) -> None:
    assert classify(body) is keyword


@pytest.mark.parametrize("body", ["START", "start!", " Unstop "])
def test_start_and_unstop_opt_back_in(body: str) -> None:
    assert classify(body) is Keyword.OPT_IN


def test_the_answers_name_the_business_and_its_contact() -> None:
    assert opt_out_confirmation("Acme Sales") == (
        "Acme Sales: you are unsubscribed and will receive no more messages from us. Reply START to resubscribe."
    )
    assert opt_in_confirmation("Acme Sales") == (
        "Acme Sales: you are resubscribed to our messages. Reply HELP for help, STOP to opt out."
    )
    assert help_answer("Acme", contact="Maya", email="sales@acme.example", phone="+15557770000") == (
        "Acme: messages about your enquiry. Contact Maya at sales@acme.example or +15557770000. "
        "Reply STOP to opt out. Msg & data rates may apply."
    )
    assert help_answer("Acme", phone="+15557770000") == (
        "Acme: messages about your enquiry. Contact us at +15557770000. "
        "Reply STOP to opt out. Msg & data rates may apply."
    )
    assert help_answer("Acme", contact="Maya", email=" ", phone="") == (
        "Acme: messages about your enquiry. Reply STOP to opt out. Msg & data rates may apply."
    )


@given(st.sampled_from(OPT_OUTS), st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12))
def test_an_opt_out_word_followed_by_more_words_is_a_reply(word: str, more: str) -> None:
    assert classify(f"{word} {more}") is Keyword.NONE


@given(st.sampled_from(OPT_OUTS), st.text(alphabet=" .,!?;:-\t\n", max_size=5), st.text(alphabet=" .!?", max_size=5))
def test_an_opt_out_word_with_any_surrounding_punctuation_opts_out(word: str, before: str, after: str) -> None:
    assert classify(before + word.swapcase() + after) is Keyword.OPT_OUT
