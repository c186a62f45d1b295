"""Properties of the interpreter over random valid plans and random event sequences.

Each run enrolls a lead, then plays a random sequence: the pending timer firing when due,
provider and lead events, stale or early timers, repeated enrollments and new episodes, with
the clock moving forward. After every step it checks, by its own arithmetic:
- never two sends for one node and episode;
- every send inside the send window and outside the quiet hours (SMS 08-21) in the lead's
  zone (the plan's when the lead's is unknown), at the first such moment at or after now;
- the enrollment has ended or has exactly one pending timer, the one its actions armed;
- a reply stops the enrollment unless the node it is at routes `replied` elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hypothesis import event as note
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.plan import (
    CancelTimers,
    Complete,
    Enrolled,
    EnrollmentState,
    LeadEvent,
    LeadFacts,
    Moved,
    Plan,
    Schedule,
    Send,
    Stop,
    TimerFired,
    parse_plan,
    step,
    validate_plan,
)
from tests.unit.plan_strategies import EVENTS, STAGES, TAGS, ZONES, allowed_hour, plans

QUARTER = timedelta(minutes=15)

facts = st.builds(
    LeadFacts,
    timezone=st.sampled_from([*ZONES, None, "Mars/Base"]),
    email_ok=st.sampled_from([True, True, True, False]),
    sms_ok=st.sampled_from([True, True, False]),
    deal_value=st.integers(0, 10_000).map(float),
    intent_score=st.integers(0, 100),
    silent_hours=st.integers(0, 500).map(float),
    stage=st.sampled_from(STAGES),
    tags=st.frozensets(st.sampled_from(TAGS)),
)
moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC))


@dataclass
class Run:
    """The plan, the enrollment, and what the harness knows from the actions alone."""

    raw: dict[str, Any]
    plan: Plan
    state: EnrollmentState = field(default_factory=EnrollmentState)
    now: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    armed: Schedule | None = None
    sends: set[tuple[str, int]] = field(default_factory=set)

    def play(self, event: Any) -> tuple[EnrollmentState, tuple[Any, ...]]:
        before = self.state
        if isinstance(event, TimerFired) and self._fires_the_armed(event):
            self.armed = None  # a timer that fires is consumed
        self.state, actions = step(self.plan, before, event, self.now)
        self._check(before, event, actions)
        return before, actions

    def _fires_the_armed(self, event: TimerFired) -> bool:
        armed = self.armed
        return armed is not None and (armed.kind, armed.node) == (event.kind, event.node) and self.now >= armed.due_at

    def _check(self, before: EnrollmentState, event: Any, actions: tuple[Any, ...]) -> None:
        for action in actions:
            if isinstance(action, Send):
                self._check_send(action)
            elif isinstance(action, CancelTimers):
                self.armed = None
            elif isinstance(action, Schedule):
                assert self.armed is None, "two timers pending at once"
                self.armed = action
        ends = [a for a in actions if isinstance(a, Stop | Complete)]
        if ends:
            assert actions[-1] is ends[0], "nothing may follow the end of an enrollment"
        state = self.state
        if state.status == "active":
            assert state.timer is not None, "an active enrollment without a pending timer"
            assert self.armed == Schedule(state.timer.kind, state.timer.node, state.timer.due_at)
        else:
            assert state.status in ("completed", "stopped", "idle")
            assert state.timer is None
            assert self.armed is None
        if before.status != "active" and not isinstance(event, Enrolled):
            assert actions == ()
        if isinstance(event, LeadEvent) and event.kind == "replied" and before.status == "active":
            self._check_reply(before, event, actions)

    def _check_send(self, send: Send) -> None:
        key = (send.node, send.episode)
        note(f"a send in episode {min(send.episode, 3)}{'+' if send.episode >= 3 else ''}")
        assert key not in self.sends, f"a second send for {key}"
        self.sends.add(key)
        assert send.episode == self.state.episode
        assert send.not_before >= self.now
        zone = ZoneInfo(_zone_of(self.state.facts.timezone, self.raw["timezone"]))
        window = (self.raw["send_window"]["start"], self.raw["send_window"]["end"])
        quiet = (self.raw["quiet_hours"]["start"], self.raw["quiet_hours"]["end"])

        def allowed(moment: datetime) -> bool:
            return allowed_hour(moment.astimezone(zone).hour, send.channel, window, quiet)

        assert allowed(send.not_before), f"{send} falls outside the allowed hours in {zone}"
        # The first allowed moment: local hours start on quarter hours in every zone, so none
        # of those between now and not_before may be allowed either.
        if send.not_before > self.now:
            note("a send deferred to the next allowed hour")
            assert not allowed(self.now)
            instant = self.now + (datetime.min.replace(tzinfo=UTC) - self.now) % QUARTER
            while instant < send.not_before:
                assert not allowed(instant), f"{instant} was allowed before {send.not_before}"
                instant += QUARTER

    def _check_reply(self, before: EnrollmentState, event: LeadEvent, actions: tuple[Any, ...]) -> None:
        node = next(n for n in self.raw["nodes"] if n["id"] == before.node)
        route = next(
            (t for t in node.get("transitions", []) if t["on"] == "replied" and _in_time(t, before, event)), None
        )
        note(f"a reply {'the node routes' if route else 'that stops'}")
        if route is None:
            assert self.state.status == "stopped"
            assert not any(isinstance(a, Send) for a in actions)
        else:
            moves = [a for a in actions if isinstance(a, Moved)]
            assert moves[0] == Moved(before.node, route["to"], "replied")


def _in_time(transition: dict[str, Any], before: EnrollmentState, event: LeadEvent) -> bool:
    if "within" not in transition:
        return True
    # The strategy writes PT<n>H, PT<n>M and P<n>D only.
    text, amount = transition["within"], int(transition["within"].strip("PTHMD"))
    unit = {"H": timedelta(hours=1), "M": timedelta(minutes=1), "D": timedelta(days=1)}[text[-1]]
    assert before.clock_from is not None
    return event.at <= before.clock_from + amount * unit


def _zone_of(lead_zone: str | None, plan_zone: str) -> str:
    if not lead_zone:
        return plan_zone
    try:
        ZoneInfo(lead_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return plan_zone
    return lead_zone


@settings(max_examples=200)
@given(plans())
def test_every_generated_plan_is_valid(raw: dict[str, Any]) -> None:
    assert validate_plan(raw) == []


MOVES = ("fire", "fire", "event", "event", "event", "stale_timer", "new_episode", "same_episode")
MOVES_WHEN_ENDED = ("new_episode", "new_episode", "event", "stale_timer", "same_episode")
"""An ended enrollment mostly starts a new episode, so runs keep going, and sometimes hears more."""


@settings(max_examples=200)
@given(plans(), facts, moments, st.floats(0, 1, exclude_max=True), st.data())
def test_random_runs_keep_every_rule(
    raw: dict[str, Any], lead: LeadFacts, start: datetime, draw: float, data: st.DataObject
) -> None:
    plan = parse_plan(raw)
    assert isinstance(plan, Plan)
    run = Run(raw, plan, now=start)
    run.play(Enrolled(lead, episode=1, draw=draw))
    for _ in range(data.draw(st.integers(0, 25), label="steps")):
        run.now += data.draw(st.integers(0, 72 * 60).map(lambda m: timedelta(minutes=m)), label="elapsed")
        move = data.draw(st.sampled_from(MOVES if run.state.status == "active" else MOVES_WHEN_ENDED), label="move")
        if move == "fire" and run.state.timer is not None:
            run.now = max(run.now, run.state.timer.due_at)
            fresh = data.draw(st.none() | facts, label="facts")
            run.play(TimerFired(run.state.timer.kind, run.state.timer.node, facts=fresh))
        elif move == "event":
            kind = data.draw(st.sampled_from((*EVENTS, "replied", "replied")), label="kind")
            at = run.now - data.draw(st.integers(0, 120).map(lambda m: timedelta(minutes=m)), label="age")
            episode = data.draw(st.sampled_from([None, run.state.episode, run.state.episode - 1]), label="episode")
            run.play(LeadEvent(kind, at, episode=episode))
        elif move == "stale_timer":
            node = data.draw(st.sampled_from([n.id for n in plan.nodes]), label="node")
            kind = data.draw(st.sampled_from(["wait", "no_open", "no_click", "no_reply"]), label="timer")
            timer = run.state.timer
            if timer is None or (timer.kind, timer.node) != (kind, node) or run.now < timer.due_at:
                state, actions = run.state, run.play(TimerFired(kind, node))[1]
                assert (run.state, actions) == (state, ())
        elif move == "new_episode":
            run.play(Enrolled(data.draw(facts, label="lead"), episode=run.state.episode + 1, draw=draw))
        elif move == "same_episode":
            state = run.state
            assert run.play(Enrolled(lead, episode=state.episode, draw=draw))[1] == ()
            assert run.state == state
