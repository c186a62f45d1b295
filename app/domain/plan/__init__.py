"""Campaign plans: a small JSON language (version 2), its validator, and its pure interpreter.

- `model.py`: the typed plan (`Plan` and its nodes) and the JSON it is read from;
- `parse.py`: `parse_plan(json) -> Plan | list[Problem]`, every problem with its JSON path;
- `durations.py`: ISO-8601 durations (`PT24H`, `P2DT6H`, `P1W`) to `timedelta`;
- `conditions.py`: the branch conditions and the lead facts they read;
- `ladder.py`: the tenant's silence ladder as a plan, and version 1 plans upgraded;
- `state.py`, `machine.py`: `step(plan, state, event, now) -> (state, actions)`;
- `persist.py`: an enrollment's state as JSON (`enrollments.state`) and back;
- `classes.py`: the leads one step cannot tell apart, so a batch steps once per class.
"""

from app.domain.plan.classes import LeadClasses, LeadKey, as_lead
from app.domain.plan.conditions import FIELDS, Condition, LeadFacts
from app.domain.plan.durations import DurationError, format_duration, parse_duration
from app.domain.plan.ladder import default_recovery_plan, default_recovery_plan_json, load_plan, upgrade_v1
from app.domain.plan.machine import step
from app.domain.plan.model import (
    CHANNELS,
    EVENTS,
    PLAN_VERSION,
    TIMERS,
    BranchNode,
    Case,
    HourRange,
    Node,
    Plan,
    Problem,
    SendNode,
    StopNode,
    Transition,
    Variant,
    WaitNode,
)
from app.domain.plan.parse import parse_plan, validate_plan
from app.domain.plan.persist import state_from_json, state_to_json
from app.domain.plan.state import (
    Action,
    CancelTimers,
    Complete,
    Enrolled,
    EnrollmentState,
    Event,
    LeadEvent,
    Moved,
    Reenrolled,
    Schedule,
    Send,
    Stop,
    Timer,
    TimerFired,
    variant_draw,
)

__all__ = [
    "CHANNELS",
    "EVENTS",
    "FIELDS",
    "PLAN_VERSION",
    "TIMERS",
    "Action",
    "BranchNode",
    "CancelTimers",
    "Case",
    "Complete",
    "Condition",
    "DurationError",
    "Enrolled",
    "EnrollmentState",
    "Event",
    "HourRange",
    "LeadClasses",
    "LeadEvent",
    "LeadFacts",
    "LeadKey",
    "Moved",
    "Node",
    "Plan",
    "Problem",
    "Reenrolled",
    "Schedule",
    "Send",
    "SendNode",
    "Stop",
    "StopNode",
    "Timer",
    "TimerFired",
    "Transition",
    "Variant",
    "WaitNode",
    "as_lead",
    "default_recovery_plan",
    "default_recovery_plan_json",
    "format_duration",
    "load_plan",
    "parse_duration",
    "parse_plan",
    "state_from_json",
    "state_to_json",
    "step",
    "upgrade_v1",
    "validate_plan",
    "variant_draw",
]
