"""The plan interpreter: `step(plan, state, event, now) -> (state, actions)`, pure.

One step answers one event. It moves the enrollment along the plan through every node that
does not wait (sends with `next`, branches) until it reaches one that does (a wait, a send
with timers) or a stop, and returns the actions for the caller to carry out. The rules:
- a send goes out on the first of the node's channels the lead can be reached on, at the first
  moment at or after `now` inside the plan's send window and outside its quiet hours, in the
  lead's zone (`timing.py`); a lead reachable on none of them stops the enrollment;
- a node sends at most once per episode: arriving again at a node already sent in this
  episode moves on without a second message; a new episode (`Enrolled` with the next number)
  may send it again;
- a reply, an unsubscribe or a conversion the current node does not route stops the
  enrollment; other unrouted events are noted (they answer the node's timers) and ignored;
- after every step the enrollment has ended or has exactly one pending timer;
- an event for an ended enrollment, a stale timer (not the pending one, or before it is due),
  a repeated enrollment and a message event of an older episode change nothing;
- an enrollment whose node or timer the plan no longer has (edited since) is stopped; the
  caller should keep an enrollment on the plan version it started with.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from app.domain.plan.conditions import LeadFacts, holds
from app.domain.plan.model import (
    SATISFIED_BY,
    STOPPING_EVENTS,
    WAIT_TIMER,
    BranchNode,
    Node,
    Plan,
    SendNode,
    StopNode,
    Transition,
    Variant,
    WaitNode,
)
from app.domain.plan.state import (
    ACTIVE,
    COMPLETED,
    STOPPED,
    Action,
    CancelTimers,
    Complete,
    Enrolled,
    EnrollmentState,
    Event,
    LeadEvent,
    Moved,
    Schedule,
    Send,
    Stop,
    Timer,
    TimerFired,
)
from app.domain.plan.timing import first_send_moment

Step = tuple[EnrollmentState, tuple[Action, ...]]


def step(plan: Plan, state: EnrollmentState, event: Event, now: datetime) -> Step:
    """The enrollment's next state and the actions that get it there."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("step needs an aware `now` (a datetime with a time zone)")
    if isinstance(event, Enrolled):
        return _enroll(plan, state, event, now)
    if state.status != ACTIVE:
        return state, ()
    if state.node not in plan.by_id:
        return _stop_lost(state, f"the plan has no node '{state.node}' any more")
    if isinstance(event, TimerFired):
        return _fire(plan, state, event, now)
    return _hear(plan, state, event, now)


def _enroll(plan: Plan, state: EnrollmentState, event: Enrolled, now: datetime) -> Step:
    """A later episode starts the plan over; the same or an older one is a repeat."""
    if event.episode <= state.episode:
        return state, ()
    actions: list[Action] = [CancelTimers()] if state.timer else []
    fresh = EnrollmentState(status=ACTIVE, episode=event.episode, draw=event.draw, facts=event.facts)
    start = event.start if event.start is not None and event.start in plan.by_id else plan.start
    return _enter(plan, fresh, start, "enrolled", now, actions), tuple(actions)


def _fire(plan: Plan, state: EnrollmentState, event: TimerFired, now: datetime) -> Step:
    timer = state.timer
    if timer is None or (timer.kind, timer.node) != (event.kind, event.node) or now < timer.due_at:
        return state, ()
    target = _timer_target(plan.node(timer.node), timer.kind)
    if target is None:
        return _stop_lost(state, f"the plan has no '{timer.kind}' timer at '{timer.node}' any more")
    state = replace(state, timer=None, facts=event.facts or state.facts)
    actions: list[Action] = []
    return _enter(plan, state, target, timer.kind, now, actions), tuple(actions)


def _timer_target(node: Node, kind: str) -> str | None:
    if isinstance(node, WaitNode) and kind == WAIT_TIMER:
        return node.next
    return next((t.to for t in node.transitions if t.on == kind), None)


def _stop_lost(state: EnrollmentState, reason: str) -> Step:
    """A plan edited under a running enrollment no longer has where it stands: stop rather than guess."""
    actions: list[Action] = [CancelTimers()] if state.timer else []
    return _end(state, STOPPED, reason, actions), tuple(actions)


def _hear(plan: Plan, state: EnrollmentState, event: LeadEvent, now: datetime) -> Step:
    if _is_stale(state, event):
        return state, ()
    node = plan.node(str(state.node))
    route = _route(node, event, state)
    if route is None and event.kind not in STOPPING_EVENTS:
        return _note(node, state, event.kind)
    actions: list[Action] = [CancelTimers()] if state.timer else []
    state = replace(state, timer=None, facts=event.facts or state.facts)
    if route is None:
        return _end(state, STOPPED, event.kind, actions), tuple(actions)
    return _enter(plan, state, route.to, event.kind, now, actions), tuple(actions)


def _is_stale(state: EnrollmentState, event: LeadEvent) -> bool:
    """A message event of an earlier episode; replies, unsubscribes and conversions are about the lead."""
    return event.episode is not None and event.episode != state.episode and event.kind not in STOPPING_EVENTS


def _route(node: Node, event: LeadEvent, state: EnrollmentState) -> Transition | None:
    """The node's first transition on this event whose `within` (from the node's clock) it meets."""
    for transition in node.transitions:
        if transition.on != event.kind:
            continue
        if transition.within is None or state.clock_from is None or event.at <= state.clock_from + transition.within:
            return transition
    return None


def _note(node: Node, state: EnrollmentState, kind: str) -> Step:
    """An event no transition takes: it may answer the pending timer, which then gives way to the next."""
    state = replace(state, seen=state.seen | {kind})
    timer = state.timer
    if not isinstance(node, SendNode) or timer is None or kind not in SATISFIED_BY.get(timer.kind, ()):
        return state, ()
    actions: list[Action] = [CancelTimers()]
    following = _first_open_timer(node, state.seen, state.clock_from or timer.due_at)
    if following is None:
        ended = _end(state, COMPLETED, f"{kind} answered every timer of '{node.id}'", actions)
        return ended, tuple(actions)
    actions.append(Schedule(following.kind, following.node, following.due_at))
    return replace(state, timer=following), tuple(actions)


def _enter(
    plan: Plan, state: EnrollmentState, target: str, trigger: str, now: datetime, actions: list[Action]
) -> EnrollmentState:
    """Move to `target`, then on through every node that does not wait, until one waits or ends."""
    for _ in range(len(plan.nodes)):
        actions.append(Moved(state.node, target, trigger))
        state = replace(state, node=target, entered_at=now, seen=frozenset(), timer=None)
        node = plan.node(target)
        if isinstance(node, StopNode):
            return _end(state, node.result, f"reached '{node.id}' on {trigger}", actions)
        if isinstance(node, BranchNode):
            target, trigger = _branch_target(node, state.facts), "branch"
            continue
        if isinstance(node, SendNode):
            state = _send_once(plan, node, state, now, actions)
            if state.status != ACTIVE:
                return state
            if node.next is not None:
                target, trigger = node.next, "next"
                continue
        return _wait_at(node, state, now, actions)
    raise ValueError("the plan moves round a loop without waiting (validate it with parse_plan)")


def _branch_target(node: BranchNode, facts: LeadFacts) -> str:
    return next((case.to for case in node.cases if holds(case.condition, facts)), node.otherwise)


def _send_once(
    plan: Plan, node: SendNode, state: EnrollmentState, now: datetime, actions: list[Action]
) -> EnrollmentState:
    """Ask for the node's message unless this episode already sent it; stop when no channel reaches the lead."""
    key = (node.id, state.episode)
    if key in state.sent:
        return state
    placed = _placement(plan, node, state.facts, now)
    if placed is None:
        return _end(state, STOPPED, f"no usable {' or '.join(node.channels)} for '{node.id}'", actions)
    channel, moment = placed
    picked = variant_index(node.variants, state.draw)
    variant = None if picked is None else node.variants[picked]
    template = (variant and variant.template) or node.template
    brief = (variant and variant.brief) or node.brief
    name = variant.name if variant else None
    actions.append(Send(node.id, channel, name, moment, state.episode, template, brief))
    return replace(state, sent=state.sent | {key}, last_send_at=moment, variant=name)


def _placement(plan: Plan, node: SendNode, facts: LeadFacts, now: datetime) -> tuple[str, datetime] | None:
    """The first of the node's channels that reaches the lead and has an hour to send, with that moment."""
    for channel in node.channels:
        if facts.reaches(channel):
            moment = first_send_moment(plan, channel, facts.timezone, now)
            if moment is not None:
                return channel, moment
    return None


def variant_index(variants: tuple[Variant, ...], draw: float) -> int | None:
    """The position of the variant whose share of the total weight covers `draw` (None without variants)."""
    point, running = draw * sum(v.weight for v in variants), 0.0
    for index, variant in enumerate(variants):
        running += variant.weight
        if point < running:
            return index
    return len(variants) - 1 if variants else None


def _wait_at(
    node: SendNode | WaitNode, state: EnrollmentState, now: datetime, actions: list[Action]
) -> EnrollmentState:
    """Start the node's clock (from the last message's planned time, if later) and arm its first timer."""
    clock_from = max(now, state.last_send_at or now)
    if isinstance(node, WaitNode):
        timer: Timer | None = Timer(WAIT_TIMER, node.id, clock_from + node.duration)
    else:
        timer = _first_open_timer(node, frozenset(), clock_from)
    if timer is None:
        raise ValueError(f"send node '{node.id}' has neither 'next' nor a timer (validate it with parse_plan)")
    actions.append(Schedule(timer.kind, timer.node, timer.due_at))
    return replace(state, clock_from=clock_from, timer=timer)


def _first_open_timer(node: SendNode, seen: frozenset[str], clock_from: datetime) -> Timer | None:
    """The node's earliest timer that no event heard so far has answered."""
    open_timers = [(t.after, t.on) for t in node.timers if t.after is not None and not SATISFIED_BY[t.on] & seen]
    if not open_timers:
        return None
    after, kind = min(open_timers, key=lambda pair: pair[0])
    return Timer(kind, node.id, clock_from + after)


def _end(state: EnrollmentState, status: str, reason: str, actions: list[Action]) -> EnrollmentState:
    actions.append(Complete(reason) if status == COMPLETED else Stop(reason))
    return replace(state, status=status, timer=None)
