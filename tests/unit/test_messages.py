import pytest

from app.domain.messages import Draft, Facts, check, with_sms_opt_out
from app.domain.templates import MissingVariable, generalise, render

FACTS = Facts(first_name="Maria", company="Sunbeam Roofing", sender_name="Alex", deal_value="$12,000")


def test_a_good_sms_passes() -> None:
    draft = Draft("sms", "Hi Maria, still thinking about the solar quote for Sunbeam Roofing? Reply STOP to opt out.")
    assert check(draft, FACTS).ok


@pytest.mark.parametrize(
    ("draft", "problem"),
    [
        (Draft("sms", "Hi Maria, " + "x" * 160 + " STOP"), "characters"),
        (Draft("sms", "Hi Maria, still keen on the quote?"), "opt-out"),
        (Draft("sms", "Hi {{first_name}}, reply STOP to opt out"), "placeholder"),
        (Draft("sms", "Hi Maria, 20% off until Dec 5! Reply STOP to opt out"), "facts not in the context"),
        (Draft("email", "Hi Maria, the price is now $9,999.", subject="Quick question"), "$9,999"),
        (Draft("email", "Hi Maria", subject=""), "subject"),
        (Draft("email", "Hello there, the quote stands.", subject="Your quote"), "by name"),
    ],
)
def test_bad_drafts_are_caught(draft: Draft, problem: str) -> None:
    verdict = check(draft, FACTS)
    assert not verdict.ok
    assert any(problem in p for p in verdict.problems), verdict.problems


def test_known_price_is_allowed() -> None:
    draft = Draft("email", "Hi Maria, your $12,000 project is still reserved.", subject="Your project")
    assert check(draft, FACTS).ok


def test_opt_out_is_added_only_when_it_fits() -> None:
    assert with_sms_opt_out("Hi Maria").endswith("Reply STOP to opt out.")
    long = "x" * 150
    assert with_sms_opt_out(long) == long


def test_render_is_strict_and_generalise_round_trips() -> None:
    assert render("Hi {{first_name}}", {"first_name": "Ana"}) == "Hi Ana"
    with pytest.raises(MissingVariable):
        render("Hi {{first_name}}", {"first_name": ""})
    values = {"first_name": "Ana", "company": "Acme Dental"}
    template = generalise("Hi Ana, how is Acme Dental?", values)
    assert template == "Hi {{first_name}}, how is {{company}}?"
    assert render(template, {"first_name": "Bo", "company": "Zed"}) == "Hi Bo, how is Zed?"
