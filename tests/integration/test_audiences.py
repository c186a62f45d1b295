"""A campaign's audience counted on real PostgreSQL: each criterion alone and combined, hand-picked
leads, the tenant wall, who can be written on which channel and why not, and the sample."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from app import runtime
from app.domain.audience import Audience, AudienceCriteria
from app.domain.campaign_review import Reach
from app.services import audiences
from tests.integration.campaign_world import NOW, World, build
from tests.support import truncate_all


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[World]:
    truncate_all(engine)
    yield build(engine)
    truncate_all(engine)


def matching(world: World, criteria: AudienceCriteria) -> set[str]:
    names = {lead_id: name for name, lead_id in world.leads.items()}
    with runtime.session_scope() as session, session.begin():
        ids = audiences.reachable_ids(
            session, tenant_id=world.tenant, audience=Audience(criteria=criteria), channels=["email", "sms"], now=NOW
        )
        reach = audiences.reach_of(session, tenant_id=world.tenant, audience=Audience(criteria=criteria), now=NOW)
    found = {names[i] for i in ids}
    assert len(found) == reach.both + reach.email_only + reach.sms_only
    return found


def matched_count(world: World, criteria: AudienceCriteria) -> int:
    with runtime.session_scope() as session, session.begin():
        return audiences.reach_of(
            session, tenant_id=world.tenant, audience=Audience(criteria=criteria), now=NOW
        ).matching


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (AudienceCriteria(), 5),
        (AudienceCriteria(stages=("new",)), 3),
        (AudienceCriteria(sources=("ads",)), 1),
        (AudienceCriteria(score_min=60, score_max=85), 3),  # Ann 80, Ben 60, Dan 70
        (AudienceCriteria(silent_hours_min=48), 3),  # Ann 50, Cat 100, Dan 60
        (AudienceCriteria(silent_hours_max=40), 2),  # Ben 30, Eve 5
        (AudienceCriteria(tags=("vip",)), 2),  # Cat, Dan
        (AudienceCriteria(value_min=1000, value_max=5000), 3),  # Ann, Ben, Dan
        (AudienceCriteria(unowned=True), 2),  # Ben, Eve
        (AudienceCriteria(stages=("new",), tags=("solar",)), 1),  # Ann
        (AudienceCriteria(stages=("nobody",)), 0),
    ],
)
def test_each_criterion_counts_the_leads_it_names(world: World, criteria: AudienceCriteria, expected: int) -> None:
    assert matched_count(world, criteria) == expected


def test_owners_and_unowned_add_up(world: World) -> None:
    assert matched_count(world, AudienceCriteria(owner_ids=(world.rep,))) == 2  # Ann, Cat
    assert matched_count(world, AudienceCriteria(owner_ids=(world.rep,), unowned=True)) == 4  # + Ben, Eve


def test_the_reachable_are_those_with_an_address_consent_and_no_suppression(world: World) -> None:
    assert matching(world, AudienceCriteria()) == {"Ann", "Ben", "Cat"}
    with runtime.session_scope() as session, session.begin():
        by_email = audiences.reachable_ids(
            session, tenant_id=world.tenant, audience=Audience(criteria=AudienceCriteria()), channels=["email"], now=NOW
        )
        by_sms = audiences.reachable_ids(
            session, tenant_id=world.tenant, audience=Audience(criteria=AudienceCriteria()), channels=["sms"], now=NOW
        )
    assert by_email == sorted([world.leads["Ann"], world.leads["Ben"]])
    assert by_sms == sorted([world.leads["Ann"], world.leads["Cat"]])


def test_every_lead_left_out_is_counted_by_its_reason(world: World) -> None:
    with runtime.session_scope() as session, session.begin():
        reach = audiences.reach_of(
            session, tenant_id=world.tenant, audience=Audience(criteria=AudienceCriteria()), now=NOW
        )
    assert reach == Reach(
        matching=5,
        both=1,  # Ann
        email_only=1,  # Ben
        sms_only=1,  # Cat
        email_no_address=1,  # Eve
        email_no_consent=1,  # Cat
        email_suppressed=1,  # Dan, suppressed in lower case though his address is not
        sms_no_address=1,  # Ben
        sms_no_consent=1,  # Dan
        sms_suppressed=0,
        sms_unreachable=1,  # Eve
    )


def test_hand_picked_leads_stay_within_the_tenant(world: World) -> None:
    picked = Audience.of_leads([world.leads["Ben"], world.leads["Dan"], world.other_lead])
    result = audiences.preview(tenant_id=world.tenant, audience=picked, now=NOW)
    assert result.reach.matching == 2, "the other tenant's lead is never counted"
    assert [lead.name for lead in result.sample] == ["Ben Test", "Dan Test"]


def test_the_sample_shows_reachable_leads_first_best_score_first(world: World) -> None:
    result = audiences.preview(tenant_id=world.tenant, audience=Audience(criteria=AudienceCriteria()), now=NOW)
    assert [lead.name.split()[0] for lead in result.sample] == ["Cat", "Ann", "Ben", "Dan", "Eve"]
    ann = result.sample[1]
    assert (ann.email_ok, ann.sms_ok, ann.silent_hours) == (True, True, 50.0)
    assert dict(ann.slots) == {
        "first_name": "Ann",
        "interest": "solar panels",
        "sender_name": "Sam",
        "business_name": "Acme Solar",
    }


def test_criteria_out_of_range_are_refused_with_the_reason(world: World) -> None:
    with pytest.raises(ValueError, match="Score: need 0 ≤ from ≤ to ≤ 100, got 90-10"):
        audiences.preview(
            tenant_id=world.tenant, audience=Audience(criteria=AudienceCriteria(score_min=90, score_max=10)), now=NOW
        )
