"""Issue 10: a campaign from an empty draft to launch, then paused and killed, in real Chromium
against `streamlit run` on the seeded demo.

The journey goes through every step of the wizard as an operator would (a channel, every lead
as the audience, a starter template from the library, the default timing, the review), presses
Launch, then Pause and Kill (confirmed) on the list; the database says each move happened.
Synchronisation is Playwright's waiting on text and roles, never sleeps.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.e2e.conftest import ARTIFACTS, Console
from tests.e2e.test_console import open_page, pick, settled

pytestmark = pytest.mark.e2e
NAME = "Chromium win-back"


def status_of(engine: Engine, tenant_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT status FROM campaigns WHERE tenant_id = :t AND name = :n"), {"t": tenant_id, "n": NAME}
        ).scalar()


def idle(page: Page) -> None:
    """Wait until the script run is over, as Streamlit itself says on its root element.

    A button pressed while a run is still drawing the page can be lost (its callback is known
    only once the run that draws it has finished), so every press waits for this first.
    """
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning", timeout=30_000)
    settled(page)


def wizard_step(page: Page, name: str) -> None:
    """Wait for the wizard's progress line to show `name` as the current step (bold), then for the run to end."""
    expect(page.locator("strong", has_text=name)).to_be_visible()
    idle(page)


def press(page: Page, name: str) -> None:
    idle(page)
    page.get_by_role("button", name=name, exact=True).click()


def test_a_campaign_from_an_empty_draft_to_launch_then_paused_and_killed(
    page: Page, console: Console, engine: Engine
) -> None:
    tenant = console.tenants[0]
    open_page(page, "Campaigns")

    page.get_by_role("textbox", name="New campaign").fill(NAME)
    press(page, "Create draft")
    wizard_step(page, "1 Channels")
    assert status_of(engine, tenant.id) == "draft"

    channels = page.get_by_role("combobox", name="Channels, in the order tried")
    channels.click()
    page.get_by_role("option", name="Email", exact=True).click()
    page.keyboard.press("Escape")
    press(page, "Save & next")
    wizard_step(page, "2 Audience")

    expect(page.get_by_test_id("stMetric").filter(has_text="Matching leads")).to_have_count(0)
    press(page, "Save & next")  # no criterion: every lead of the tenant
    wizard_step(page, "3 Message")

    press(page, "Use for A")  # the first starter of the library
    expect(page.get_by_role("textbox", name="Email subject")).to_have_value("Still thinking it over, {{first_name}}?")
    press(page, "Preview")
    expect(page.get_by_text("The sender adds a footer").first).to_be_visible()
    press(page, "Save & next")
    wizard_step(page, "4 Timing")

    press(page, "Save & next")
    wizard_step(page, "5 Review")
    expect(page.get_by_text("Ready to launch.")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "campaign-review.png"), full_page=True)
    press(page, "Launch")
    expect(page.get_by_text("Launched: the campaign is running")).to_be_visible()
    settled(page)
    assert status_of(engine, tenant.id) == "running"

    pick(page, "Campaign", NAME)
    press(page, "Pause")
    expect(page.get_by_text("Paused: nothing of it goes out until you resume it.")).to_be_visible()
    settled(page)
    assert status_of(engine, tenant.id) == "paused"

    press(page, "Kill")
    expect(page.get_by_text("A killed campaign cannot be resumed.")).to_be_visible()
    assert status_of(engine, tenant.id) == "paused", "nothing happens before the confirmation"
    press(page, "Yes, kill it")
    expect(page.get_by_text("Killed:")).to_be_visible()
    settled(page)
    assert status_of(engine, tenant.id) == "killed"
    page.screenshot(path=str(ARTIFACTS / "campaign-killed.png"), full_page=True)
