"""The seven things a reply can mean, and what each asks of us by default."""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    INTERESTED = "interested"
    QUESTION = "question"
    NOT_NOW = "not_now"
    NOT_INTERESTED = "not_interested"
    UNSUBSCRIBE = "unsubscribe"
    OUT_OF_OFFICE = "out_of_office"
    WRONG_PERSON = "wrong_person"


SENTIMENT = {
    Intent.INTERESTED: 0.8,
    Intent.QUESTION: 0.3,
    Intent.NOT_NOW: 0.0,
    Intent.NOT_INTERESTED: -0.6,
    Intent.UNSUBSCRIBE: -0.9,
    Intent.OUT_OF_OFFICE: 0.0,
    Intent.WRONG_PERSON: -0.2,
}
PRIORITY = {
    Intent.INTERESTED: "high",
    Intent.QUESTION: "high",
    Intent.NOT_NOW: "medium",
    Intent.NOT_INTERESTED: "low",
    Intent.UNSUBSCRIBE: "medium",
    Intent.OUT_OF_OFFICE: "low",
    Intent.WRONG_PERSON: "low",
}
ANSWERS = {
    Intent.INTERESTED: "Great to hear, {first_name}! When suits you for a quick call with {business}?",
    Intent.QUESTION: "Thanks for asking, {first_name}. Here is what {business} can tell you: ",
    Intent.NOT_NOW: "No problem, {first_name}. {business} will check back in{when}.",
    Intent.NOT_INTERESTED: "Understood, {first_name}. Thanks for letting {business} know.",
    Intent.UNSUBSCRIBE: "Done, {first_name}: {business} has removed you and will not contact you again.",
    Intent.OUT_OF_OFFICE: "",
    Intent.WRONG_PERSON: "Sorry for the mix-up. {business} has noted it and will not message this contact again.",
}
