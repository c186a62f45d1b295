"""Launch, pause, resume and kill on real PostgreSQL: a launch refuses a plan or an audience that
cannot run and says why; a kill cancels the campaign's whole queue in one transaction, and
nothing of another campaign; every move leaves an audit row; a killed campaign stays killed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from sqlalchemy import Engine, text

from app.domain.audience import Audience, AudienceCriteria
from app.domain.campaign_status import CampaignStateError
from app.domain.plan.wizard import FollowUp, MessageText
from app.services import campaign_drafts as drafts
from app.services import campaign_lifecycle as lifecycle
from app.services.campaign_lifecycle import LaunchRefused
from app.services.write import write_due
from tests.integration.campaign_world import NOW, World, build, insert, sql

HELLO = MessageText(
    "Hello {{first_name}}", "Hi {{first_name}}, still keen?", "Hi {{first_name}}! Reply STOP to opt out."
)


@pytest.fixture
def world(clean_db: Engine) -> World:
    return build(clean_db)


def ready_draft(
    world: World, *, criteria: AudienceCriteria | None = None, channels: tuple[str, ...] = ("email",)
) -> int:
    campaign = drafts.create_draft(tenant_id=world.tenant, operator_id=world.manager, name="Spring", now=NOW)
    ids = {"tenant_id": world.tenant, "campaign_id": campaign, "operator_id": world.manager}
    drafts.save_channels(**ids, name="Spring", channels=channels)
    drafts.save_audience(**ids, audience=Audience(criteria=criteria or AudienceCriteria()))
    drafts.save_message(**ids, message=HELLO, variant_b=None, weights=(50.0, 50.0))
    return campaign


def acting(world: World, campaign: int) -> dict[str, int]:
    return {"tenant_id": world.tenant, "campaign_id": campaign, "operator_id": world.manager}


def events(engine: Engine, campaign: int) -> list[tuple[str, str | None, str]]:
    rows = sql(
        engine,
        "SELECT event, from_status, to_status FROM campaign_events WHERE campaign_id = :c ORDER BY id",
        c=campaign,
    )
    return [(r.event, r.from_status, r.to_status) for r in rows]


def test_a_launch_refuses_every_problem_and_changes_nothing(world: World, clean_db: Engine) -> None:
    campaign = drafts.create_draft(tenant_id=world.tenant, operator_id=world.manager, name="Empty", now=NOW)
    with pytest.raises(LaunchRefused) as refused:
        lifecycle.launch(**acting(world, campaign), now=NOW)
    assert refused.value.problems == (
        "$.nodes[0].channels: a send needs at least one channel (email, sms)",
        "$.nodes[0]: a send needs a template or a brief (on the node or on each variant)",
        "Audience: choose who the campaign writes to",
    )
    assert sql(clean_db, "SELECT status FROM campaigns WHERE id = :c", c=campaign)[0].status == "draft"
    assert events(clean_db, campaign) == [("created", None, "draft")]


def test_a_launch_refuses_an_audience_nobody_in_it_can_be_written_to(world: World) -> None:
    campaign = ready_draft(world, criteria=AudienceCriteria(stages=("lost",)))  # Eve: no email
    with pytest.raises(LaunchRefused) as refused:
        lifecycle.launch(**acting(world, campaign), now=NOW)
    assert refused.value.problems == ("Audience: no lead in it can be written to by email",)


def test_a_launch_runs_the_campaign_for_its_reachable_leads(world: World, clean_db: Engine) -> None:
    campaign = ready_draft(world, channels=("email", "sms"))
    launched = lifecycle.launch(**acting(world, campaign), now=NOW)
    assert (launched.status, launched.audience) == ("running", 3)  # Ann, Ben, Cat
    row = sql(clean_db, "SELECT status, starts_at FROM campaigns WHERE id = :c", c=campaign)[0]
    assert (row.status, row.starts_at) == ("running", NOW)
    assert events(clean_db, campaign)[-1] == ("launched", "draft", "running")
    details = sql(clean_db, "SELECT details FROM campaign_events WHERE event = 'launched'")[0].details
    assert details == {"audience": 3}
    with pytest.raises(CampaignStateError, match="Only a draft can be launched"):
        lifecycle.launch(**acting(world, campaign), now=NOW)


@pytest.mark.parametrize("absence", ["resume_at", "snoozed_until"])
def test_a_launch_holds_an_away_or_snoozed_leads_first_send_until_they_are_back(
    world: World, clean_db: Engine, absence: str
) -> None:
    back = NOW + timedelta(days=3)
    sql(clean_db, f"UPDATE leads SET {absence} = :back WHERE id = :ann", back=back, ann=world.leads["Ann"])
    campaign = ready_draft(world)
    assert lifecycle.launch(**acting(world, campaign), now=NOW).audience == 2  # Ann, Ben by email
    sends = sql(
        clean_db,
        """SELECT a.lead_id, a.due_at FROM scheduled_actions AS a
           JOIN enrollments AS e ON e.id = a.enrollment_id
           WHERE e.campaign_id = :c AND a.kind = 'send' ORDER BY a.lead_id""",
        c=campaign,
    )
    due = {row.lead_id: row.due_at for row in sends}
    assert due == {world.leads["Ann"]: back, world.leads["Ben"]: NOW}


def test_a_later_start_is_scheduled_and_started_when_due(world: World, clean_db: Engine) -> None:
    campaign = ready_draft(world)
    drafts.save_timing(
        **acting(world, campaign),
        starts_at=NOW + timedelta(hours=2),
        timezone="America/New_York",
        send_window=(8, 20),
        quiet_hours=(21, 8),
        follow_ups=[],
    )
    assert lifecycle.launch(**acting(world, campaign), now=NOW).status == "scheduled"
    assert lifecycle.start_due(tenant_id=world.tenant, now=NOW + timedelta(hours=1)) == []
    started = lifecycle.start_due(tenant_id=world.tenant, now=NOW + timedelta(hours=2))
    assert [(s.status, s.audience) for s in started] == [("running", 2)]  # Ann, Ben by email
    assert lifecycle.start_due(tenant_id=world.tenant, now=NOW + timedelta(hours=3)) == [], "safe to run twice"
    assert events(clean_db, campaign)[1:] == [("launched", "draft", "scheduled"), ("started", "scheduled", "running")]


def test_pause_resume_and_kill_leave_an_audit_row_each(world: World, clean_db: Engine) -> None:
    campaign = ready_draft(world)
    lifecycle.launch(**acting(world, campaign), now=NOW)
    assert lifecycle.pause(**acting(world, campaign), now=NOW) == "paused"
    with pytest.raises(CampaignStateError, match="A paused campaign cannot be paused"):
        lifecycle.pause(**acting(world, campaign), now=NOW)
    assert lifecycle.resume(**acting(world, campaign), now=NOW) == "running"
    lifecycle.kill(**acting(world, campaign), now=NOW)
    with pytest.raises(CampaignStateError, match="cannot be changed or resumed"):
        lifecycle.resume(**acting(world, campaign), now=NOW)
    assert events(clean_db, campaign) == [
        ("created", None, "draft"),
        ("launched", "draft", "running"),
        ("paused", "running", "paused"),
        ("resumed", "paused", "running"),
        ("killed", "running", "killed"),
    ]
    with pytest.raises(PermissionError):
        lifecycle.pause(tenant_id=world.tenant, campaign_id=campaign, operator_id=world.viewer, now=NOW)
    with clean_db.connect() as conn:
        logged = conn.execute(
            text("SELECT operator_id, action, subject FROM audit_log WHERE tenant_id = :t ORDER BY id"),
            {"t": world.tenant},
        ).all()
    subject = f"campaign {campaign}"
    assert [tuple(r) for r in logged] == [
        (world.manager, "launch", subject),
        (world.manager, "pause", subject),
        (world.manager, "resume", subject),
        (world.manager, "kill", subject),
    ], "the refused pause by the viewer left no entry"


def queue_of(engine: Engine, world: World, campaign: int, tag: str) -> None:
    """Four enrollments (active, waiting, completed, stopped), each with an action in every status
    and an outbox row in every status but canceled, inserted by hand."""
    statuses = ("active", "waiting", "completed", "stopped")
    for position, (name, status) in enumerate(zip(("Ann", "Ben", "Cat", "Dan"), statuses, strict=True)):
        lead = world.leads[name]
        enrollment = insert(
            engine,
            "enrollments",
            tenant_id=world.tenant,
            campaign_id=campaign,
            lead_id=lead,
            status=status,
            current_node="step-1",
        )
        for action_status in ("pending", "running", "done", "canceled"):
            insert(
                engine,
                "scheduled_actions",
                tenant_id=world.tenant,
                enrollment_id=enrollment,
                lead_id=lead,
                kind="send" if position % 2 else "no_reply",
                node="step-1",
                due_at=NOW,
                status=action_status,
                dedupe_key=f"{tag}:{enrollment}:{action_status}",
            )
        for message_status in ("pending", "sending", "sent", "held", "delivered"):
            insert(
                engine,
                "outbound_messages",
                tenant_id=world.tenant,
                campaign_id=campaign,
                enrollment_id=enrollment,
                lead_id=lead,
                channel="email",
                to_address=f"{name}@mail.example",
                body="Hi",
                status=message_status,
                scheduled_for=NOW + timedelta(hours=position),
                dedupe_key=f"{tag}:{enrollment}:{message_status}",
            )


COUNTS = """
    SELECT (SELECT count(*) FROM enrollments WHERE campaign_id = :c AND status IN ('active', 'waiting')) AS open,
           (SELECT count(*) FROM scheduled_actions a JOIN enrollments e ON e.id = a.enrollment_id
            WHERE e.campaign_id = :c AND a.status = 'pending') AS pending_actions,
           (SELECT count(*) FROM outbound_messages WHERE campaign_id = :c AND status = 'pending') AS pending_messages,
           (SELECT count(*) FROM outbound_messages WHERE campaign_id = :c AND status = 'canceled') AS canceled_messages,
           (SELECT count(*) FROM campaign_transitions t JOIN enrollments e ON e.id = t.enrollment_id
            WHERE e.campaign_id = :c AND t.event = 'killed' AND t.reason = 'killed') AS audit
"""


def test_a_kill_cancels_the_whole_queue_at_once_and_nothing_else(world: World, clean_db: Engine) -> None:
    campaign, other = (
        insert(clean_db, "campaigns", tenant_id=world.tenant, name=name, kind="sequence", status="running")
        for name in ("Spring", "Summer")
    )
    queue_of(clean_db, world, campaign, "killed")
    queue_of(clean_db, world, other, "kept")
    before_other = tuple(sql(clean_db, COUNTS, c=other)[0])
    before = sql(clean_db, COUNTS, c=campaign)[0]
    assert (before.open, before.pending_actions, before.pending_messages) == (2, 4, 4)

    killed = lifecycle.kill(**acting(world, campaign), now=NOW)

    assert (killed.enrollments, killed.actions, killed.messages) == (2, 4, 4)
    after = sql(clean_db, COUNTS, c=campaign)[0]
    assert tuple(after) == (0, 0, 0, 4, 2)
    assert tuple(sql(clean_db, COUNTS, c=other)[0]) == before_other, "another campaign keeps its queue"
    left = sql(
        clean_db,
        "SELECT status, count(*) FROM outbound_messages WHERE campaign_id = :c GROUP BY 1 ORDER BY 1",
        c=campaign,
    )
    assert [tuple(r) for r in left] == [("canceled", 4), ("delivered", 4), ("held", 4), ("sending", 4), ("sent", 4)]
    stopped = sql(
        clean_db,
        "SELECT status, completed_at, count(*) FROM enrollments WHERE campaign_id = :c GROUP BY 1, 2 ORDER BY 1, 2",
        c=campaign,
    )
    assert [tuple(r) for r in stopped] == [("completed", None, 1), ("stopped", NOW, 2), ("stopped", None, 1)]
    details = sql(
        clean_db, "SELECT details FROM campaign_events WHERE campaign_id = :c AND event = 'killed'", c=campaign
    )
    assert details[0].details == {"enrollments": 2, "actions": 4, "messages": 4}


def test_a_launch_enrolls_the_reachable_audience_and_a_kill_cancels_what_it_queued(
    world: World, clean_db: Engine, redis_conn: redis.Redis
) -> None:
    campaign = ready_draft(world, channels=("email", "sms"))
    drafts.save_timing(
        **acting(world, campaign),
        starts_at=None,
        timezone="America/New_York",
        send_window=(8, 20),
        quiet_hours=(21, 8),
        follow_ups=[FollowUp("no_reply", timedelta(days=2), ("email",), "a nudge")],
    )
    launched = lifecycle.launch(**acting(world, campaign), now=NOW)
    assert launched.enrolled["enrolled"] == 3
    enrolled = sql(
        clean_db,
        "SELECT lead_id, status, current_node FROM enrollments WHERE campaign_id = :c ORDER BY lead_id",
        c=campaign,
    )
    leads = sorted(world.leads[name] for name in ("Ann", "Ben", "Cat"))
    assert [tuple(r) for r in enrolled] == [(lead, "active", "step-1") for lead in leads]
    sends = sql(
        clean_db,
        """SELECT a.lead_id, a.node, a.payload ->> 'template' AS template FROM scheduled_actions a
           JOIN enrollments e ON e.id = a.enrollment_id
           WHERE e.campaign_id = :c AND a.kind = 'send' AND a.status = 'pending' ORDER BY a.lead_id""",
        c=campaign,
    )
    assert [tuple(r) for r in sends] == [(lead, "step-1", f"campaign-{campaign}/step-1/A") for lead in leads]
    timers = sql(
        clean_db,
        """SELECT count(*) FROM scheduled_actions a JOIN enrollments e ON e.id = a.enrollment_id
           WHERE e.campaign_id = :c AND a.kind = 'no_reply' AND a.status = 'pending'""",
        c=campaign,
    )[0][0]
    assert timers == 3, "each waits for a reply at step-1"

    killed = lifecycle.kill(**acting(world, campaign), now=NOW)

    assert (killed.enrollments, killed.actions) == (3, 6)
    left = sql(
        clean_db,
        """SELECT (SELECT count(*) FROM enrollments WHERE campaign_id = :c AND status IN ('active', 'waiting')) AS open,
                  (SELECT count(*) FROM scheduled_actions a JOIN enrollments e ON e.id = a.enrollment_id
                   WHERE e.campaign_id = :c AND a.status = 'pending') AS pending""",
        c=campaign,
    )[0]
    assert tuple(left) == (0, 0)


def test_a_launched_campaigns_message_is_written_from_its_own_template(
    world: World, clean_db: Engine, redis_conn: redis.Redis
) -> None:
    """The wizard's text, not the recovery ladder's, is what the writer fills for the lead (the
    offline writer with no key): the email's subject and body are HELLO's with the name put in.
    The one-message plan completes in the step that asked for the message, which still goes."""
    campaign = ready_draft(world)
    # A week before NOW (also 10:00 in New York): the writer takes what is due by the database's
    # clock, so the launch must lie in the past.
    launched_at = NOW - timedelta(days=7)
    lifecycle.launch(**acting(world, campaign), now=launched_at)

    write_due(tenant_id=world.tenant, now=launched_at)

    written = sql(
        clean_db,
        """SELECT l.first_name, m.subject, m.body FROM outbound_messages m JOIN leads l ON l.id = m.lead_id
           WHERE m.campaign_id = :c ORDER BY l.first_name""",
        c=campaign,
    )
    assert written, "the launch's sends were written"
    for row in written:
        assert row.subject == f"Hello {row.first_name}"
        assert row.body.startswith(f"Hi {row.first_name}, still keen?")
