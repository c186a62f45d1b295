"""Promoting a winning variant rewrites the plan's JSON; the interpreter, unchanged, then sends
the winner whatever the enrollment's draw."""

import copy
from datetime import UTC, datetime

import pytest

from app.domain.plan import Enrolled, EnrollmentState, LeadFacts, Plan, Send, parse_plan, step
from app.domain.plan.promote import offered_variants, promote_variant
from tests.unit.plan_examples import PLAN

T = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)  # 10:00 in Chicago: inside the 08-20 window


def _with_second_test() -> dict:
    plan = copy.deepcopy(PLAN)
    call_me = plan["nodes"][3]
    call_me["variants"] = [{"name": "C", "weight": 2, "template": "tpl-c"}, {"name": "B", "weight": 1}]
    return plan


def test_offered_variants_in_plan_order_each_once() -> None:
    assert offered_variants(PLAN) == ("A", "B")
    assert offered_variants(_with_second_test()) == ("A", "B", "C")
    assert offered_variants({"nodes": {"x": {"kind": "send", "variants": [{"name": "Z"}]}}}) == ("Z",)
    assert offered_variants({"version": 2, "nodes": []}) == ()
    assert offered_variants(None) == ()


def test_the_winner_is_left_alone_at_weight_one() -> None:
    original = _with_second_test()
    kept = copy.deepcopy(original)
    promoted = promote_variant(original, "B")
    assert original == kept  # the caller's plan is not touched
    assert promoted["nodes"][0]["variants"] == [{"name": "B", "weight": 1, "template": "tpl-7"}]
    assert promoted["nodes"][3]["variants"] == [{"name": "B", "weight": 1}]
    rest = [n for i, n in enumerate(promoted["nodes"]) if i not in (0, 3)]
    assert rest == [n for i, n in enumerate(kept["nodes"]) if i not in (0, 3)]
    assert offered_variants(promoted) == ("B",)


def test_a_node_without_the_winner_keeps_its_own_variants() -> None:
    promoted = promote_variant(_with_second_test(), "A")
    assert promoted["nodes"][0]["variants"] == [{"name": "A", "weight": 1}]
    assert promoted["nodes"][3]["variants"] == _with_second_test()["nodes"][3]["variants"]


def test_a_winner_no_node_offers_is_refused() -> None:
    with pytest.raises(ValueError, match="no send node of this plan offers variant 'Q'"):
        promote_variant(PLAN, "Q")


@pytest.mark.parametrize("draw", [0.0, 0.2, 0.2499, 0.25, 0.9999])
def test_the_promoted_plan_is_valid_and_sends_the_winner_at_any_draw(draw: float) -> None:
    # Before: A has weight 1 of 4, so draws below 0.25 got A. After: B for every draw.
    plan = parse_plan(promote_variant(PLAN, "B"))
    assert isinstance(plan, Plan), plan
    lead = LeadFacts(timezone="America/Chicago", email_ok=True)
    _, actions = step(plan, EnrollmentState(), Enrolled(lead, draw=draw), T)
    sends = [a for a in actions if isinstance(a, Send)]
    assert [(s.node, s.variant, s.template) for s in sends] == [("rung-1", "B", "tpl-7")]
