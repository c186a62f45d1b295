"""The Campaigns page through AppTest: the wizard from an empty campaign to a launched one (every
step saved, Back and Next losing nothing, the preview and the review), then pause and kill from
the list; and the lead map's "Add to campaign" handing its selection to the wizard. Expected
figures come from SQL written here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services import demo, operators
from components import format as fmt
from pages import session
from pages.campaigns import listing, state, step_audience, step_channels, step_message, step_timing
from tests.app import factories
from tests.app.driver import metrics, open_page, rows, signed_in, truncate, value
from tests.app.test_lead_scatter import select_on_map


@pytest.fixture
def world(engine: Engine, redis_conn: redis.Redis) -> Iterator[factories.World]:
    """The factories' world, its demo account a manager: a rep drafts campaigns, a manager launches them."""
    truncate(engine)
    built = factories.build(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE operators SET role = 'manager' WHERE email = 'demo@acme.example'"))
    yield built
    truncate(engine)


def ok(at: AppTest, *, errors: bool = False) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert errors or not at.error, [e.value for e in at.error]
    return at


def click(at: AppTest, key: str, *, errors: bool = False) -> AppTest:
    return ok(at.button(key=key).click().run(), errors=errors)


def step_shown(at: AppTest) -> str:
    """The bold step of the wizard's progress line."""
    line = next(m.value for m in at.markdown if " › " in m.value)
    return line.split("**")[1]


REACHABLE_SQL = """
    SELECT count(*) FROM leads l WHERE l.tenant_id = :t AND l.intent_score BETWEEN 50 AND 100
      AND coalesce(l.email, '') <> '' AND l.consent_email
      AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = l.tenant_id AND s.channel = 'email'
                      AND s.address IN (l.email, lower(l.email)))
"""


def test_the_wizard_takes_an_empty_campaign_to_launch_then_pause_and_kill(
    world: factories.World, engine: Engine
) -> None:
    acme = world.tenants["acme"]
    at = open_page(signed_in("demo@acme.example", factories.DEMO_PASSWORD), "pages/campaign_list.py")
    at.session_state[session.CLOCK] = world.now

    # A new, empty draft opens at step 1.
    at.text_input(key="campaigns.new.name").input("Spring win-back")
    at = click(at, "campaigns.new.create")
    campaign = value(engine, "SELECT id FROM campaigns WHERE tenant_id = :t AND name = 'Spring win-back'", t=acme)
    assert value(engine, "SELECT status FROM campaigns WHERE id = :c", c=campaign) == "draft"
    assert step_shown(at) == "1 Channels"

    # 1. Channels.
    at.multiselect(key=step_channels.CHANNELS).set_value(["email"])
    at = click(at, "campaigns.w1.next")
    assert step_shown(at) == "2 Audience"
    assert value(engine, "SELECT plan->'nodes'->0->'channels' FROM campaigns WHERE id = :c", c=campaign) == ["email"]

    # 2. Audience: a score range, counted live.
    at.slider(key=step_audience.SCORE).set_range(50, 100)
    at = click(at, "campaigns.w2.count")
    matching = value(engine, "SELECT count(*) FROM leads WHERE tenant_id = :t AND intent_score >= 50", t=acme)
    reachable = value(engine, REACHABLE_SQL, t=acme)
    assert metrics(at)["Matching leads"] == fmt.count(matching)
    assert metrics(at)["Reachable"] == fmt.count(reachable)
    at = click(at, "campaigns.w2.next")
    assert step_shown(at) == "3 Message"

    # 3. Message: from the library, then edited; the preview fills it for a sample lead.
    at.selectbox(key=step_message.LIBRARY).set_value("Starter: Gentle check-in").run()
    at = click(at, "campaigns.w3.use_a")
    assert at.text_input(key=step_message.key("A", "email_subject")).value == "Still thinking it over, {{first_name}}?"
    at.text_area(key=step_message.key("A", "email_body")).input("Hi {{first_name}}, shall we talk?\n\n{{sender_name}}")
    at = click(at, "campaigns.w3.preview")
    first = at.selectbox(key="campaigns.w.message.preview_lead")
    name = value(engine, "SELECT first_name FROM leads WHERE id = :l", l=first.value)
    assert f"Hi {name}, shall we talk?\n\nAcme Dental team" in [t.value for t in at.text]

    # Back to the audience and forward again: nothing lost.
    at = click(at, "campaigns.w3.back")
    assert at.slider(key=step_audience.SCORE).value == (50, 100)
    at = click(at, "campaigns.w2.next")
    assert (
        at.text_area(key=step_message.key("A", "email_body")).value
        == "Hi {{first_name}}, shall we talk?\n\n{{sender_name}}"
    )
    at = click(at, "campaigns.w3.next")
    assert step_shown(at) == "4 Timing"

    # 4. Timing: one follow-up two days after no reply; the diagram draws it.
    at.number_input(key=step_timing.COUNT).set_value(1).run()
    at.text_input(key=step_timing.row_key(1, "brief")).input("a short nudge")
    at = click(at, "campaigns.w4.save")
    dot = at.get("graphviz_chart")[0].proto.spec
    assert '"step-1" -> "step-2" [label="no reply · 2 d"]' in dot
    at = click(at, "campaigns.w4.next")
    assert step_shown(at) == "5 Review"

    # 5. Review: ready, every lead counted at both email steps, then launch.
    assert [s.value for s in at.success] == ["Ready to launch."]
    assert metrics(at)["Emails, at most"] == fmt.count(2 * reachable)
    at = click(at, "campaigns.w5.launch")
    assert value(engine, "SELECT status FROM campaigns WHERE id = :c", c=campaign) == "running"
    assert at.success[0].value.startswith("Launched: the campaign is running")

    # Pause, then kill from the list (the kill asks once more).
    at.selectbox(key=listing.PICK).set_value(campaign).run()
    enrolled = value(engine, "SELECT count(*) FROM enrollments WHERE campaign_id = :c", c=campaign)
    busy = value(
        engine,
        """SELECT count(*) FROM enrollments e JOIN leads l ON l.id = e.lead_id
           WHERE e.campaign_id <> :c AND e.status IN ('active', 'waiting') AND l.intent_score >= 50
             AND l.tenant_id = :t AND l.consent_email""",
        c=campaign,
        t=acme,
    )
    assert enrolled == reachable - busy, "the reachable audience, but for leads already in another conversation"
    assert "A/B test" in [h.value for h in at.subheader], "the A/B section of a launched campaign"
    at = click(at, "campaigns.pause")
    assert value(engine, "SELECT status FROM campaigns WHERE id = :c", c=campaign) == "paused"
    at = click(at, "campaigns.kill")
    assert value(engine, "SELECT status FROM campaigns WHERE id = :c", c=campaign) == "paused", "not before confirming"
    assert any(w.value.startswith("Kill **Spring win\\-back**?") for w in at.warning)
    at = click(at, "campaigns.kill_confirm")
    assert value(engine, "SELECT status FROM campaigns WHERE id = :c", c=campaign) == "killed"
    events = rows(engine, "SELECT event, to_status FROM campaign_events WHERE campaign_id = :c ORDER BY id", c=campaign)
    assert [tuple(e) for e in events] == [
        ("created", "draft"),
        ("launched", "running"),
        ("paused", "paused"),
        ("killed", "killed"),
    ]


def test_a_launch_with_problems_stays_disabled_and_says_why(world: factories.World, engine: Engine) -> None:
    at = open_page(signed_in("demo@acme.example", factories.DEMO_PASSWORD), "pages/campaign_list.py")
    at.text_input(key="campaigns.new.name").input("Half done")
    at = click(at, "campaigns.new.create")
    at = click(at, "campaigns.w1.next")  # no channel
    at = click(at, "campaigns.w2.next")
    at = click(at, "campaigns.w3.next")
    at = click(at, "campaigns.w4.next", errors=True)
    assert step_shown(at) == "5 Review"
    assert [e.value for e in at.error] == ["Not ready to launch. Fix these first (Back to the step that sets them):"]
    assert at.button(key="campaigns.w5.launch").disabled
    problems = [m.value.replace("\\", "") for m in at.markdown if m.value.startswith("- ")]  # shown escaped
    assert problems == [
        "- $.nodes[0].channels: a send needs at least one channel (email, sms)",
        "- $.nodes[0]: a send needs a template or a brief (on the node or on each variant)",
        "- Audience: no lead in it can be written to by any channel",
    ]


def test_draft_with_ai_fills_the_texts_from_the_brief(world: factories.World, engine: Engine) -> None:
    at = open_page(signed_in("demo@acme.example", factories.DEMO_PASSWORD), "pages/campaign_list.py")
    at.text_input(key="campaigns.new.name").input("AI drafted")
    at = click(at, "campaigns.new.create")
    at.multiselect(key=step_channels.CHANNELS).set_value(["sms"])
    at = click(at, "campaigns.w1.next")
    at = click(at, "campaigns.w2.next")  # every lead
    at.text_area(key=step_message.key("A", "brief")).input("a friendly check-in")
    at = click(at, "campaigns.w3.ai")
    body = at.text_area(key=step_message.key("A", "sms_body")).value
    assert "{{first_name}}" in body
    assert "stop" in body.lower()
    assert [i.value for i in at.info] == ["Drafted by the writer (offline); edit anything before you go on."]
    saved = value(
        engine,
        """SELECT v.body FROM templates t JOIN template_versions v ON v.template_id = t.id
           AND v.version = t.current_version WHERE t.channel = 'sms' AND t.name LIKE 'campaign-%/step-1/A'""",
    )
    assert saved == body


def test_the_lead_map_hands_its_selection_to_a_new_campaign(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    picked = [r.id for r in rows(engine, "SELECT id FROM leads WHERE tenant_id = :t ORDER BY id LIMIT 3", t=acme)]
    at = open_page(signed_in("demo@acme.example", factories.DEMO_PASSWORD), "pages/lead_scores.py")
    at = select_on_map(at, picked)
    assert at.button(key="leads.add_to_campaign").label == "Add 3 to a campaign"
    at = click(at, "leads.add_to_campaign")
    assert at.title[0].value == "Campaigns"
    assert at.session_state[state.HANDOFF] == state.LeadHandoff(acme, tuple(picked))
    # st.switch_page moved that run only: AppTest reruns the page it was switched to itself (a browser follows the URL).
    at = open_page(at, "pages/campaign_list.py")
    at = click(at, "campaigns.handoff.create")
    assert step_shown(at) == "2 Audience"
    audience = value(
        engine, "SELECT audience FROM campaigns WHERE tenant_id = :t AND name = 'Picked on the lead map'", t=acme
    )
    assert audience == {"lead_ids": picked}
    assert metrics(at)["Matching leads"] == "3"


@pytest.fixture
def demo_tenant(engine: Engine, redis_conn: redis.Redis) -> Iterator[int]:
    truncate(engine)
    demo.seed(tenants=1, leads=300, seed=7)
    yield int(value(engine, "SELECT id FROM tenants ORDER BY id LIMIT 1"))
    truncate(engine)


def test_the_demo_s_own_draft_opens_at_every_step(demo_tenant: int, engine: Engine) -> None:
    """The seeded draft was not made by the wizard (an older plan, an audience of another shape):
    every step still opens, showing what the wizard understands of it, and the library offers
    the tenant's own templates after the starters."""
    email = value(engine, "SELECT email FROM operators WHERE tenant_id = :t AND email LIKE 'demo@%'", t=demo_tenant)
    draft = value(engine, "SELECT id FROM campaigns WHERE tenant_id = :t AND status = 'draft'", t=demo_tenant)
    at = open_page(signed_in(email, operators.DEMO_PASSWORD), "pages/campaign_list.py")
    at.selectbox(key=listing.PICK).set_value(draft).run()
    at = click(at, "campaigns.open_wizard")
    assert step_shown(at) == "1 Channels"
    assert at.multiselect(key=step_channels.CHANNELS).value == []
    at = click(at, "campaigns.w1.next")
    assert at.slider(key=step_audience.SCORE).value == (0, 100), "an audience of another shape reads as none chosen"
    at = click(at, "campaigns.w2.next")
    offered = at.selectbox(key=step_message.LIBRARY).options
    own = [r.name for r in rows(engine, "SELECT DISTINCT name FROM templates WHERE tenant_id = :t", t=demo_tenant)]
    assert offered[:3] == ["Starter: Gentle check-in", "Starter: One question", "Starter: Last note"]
    assert set(offered[3:]) == set(own)
    at = click(at, "campaigns.w3.next")
    at = click(at, "campaigns.w4.next", errors=True)  # nothing chosen yet: the review says so
    assert step_shown(at) == "5 Review"
    assert at.button(key="campaigns.w5.launch").disabled
