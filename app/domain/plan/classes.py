"""Leads a plan cannot tell apart, so that a batch steps once per class of leads instead of once per lead.

A step reads the lead in four places only (`machine.py`): which channels reach it
(`email_ok`, `sms_ok`), the zone its send hours are counted in (`timing.send_zone`: the lead's
zone when it is a real one, else the plan's), the branch conditions it meets, and, through
its draw, which variant each send node picks. Two leads that agree on all four, in the same
state (draw and facts aside) and hearing the same events, each given with the lead's own
facts, at the same moment, therefore step to the same actions, and to the same state but for
the draw and facts it carries, each lead's own (`as_lead`). `LeadClasses.key` is that
agreement over every branch condition and every variant node of the plan: more than one
step can reach, never less, so the key may split a class in two but never joins two.

The services group a batch by this key (with the episode, the start node, the state and the
events) and call `step` once per group (`app/services/campaign_run.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.domain.plan.conditions import Condition, LeadFacts, holds
from app.domain.plan.machine import variant_index
from app.domain.plan.model import BranchNode, Plan, SendNode, Variant
from app.domain.plan.state import EnrollmentState
from app.domain.plan.timing import send_zone

LeadKey = tuple[str, bool, bool, tuple[bool, ...], tuple[int | None, ...]]
"""(zone the hours are counted in, email_ok, sms_ok, each branch condition held, each variant node's pick)."""


@dataclass(frozen=True)
class LeadClasses:
    """What of a lead one plan can read, gathered once per plan."""

    plan: Plan
    conditions: tuple[Condition, ...]
    variant_sets: tuple[tuple[Variant, ...], ...]

    @classmethod
    def of(cls, plan: Plan) -> LeadClasses:
        conditions = tuple(case.condition for node in plan.nodes if isinstance(node, BranchNode) for case in node.cases)
        variant_sets = tuple(node.variants for node in plan.nodes if isinstance(node, SendNode) and node.variants)
        return cls(plan, conditions, variant_sets)

    def key(self, facts: LeadFacts, draw: float) -> LeadKey:
        """Leads with equal keys step alike (see the module's note)."""
        return (
            send_zone(self.plan, facts.timezone),
            facts.email_ok,
            facts.sms_ok,
            tuple(holds(condition, facts) for condition in self.conditions),
            tuple(variant_index(variants, draw) for variants in self.variant_sets),
        )


def as_lead(state: EnrollmentState, *, draw: float, facts: LeadFacts) -> EnrollmentState:
    """A class's stepped state as one of its leads has it: the lead's own draw and facts."""
    return replace(state, draw=draw, facts=facts)
