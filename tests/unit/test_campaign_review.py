"""The review step's figures, worked by hand: sends per channel over the reachable send nodes,
their cost with SMS segments, and the compliance checklist."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from app.domain.campaign_review import Reach, checklist, estimated_cost, estimated_sends, reachable_sends
from app.domain.plan import Plan, parse_plan
from app.domain.plan.wizard import FollowUp, MessageText, WizardPlan, build_plan
from app.domain.pricing import UnitPrices

REACH = Reach(matching=20, both=5, email_only=7, sms_only=3, email_no_consent=2, sms_no_consent=10, sms_no_address=2)


def plan_of(wizard: WizardPlan) -> Plan:
    plan = parse_plan(build_plan(wizard, template_prefix="c"))
    assert isinstance(plan, Plan), plan
    return plan


def test_each_lead_is_counted_on_the_first_channel_that_reaches_it_at_every_send() -> None:
    plan = plan_of(
        WizardPlan(
            channels=("email", "sms"),
            message=MessageText(brief="hi"),
            follow_ups=(
                FollowUp("no_reply", timedelta(days=2), ("sms",), "nudge"),
                FollowUp("wait", timedelta(days=1), ("sms", "email"), "last"),
            ),
        )
    )
    assert [n.id for n in reachable_sends(plan)] == ["step-1", "step-2", "step-3"]
    # step-1 email first: both 5 + email-only 7 by email, sms-only 3 by SMS;
    # step-2 SMS only: both 5 + sms-only 3; step-3 SMS first: 5 + 3 by SMS, email-only 7 by email.
    assert estimated_sends(plan, REACH) == {"email": 12 + 7, "sms": 3 + 8 + 8}


def test_the_cost_prices_each_sms_segment() -> None:
    prices = UnitPrices(email=Decimal("0.001"), sms=Decimal("0.0079"))
    sends = {"email": 19, "sms": 19}
    assert estimated_cost(sends, prices, sms_segments=2) == Decimal("0.019") + Decimal("0.3002")
    assert estimated_cost(sends, prices, sms_segments=0) == Decimal("0.019") + Decimal("0.1501")


def test_reach_counts_leads_on_any_channel_given() -> None:
    assert REACH.neither == 5
    assert REACH.reachable(["email"]) == 12
    assert REACH.reachable(["sms"]) == 8
    assert REACH.reachable(["email", "sms"]) == 15


def test_the_checklist_for_a_campaign_on_both_channels() -> None:
    checks = checklist(
        channels=["email", "sms"],
        sms_texts=["Hi {{first_name}}. Reply STOP to opt out.", "Hi again {{first_name}}"],
        quiet_hours=(21, 8),
        physical_address="1 Main St,\n Springfield",
        reach=REACH,
    )
    assert [(c.label, c.ok) for c in checks] == [
        ("Unsubscribe link in every email", True),
        ("Postal address in every email", True),
        ("STOP text in every SMS", False),
        ("Quiet hours set", True),
        ("Consent and suppressions", True),
    ]
    assert checks[1].detail == "The footer carries 1 Main St, Springfield."
    assert checks[2].detail == "1 SMS text(s) do not say how to opt out: add 'Reply STOP to opt out.'"
    assert checks[3].detail == "Nothing goes out between 21:00 and 08:00 in the lead's time zone."
    assert checks[4].detail == (
        "15 of 20 matching leads can be written to; 5 cannot and will not be contacted."
        " Email: 2 without consent. SMS: 2 without a phone, 10 without consent."
    )


def test_the_checklist_fails_what_is_missing() -> None:
    checks = checklist(channels=["email"], sms_texts=[], quiet_hours=(0, 0), physical_address=" ", reach=Reach())
    assert [(c.label, c.ok) for c in checks] == [
        ("Unsubscribe link in every email", True),
        ("Postal address in every email", False),
        ("Quiet hours set", False),
        ("Consent and suppressions", False),
    ]
    assert checks[3].detail == "0 of 0 matching leads can be written to."
