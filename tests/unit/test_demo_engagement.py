"""The demo's engagement script: stable per message, plausible in aggregate, and each step posted once."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

from app.domain import demo_engagement as script

SENT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_a_message_always_gets_the_same_story() -> None:
    assert [script.email_script(i) for i in range(200)] == [script.email_script(i) for i in range(200)]
    assert [script.sms_script(i) for i in range(200)] == [script.sms_script(i) for i in range(200)]


def test_email_rates_over_ten_thousand_messages_are_those_documented() -> None:
    kinds = Counter(p.kind for i in range(10_000) for p in script.email_script(i))
    # Documented: bounce 3 %, delivered 97 %, opens 35 % of delivered (≈ 3,395), clicks 25 % of
    # opens (≈ 850), unsubscribes 1.5 % (150), spam reports 0.3 % (30). Bounds: ± about 4 sigma.
    assert 230 <= kinds["bounce"] <= 370
    assert kinds["delivered"] + kinds["bounce"] == 10_000
    assert 3_200 <= kinds["open"] <= 3_600
    assert 730 <= kinds["click"] <= 970
    assert 100 <= kinds["unsubscribe"] <= 200
    assert 10 <= kinds["spamreport"] <= 55


def test_some_emails_are_answered_in_words_never_with_an_unsubscribe_or_after_a_bounce() -> None:
    scripts = [script.email_script(i) for i in range(10_000)]
    answered = [s for s in scripts if any(p.kind == "reply" for p in s)]
    # Documented: 6 % of the delivered mail not unsubscribed or reported (97 % x 98.2 %): about 572.
    assert 480 <= len(answered) <= 665
    for steps in answered:
        kinds = {p.kind for p in steps}
        assert "delivered" in kinds
        assert not kinds & {"bounce", "unsubscribe", "spamreport"}
        assert all(p.text.strip() for p in steps if p.kind == "reply")


def test_a_click_never_comes_before_its_open_and_a_bounced_mail_does_nothing_else() -> None:
    for i in range(5_000):
        steps = {p.kind: p.after for p in script.email_script(i)}
        if "click" in steps:
            assert steps["open"] < steps["click"]
        if "bounce" in steps:
            assert set(steps) == {"bounce"}


def test_sms_failures_carry_twilios_codes_and_stops_say_stop() -> None:
    steps = [p for i in range(10_000) for p in script.sms_script(i)]
    codes = Counter(p.error_code for p in steps if p.kind in ("failed", "undelivered"))
    assert set(codes) == {"21614", "30007"}
    assert all(p.text.strip().lower().startswith("stop") for p in steps if p.kind == "stop")
    # Documented: stop 2.5 % and replies 12 % of the 97 % delivered: ≈ 243 and ≈ 1,164.
    kinds = Counter(p.kind for p in steps)
    assert 180 <= kinds["stop"] <= 310
    assert 1_030 <= kinds["reply"] <= 1_300


def test_consecutive_windows_post_every_step_exactly_once() -> None:
    steps = script.email_script(7) + script.sms_script(7)
    edges = [SENT + timedelta(minutes=m) for m in range(0, 400, 7)]
    posted = [p for a, b in itertools.pairwise(edges) for p in script.due_between(SENT, steps, a, b)]
    assert sorted(posted, key=repr) == sorted(steps, key=repr)
