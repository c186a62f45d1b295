"""The wizard's drafts on real PostgreSQL: each step saved into the campaign row and its templates,
the plan rebuilt and judged after every step, nothing lost between steps, and who may edit what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from app.domain.audience import Audience, AudienceCriteria
from app.domain.campaign_status import CampaignStateError
from app.domain.plan.wizard import FollowUp, MessageText, WizardPlan, build_plan
from app.services import campaign_drafts as drafts
from tests.integration.campaign_world import NOW, World, build, sql

HELLO = MessageText("A quick question, {{first_name}}", "Hi {{first_name}}, still keen?", "", "a gentle check-in")
TEXT_B = MessageText(sms_body="{{first_name}}, still keen? Reply STOP to opt out.")


@pytest.fixture
def world(clean_db: Engine) -> World:
    return build(clean_db)


def new_draft(world: World) -> int:
    return drafts.create_draft(tenant_id=world.tenant, operator_id=world.rep, name="  Spring   win-back ", now=NOW)


def test_a_new_draft_carries_the_tenant_hours_and_says_what_is_missing(world: World, clean_db: Engine) -> None:
    campaign = new_draft(world)
    row = sql(clean_db, "SELECT name, kind, status, audience, plan_version FROM campaigns WHERE id = :c", c=campaign)[0]
    assert tuple(row) == ("Spring win-back", "sequence", "draft", {}, 2)
    draft = drafts.load_draft(tenant_id=world.tenant, campaign_id=campaign)
    assert draft.wizard == WizardPlan(timezone="America/New_York", send_window=(8, 20), quiet_hours=(21, 8))
    assert draft.audience is None
    assert [str(p) for p in draft.problems] == [
        "$.nodes[0].channels: a send needs at least one channel (email, sms)",
        "$.nodes[0]: a send needs a template or a brief (on the node or on each variant)",
    ]
    events = sql(
        clean_db,
        "SELECT event, from_status, to_status, operator_id FROM campaign_events WHERE campaign_id = :c",
        c=campaign,
    )
    assert [tuple(e) for e in events] == [("created", None, "draft", world.rep)]


def test_every_step_is_saved_and_the_plan_rebuilt(world: World, clean_db: Engine) -> None:
    campaign = new_draft(world)
    ids = {"tenant_id": world.tenant, "campaign_id": campaign, "operator_id": world.rep}
    drafts.save_channels(**ids, name="Spring", channels=["sms", "email"])
    drafts.save_audience(**ids, audience=Audience(criteria=AudienceCriteria(stages=("new",))))
    drafts.save_message(**ids, message=HELLO, variant_b=TEXT_B, weights=(60.0, 40.0))
    follow_up = FollowUp("no_reply", timedelta(days=2), ("email",), "a nudge")
    start = NOW + timedelta(days=1)
    draft = drafts.save_timing(
        **ids,
        starts_at=start,
        timezone="America/Chicago",
        send_window=(9, 18),
        quiet_hours=(20, 8),
        follow_ups=[follow_up],
    )
    expected = WizardPlan(
        channels=("sms", "email"),
        message=HELLO,
        variant_b=TEXT_B,
        weights=(60.0, 40.0),
        timezone="America/Chicago",
        send_window=(9, 18),
        quiet_hours=(20, 8),
        follow_ups=(follow_up,),
    )
    assert draft.wizard == expected
    assert draft.problems == ()
    assert drafts.load_draft(tenant_id=world.tenant, campaign_id=campaign) == draft, "reopened as saved"
    row = sql(
        clean_db,
        "SELECT channel, audience, plan, starts_at, quiet_hours, variants FROM campaigns WHERE id = :c",
        c=campaign,
    )[0]
    assert row.channel is None, "two channels"
    assert row.audience == {"criteria": {"stages": ["new"]}}
    assert row.plan == build_plan(expected, template_prefix=f"campaign-{campaign}")
    assert (row.starts_at, row.quiet_hours) == (start, {"start": 20, "end": 8})
    assert row.variants == {}, "the A/B test's own column (its settings and verdict): the weights are in the plan"
    templates = sql(
        clean_db,
        """SELECT t.name, t.channel, v.subject, v.body FROM templates t
           JOIN template_versions v ON v.template_id = t.id AND v.version = t.current_version
           WHERE t.tenant_id = :t ORDER BY t.name, t.channel""",
        t=world.tenant,
    )
    assert [tuple(r) for r in templates] == [
        (f"campaign-{campaign}/step-1/A", "email", HELLO.email_subject, HELLO.email_body),
        (f"campaign-{campaign}/step-1/B", "sms", None, TEXT_B.sms_body),
    ]


def test_a_changed_text_is_a_new_version_and_a_dropped_variant_leaves_no_template(
    world: World, clean_db: Engine
) -> None:
    campaign = new_draft(world)
    ids = {"tenant_id": world.tenant, "campaign_id": campaign, "operator_id": world.rep}
    drafts.save_message(**ids, message=HELLO, variant_b=TEXT_B, weights=(50.0, 50.0))
    drafts.save_message(**ids, message=HELLO, variant_b=TEXT_B, weights=(50.0, 50.0))  # unchanged: no new version
    changed = MessageText(HELLO.email_subject, "Hi {{first_name}}, shall we talk?", "", HELLO.brief)
    drafts.save_message(**ids, message=changed, variant_b=None, weights=(50.0, 50.0))
    rows = sql(
        clean_db,
        """SELECT t.name, t.current_version, count(v.id) AS versions FROM templates t
           JOIN template_versions v ON v.template_id = t.id WHERE t.tenant_id = :t GROUP BY t.id ORDER BY t.name""",
        t=world.tenant,
    )
    assert [tuple(r) for r in rows] == [(f"campaign-{campaign}/step-1/A", 2, 2)]
    assert drafts.load_draft(tenant_id=world.tenant, campaign_id=campaign).wizard.message == changed


def test_bad_input_is_refused_before_anything_is_written(world: World, clean_db: Engine) -> None:
    campaign = new_draft(world)
    ids = {"tenant_id": world.tenant, "campaign_id": campaign, "operator_id": world.rep}
    with pytest.raises(ValueError, match="Channels: unknown channel 'fax'"):
        drafts.save_channels(**ids, name="Spring", channels=["email", "fax"])
    with pytest.raises(ValueError, match="Name: give the campaign a name"):
        drafts.save_channels(**ids, name="   ", channels=["email"])
    with pytest.raises(ValueError, match="Deal value: 'from' \\(9\\) is above 'to' \\(1\\)"):
        drafts.save_audience(**ids, audience=Audience(criteria=AudienceCriteria(value_min=9, value_max=1)))
    with pytest.raises(ValueError, match="Follow-up 1: unknown trigger 'maybe'"):
        drafts.save_timing(
            **ids,
            starts_at=None,
            timezone="UTC",
            send_window=(8, 20),
            quiet_hours=(21, 8),
            follow_ups=[FollowUp("maybe", timedelta(days=1), ("email",))],
        )
    row = sql(clean_db, "SELECT name, audience, channel FROM campaigns WHERE id = :c", c=campaign)[0]
    assert tuple(row) == ("Spring win-back", {}, None)


def test_only_the_tenant_s_acting_operators_edit_only_drafts(world: World, clean_db: Engine) -> None:
    campaign = new_draft(world)
    with pytest.raises(PermissionError):
        drafts.save_channels(
            tenant_id=world.tenant, campaign_id=campaign, operator_id=world.viewer, name="x", channels=[]
        )
    with pytest.raises(PermissionError):
        drafts.save_channels(
            tenant_id=world.tenant, campaign_id=campaign, operator_id=world.other_rep, name="x", channels=[]
        )
    with pytest.raises(LookupError):
        drafts.save_channels(
            tenant_id=world.other_tenant, campaign_id=campaign, operator_id=world.other_rep, name="x", channels=[]
        )
    sql(clean_db, "UPDATE campaigns SET status = 'running' WHERE id = :c", c=campaign)
    with pytest.raises(CampaignStateError, match="Only a draft can be edited; this campaign is running"):
        drafts.save_channels(tenant_id=world.tenant, campaign_id=campaign, operator_id=world.rep, name="x", channels=[])
    recovery = sql(
        clean_db, "INSERT INTO campaigns (tenant_id, name) VALUES (:t, 'Recovery') RETURNING id", t=world.tenant
    )[0].id
    with pytest.raises(CampaignStateError, match="recovery campaign"):
        drafts.save_channels(tenant_id=world.tenant, campaign_id=recovery, operator_id=world.rep, name="x", channels=[])


def test_hand_picked_leads_of_another_tenant_are_neither_stored_nor_counted(world: World, clean_db: Engine) -> None:
    ann, ben = world.leads["Ann"], world.leads["Ben"]
    campaign = drafts.create_draft(
        tenant_id=world.tenant,
        operator_id=world.rep,
        name="Picked",
        now=NOW,
        audience=Audience.of_leads([ann, world.other_lead]),
    )
    stored = sql(clean_db, "SELECT audience FROM campaigns WHERE id = :c", c=campaign)[0].audience
    assert stored == {"lead_ids": [ann]}

    ids = {"tenant_id": world.tenant, "campaign_id": campaign, "operator_id": world.rep}
    drafts.save_audience(**ids, audience=Audience.of_leads([ben, world.other_lead]))
    stored = sql(clean_db, "SELECT audience FROM campaigns WHERE id = :c", c=campaign)[0].audience
    assert stored == {"lead_ids": [ben]}

    with pytest.raises(ValueError, match="None of the hand-picked leads is a lead of this tenant"):
        drafts.save_audience(**ids, audience=Audience.of_leads([world.other_lead]))
    assert sql(clean_db, "SELECT audience FROM campaigns WHERE id = :c", c=campaign)[0].audience == stored
