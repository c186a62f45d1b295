"""The default ladder plan walked by the interpreter with a pinned clock (America/Chicago, CDT = UTC-5)."""

from datetime import UTC, datetime, timedelta

from app.domain.plan import (
    CancelTimers,
    Enrolled,
    EnrollmentState,
    LeadEvent,
    LeadFacts,
    Moved,
    Schedule,
    Send,
    Stop,
    TimerFired,
    default_recovery_plan,
    step,
)

PLAN = default_recovery_plan([24, 48, 72], "America/Chicago", (21, 8), (8, 20))
LEAD = LeadFacts(timezone="America/Chicago", email_ok=True, sms_ok=True)
T = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)  # 10:00 in Chicago: inside the 08-20 window
GENTLE, NUDGE, LAST = "a gentle check-in", "a helpful nudge with something new", "a last, no-pressure note"


def test_the_lead_climbs_a_rung_per_gap_and_a_reply_stops_it() -> None:
    state, actions = step(PLAN, EnrollmentState(), Enrolled(LEAD), T)
    assert actions == (
        Moved(None, "rung-1", "enrolled"),
        Send("rung-1", "email", None, T, 1, brief=GENTLE),
        Moved("rung-1", "wait-1", "next"),
        Schedule("wait", "wait-1", T + timedelta(hours=24)),  # the gap 48 - 24
    )
    assert (state.status, state.node, state.sent) == ("active", "wait-1", frozenset({("rung-1", 1)}))

    t2 = T + timedelta(hours=24)  # 10:00 the next day, silent 48 h: rung 2, by SMS as the ladder prefers
    state, actions = step(PLAN, state, TimerFired("wait", "wait-1"), t2)
    assert actions == (
        Moved("wait-1", "rung-2", "wait"),
        Send("rung-2", "sms", None, t2, 1, brief=NUDGE),
        Moved("rung-2", "wait-2", "next"),
        Schedule("wait", "wait-2", t2 + timedelta(hours=24)),  # the gap 72 - 48
    )

    replied_at = t2 + timedelta(hours=6)
    state, actions = step(PLAN, state, LeadEvent("replied", replied_at), replied_at)
    assert actions == (CancelTimers(), Moved("wait-2", "stop", "replied"), Stop("reached 'stop' on replied"))
    assert (state.status, state.timer) == ("stopped", None)

    # The timer a worker had already picked up fires anyway: nothing more goes out.
    assert step(PLAN, state, TimerFired("wait", "wait-2"), t2 + timedelta(hours=24)) == (state, ())


def test_without_a_reply_the_plan_sends_rung_3_and_completes_after_the_whole_ladder() -> None:
    state, _ = step(PLAN, EnrollmentState(), Enrolled(LEAD), T)
    state, _ = step(PLAN, state, TimerFired("wait", "wait-1"), T + timedelta(hours=24))
    t3 = T + timedelta(hours=48)
    state, actions = step(PLAN, state, TimerFired("wait", "wait-2"), t3)
    assert actions[1] == Send("rung-3", "email", None, t3, 1, brief=LAST)
    assert actions[-1] == Schedule("wait", "wait-3", t3 + timedelta(hours=72))

    state, actions = step(PLAN, state, TimerFired("wait", "wait-3"), t3 + timedelta(hours=72))
    assert [type(action).__name__ for action in actions] == ["Moved", "Complete"]
    assert (state.status, state.sent) == ("completed", frozenset({("rung-1", 1), ("rung-2", 1), ("rung-3", 1)}))


def test_a_send_at_night_waits_for_the_morning_and_the_gap_counts_from_it() -> None:
    night = datetime(2026, 6, 11, 3, 0, tzinfo=UTC)  # 22:00 on June 10 in Chicago: quiet hours
    morning = datetime(2026, 6, 11, 13, 0, tzinfo=UTC)  # 08:00 on June 11 in Chicago

    state, actions = step(PLAN, EnrollmentState(), Enrolled(LEAD), night)

    assert actions[1] == Send("rung-1", "email", None, morning, 1, brief=GENTLE)
    assert actions[3] == Schedule("wait", "wait-1", morning + timedelta(hours=24))
    assert (state.entered_at, state.clock_from) == (night, morning)


def test_a_lead_with_only_a_phone_gets_every_rung_by_sms() -> None:
    phone_only = LeadFacts(timezone="America/Chicago", sms_ok=True)
    state, actions = step(PLAN, EnrollmentState(), Enrolled(phone_only), T)
    assert actions[1] == Send("rung-1", "sms", None, T, 1, brief=GENTLE)
    state, actions = step(PLAN, state, TimerFired("wait", "wait-1"), T + timedelta(hours=24))
    assert actions[1] == Send("rung-2", "sms", None, T + timedelta(hours=24), 1, brief=NUDGE)
    state, actions = step(PLAN, state, TimerFired("wait", "wait-2"), T + timedelta(hours=48))
    assert actions[1] == Send("rung-3", "sms", None, T + timedelta(hours=48), 1, brief=LAST)


def test_a_reply_before_the_morning_send_stops_it_and_the_stop_says_so() -> None:
    night = datetime(2026, 6, 11, 3, 0, tzinfo=UTC)
    state, _ = step(PLAN, EnrollmentState(), Enrolled(LEAD), night)
    at = night + timedelta(hours=2)
    state, actions = step(PLAN, state, LeadEvent("unsubscribed", at), at)
    assert actions == (CancelTimers(), Moved("wait-1", "stop", "unsubscribed"), Stop("reached 'stop' on unsubscribed"))


def test_a_later_silence_episode_sends_rung_1_again_but_never_twice_in_one_episode() -> None:
    state, _ = step(PLAN, EnrollmentState(), Enrolled(LEAD), T)
    state, _ = step(PLAN, state, LeadEvent("clicked", T + timedelta(hours=3)), T + timedelta(hours=3))
    assert state.status == "stopped"

    # The scan enrolls the same episode again (a retried job): nothing happens.
    assert step(PLAN, state, Enrolled(LEAD, episode=1), T + timedelta(hours=4)) == (state, ())

    later = T + timedelta(days=10)
    state, actions = step(PLAN, state, Enrolled(LEAD, episode=2), later)
    assert actions[:2] == (Moved(None, "rung-1", "enrolled"), Send("rung-1", "email", None, later, 2, brief=GENTLE))
    assert (state.status, state.episode, state.sent) == ("active", 2, frozenset({("rung-1", 2)}))


def test_an_open_of_the_previous_episodes_message_is_stale_but_its_reply_still_stops() -> None:
    state, _ = step(PLAN, EnrollmentState(), Enrolled(LEAD, episode=2), T)
    at = T + timedelta(hours=1)
    assert step(PLAN, state, LeadEvent("clicked", at, episode=1), at) == (state, ())
    stopped, actions = step(PLAN, state, LeadEvent("replied", at, episode=1), at)
    assert stopped.status == "stopped"
    assert actions[-1] == Stop("reached 'stop' on replied")
