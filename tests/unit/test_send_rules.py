import itertools
from datetime import UTC, datetime

import pytest

from app.domain import send_rules
from app.domain.footer import email_footer, with_footer
from app.domain.send_rules import MAX_ATTEMPTS, Recipient, Verdict, gate, gives_up, retry_delay
from app.domain.sending_window import Window

NIGHT_IN_NEW_YORK = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 22:00 EST


def recipient(**changes: object) -> Recipient:
    fields: dict[str, object] = {
        "channel": "sms",
        "suppressed": False,
        "consented": True,
        "timezone": "Asia/Tokyo",
        "tenant_window": Window(0, 24),
    }
    fields.update(changes)
    return Recipient(**fields)  # type: ignore[arg-type]


def test_suppression_wins_over_everything() -> None:
    assert gate(recipient(suppressed=True, consented=False), NIGHT_IN_NEW_YORK).verdict is Verdict.SUPPRESS


def test_no_consent_cancels() -> None:
    verdict = gate(recipient(consented=False), NIGHT_IN_NEW_YORK)
    assert verdict.verdict is Verdict.CANCEL
    assert verdict.reason == "lead has no sms consent"


def test_quiet_hours_defer_to_the_next_local_morning() -> None:
    verdict = gate(recipient(timezone="America/New_York"), NIGHT_IN_NEW_YORK)
    assert verdict.verdict is Verdict.DEFER
    assert verdict.until == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def test_email_follows_the_tenants_window_not_the_sms_hours() -> None:
    at_night = recipient(channel="email", timezone="America/New_York")
    assert gate(at_night, NIGHT_IN_NEW_YORK).verdict is Verdict.SEND
    assert gate(recipient(channel="email", tenant_window=Window(9, 17)), NIGHT_IN_NEW_YORK).verdict is Verdict.SEND
    assert gate(recipient(channel="email", timezone="UTC", tenant_window=Window(9, 17)), NIGHT_IN_NEW_YORK).verdict is (
        Verdict.DEFER
    )


def test_retries_double_from_thirty_seconds_and_respect_retry_after() -> None:
    assert retry_delay(1, None, 0.5) == pytest.approx(30)
    assert retry_delay(2, None, 0.5) == pytest.approx(60)
    assert retry_delay(3, None, 0.0) == pytest.approx(96)  # 120 s minus 20 % jitter
    assert retry_delay(1, 300, 0.5) == 300
    assert retry_delay(20, None, 0.5) == pytest.approx(3600)


def test_the_last_attempt_gives_up() -> None:
    assert not gives_up(MAX_ATTEMPTS - 1)
    assert gives_up(MAX_ATTEMPTS)


def test_the_footer_names_sender_address_and_opt_out() -> None:
    footer = email_footer(sender_name="Acme", physical_address="1 Main St\nSpringfield", unsubscribe_url="https://u/x")
    assert with_footer("Hi Ann,\n", footer) == "Hi Ann,\n\n--\nAcme\n1 Main St Springfield\nUnsubscribe: https://u/x"


def test_a_stopped_recovery_cancels_a_message_written_before_the_lead_answered() -> None:
    verdict = gate(recipient(stopped="its enrollment is stopped"), NIGHT_IN_NEW_YORK)
    assert verdict.verdict is Verdict.CANCEL
    assert verdict.reason == "recovery stopped: its enrollment is stopped"


def test_a_phone_a_carrier_refused_cancels_the_text_but_suppression_still_comes_first() -> None:
    verdict = gate(recipient(unreachable="21614 not a mobile number"), NIGHT_IN_NEW_YORK)
    assert verdict.verdict is Verdict.CANCEL
    assert verdict.reason == "sms cannot reach the lead: 21614 not a mobile number"
    assert gate(recipient(suppressed=True, unreachable="x"), NIGHT_IN_NEW_YORK).verdict is Verdict.SUPPRESS


def test_the_database_retry_doubles_from_a_quarter_second_to_four_and_jitter_takes_up_to_half() -> None:
    assert [send_rules.db_retry_delay(n, 0.0) for n in range(1, 8)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert send_rules.db_retry_delay(3, 0.5) == 0.75


def test_the_database_retry_waits_long_enough_to_outlast_a_restart_but_not_past_the_job() -> None:
    # Without jitter: 0.25 + 0.5 + 1 + 2 + 4 + 4 = 11.75 s of waiting fit in the budget, a 7th 4 s does not.
    waits = list(itertools.accumulate(send_rules.db_retry_delay(n, 0.0) for n in range(1, 8)))
    assert [w for w in waits if w <= send_rules.DB_RETRY_BUDGET_SECONDS] == [0.25, 0.75, 1.75, 3.75, 7.75, 11.75]
