"""Hand-written replies (none from the training file) and the dates they name."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.triage import Intent, NaiveBayes, classify, extract_date
from app.services.triage_model import examples, model

TODAY = date(2026, 12, 6)  # a Sunday

CASES = [
    ("Yes! Can someone ring me this afternoon, keen to get going", Intent.INTERESTED),
    ("sure lets book it in for next thurs", Intent.INTERESTED),
    ("Do you guys do evening appointments?", Intent.QUESTION),
    ("what would the monthly cost be for 3 users?", Intent.QUESTION),
    ("Not at the moment, maybe next month", Intent.NOT_NOW),
    ("can you follow up in february", Intent.NOT_NOW),
    ("No thanks, we're sorted", Intent.NOT_INTERESTED),
    ("not interested in this anymore thanks", Intent.NOT_INTERESTED),
    ("Please remove me from all your lists", Intent.UNSUBSCRIBE),
    ("STOP", Intent.UNSUBSCRIBE),
    ("Automatic reply: I'm out of the office until 12 January.", Intent.OUT_OF_OFFICE),
    ("I'm on holiday, back on Monday", Intent.OUT_OF_OFFICE),
    ("Sorry, wrong number mate", Intent.WRONG_PERSON),
    ("Mike no longer works here", Intent.WRONG_PERSON),
]


@pytest.mark.parametrize(("text", "intent"), CASES)
def test_hand_written_replies_read_as_meant(text: str, intent: Intent) -> None:
    assert classify(text, model=model(), today=TODAY).intent is intent


def test_the_answer_names_the_lead_and_the_business() -> None:
    got = classify("yes please, call me", model=model(), today=TODAY, first_name="Dana", business="Glow Spa")
    assert got.priority == "high"
    assert got.sentiment > 0
    assert "Dana" in got.suggested_answer
    assert "Glow Spa" in got.suggested_answer


def test_not_now_carries_the_snooze_date() -> None:
    got = classify("not now, try me in 2 weeks", model=model(), today=TODAY)
    assert got.intent is Intent.NOT_NOW
    assert got.until == date(2026, 12, 20)


def test_out_of_office_carries_the_return_date() -> None:
    got = classify("Out of office until January 5", model=model(), today=TODAY)
    assert got.until == date(2027, 1, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("back on 3 January", date(2027, 1, 3)),
        ("returning Dec 28", date(2026, 12, 28)),
        ("back on the 9th", date(2026, 12, 9)),
        ("back on the 2nd", date(2027, 1, 2)),
        ("back on the 20th", date(2026, 12, 20)),
        ("return on 12/14", date(2026, 12, 14)),
        ("back monday", date(2026, 12, 7)),
        ("next month", date(2027, 1, 1)),
        ("next week", date(2026, 12, 7)),
        ("in 3 weeks", date(2026, 12, 27)),
        ("in a couple of months", date(2027, 2, 6)),
        ("tomorrow", date(2026, 12, 7)),
        ("in the new year", date(2027, 1, 1)),
        ("until March", date(2027, 3, 1)),
        ("no date here at all", None),
        ("back on 31 February", None),
    ],
)
def test_dates_named_in_a_reply(text: str, expected: date | None) -> None:
    assert extract_date(text, TODAY) == expected


def test_the_shipped_set_is_big_enough_and_covers_every_intent() -> None:
    rows = examples()
    assert len(rows) >= 700
    assert {r["intent"] for r in rows} == {i.value for i in Intent}
    assert {r["channel"] for r in rows} == {"sms", "email"}


def test_training_needs_examples() -> None:
    with pytest.raises(ValueError, match="at least one"):
        NaiveBayes.train([])
