"""Issue 9: a lead's unsubscribe link in real Chromium, from the email to the console.

The api runs as the Procfile starts it (`uvicorn app.api:app`) on the console's seeded demo,
with its public base URL pointing at itself. The link is built as the sender builds it for a
demo lead that has an email and is in recovery; the browser opens it, sees the confirmation
page (and the database is unchanged: a GET unsubscribes nobody), presses the button, and the
lead drawer of the console, opened from the Leads page, then shows the lead suppressed.
Synchronisation is Playwright's waiting on text and roles, never sleeps.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.channels import registry
from app.domain.unsubscribe import make_token
from app.settings import load_settings
from tests.e2e.conftest import ARTIFACTS, Console, api_server

pytestmark = pytest.mark.e2e
SECRET = "e2e-unsubscribe-secret"
DATAFRAME_HEADER_PX = 35  # Streamlit's data grid: a 35 px header, then 35 px rows
DATAFRAME_ROW_PX = 35
ROW_MARKER_X = 15  # inside the row-selection column at the grid's left edge


@dataclass(frozen=True)
class Api:
    url: str
    secret: str


@pytest.fixture(scope="session")
def api(console: Console, database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """`uvicorn app.api:app` on the console's database (seeded by `console` first), its URL its public base."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET,
        "EMAIL_PROVIDER": "sandbox",
        "SMS_PROVIDER": "sandbox",
    }
    with api_server(env, tmp_path_factory.mktemp("e2e-api") / "uvicorn.log") as url:
        yield Api(url, SECRET)


def rows(engine: Engine, sql: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


@dataclass(frozen=True)
class Lead:
    id: int
    name: str
    email: str
    enrollment: int


def lead_to_unsubscribe(engine: Engine, tenant_id: int) -> Lead:
    """A demo lead in recovery with an active enrollment and an email that is not suppressed, and that
    the Leads page's search (name, email or company, ILIKE) finds alone."""
    found = rows(
        engine,
        """
        SELECT l.id, l.first_name || ' ' || l.last_name AS name, l.email, e.id AS enrollment FROM leads l
        JOIN enrollments e ON e.lead_id = l.id AND e.status = 'active'
        WHERE l.tenant_id = :t AND l.recovery_state = 'in_recovery' AND l.email LIKE '%_@_%'
          AND NOT EXISTS (SELECT 1 FROM suppressions s
                          WHERE s.tenant_id = l.tenant_id AND s.channel = 'email' AND s.address = lower(l.email))
          AND (SELECT count(*) FROM leads o WHERE o.tenant_id = l.tenant_id
                 AND (o.first_name || ' ' || o.last_name ILIKE '%' || l.email || '%'
                      OR o.email ILIKE '%' || l.email || '%' OR o.company ILIKE '%' || l.email || '%')) = 1
          AND (SELECT count(*) FROM enrollments x WHERE x.lead_id = l.id AND x.status IN ('active', 'waiting')) = 1
        ORDER BY l.id LIMIT 1
        """,
        t=tenant_id,
    )
    if not found:
        pytest.fail("the seeded demo has no lead in recovery with an email of its own")
    row = found[0]
    return Lead(int(row.id), str(row.name), str(row.email), int(row.enrollment))


def unsubscribe_link(api: Api, tenant_id: int, lead: Lead) -> str:
    """The link as `app/services/send.outgoing` puts it in the footer and the List-Unsubscribe header."""
    settings = load_settings(public_base_url=api.url, secret_key=api.secret)
    today = datetime.now(UTC).date()  # the live api's clock: a link issued today, as the sender dates it
    token = make_token(
        api.secret, tenant_id=tenant_id, channel="email", lead_id=lead.id, address=lead.email, issued=today
    )
    return registry.public_url(settings, f"/unsubscribe/{token}")


def state(engine: Engine, tenant_id: int, lead: Lead) -> tuple[Any, ...]:
    """The lead's suppressions, its enrollment's status and its transitions, as the test reads them."""
    suppressed = rows(
        engine,
        "SELECT channel, address, reason FROM suppressions WHERE tenant_id = :t AND address = lower(:a)",
        t=tenant_id,
        a=lead.email,
    )
    enrollment = rows(engine, "SELECT status FROM enrollments WHERE id = :e", e=lead.enrollment)[0].status
    transitions = rows(
        engine, "SELECT event FROM campaign_transitions WHERE enrollment_id = :e ORDER BY id", e=lead.enrollment
    )
    return [tuple(r) for r in suppressed], enrollment, [r.event for r in transitions]


def masked(email: str) -> str:
    """j***@example.com, written out here: the first letter of the mailbox and the whole domain."""
    mailbox, domain = email.lower().rsplit("@", 1)
    return f"{mailbox[0]}***@{domain}"


def open_lead_in_drawer(page: Page, email: str) -> None:
    """Leads & scores: search the lead's email, tick its row (the only one), and the drawer opens."""
    page.get_by_test_id("stSidebar").get_by_role("link", name="Leads & scores", exact=True).click()
    expect(page.get_by_role("heading", name="Leads & scores", exact=True)).to_be_visible()
    search = page.get_by_role("textbox", name="Search")
    search.fill(email)
    search.press("Enter")
    expect(page.get_by_text("Showing 1–1 of 1 leads")).to_be_visible()
    grid = page.get_by_test_id("stDataFrame").first  # the leads table: the first grid of the page
    grid.click(position={"x": ROW_MARKER_X, "y": DATAFRAME_HEADER_PX + DATAFRAME_ROW_PX // 2})
    expect(page.get_by_text("Opened in the lead drawer")).to_be_visible()


def test_the_unsubscribe_link_confirms_then_suppresses_and_the_dashboard_and_drawer_show_it(
    page: Page, console: Console, api: Api, engine: Engine
) -> None:
    tenant = console.tenants[0]
    lead = lead_to_unsubscribe(engine, tenant.id)
    link = unsubscribe_link(api, tenant.id, lead)
    before = state(engine, tenant.id, lead)
    suppressed, enrollment, transitions = before
    assert (suppressed, enrollment) == ([], "active")
    assert "unsubscribed" not in transitions  # the seed's history: how the lead came into recovery

    mail_tab = page.context.new_page()  # the lead's mail client, beside the rep's console
    mail_tab.goto(link)
    expect(mail_tab.get_by_role("heading", name=f"Unsubscribe from {tenant.name}?")).to_be_visible()
    expect(mail_tab.get_by_text(masked(lead.email))).to_be_visible()
    mail_tab.screenshot(path=str(ARTIFACTS / "unsubscribe-confirm.png"), full_page=True)
    assert state(engine, tenant.id, lead) == before, "opening the link unsubscribed nobody"

    mail_tab.get_by_role("button", name="Unsubscribe").click()
    expect(mail_tab.get_by_role("heading", name="You're unsubscribed")).to_be_visible()
    mail_tab.screenshot(path=str(ARTIFACTS / "unsubscribe-done.png"), full_page=True)
    assert state(engine, tenant.id, lead) == (
        [("email", lead.email.lower(), "unsubscribe")],
        "stopped",
        [*transitions, "unsubscribed"],
    )

    # The dashboard (where the rep starts) shows it in its live feed: "Email unsubscribed", the lead.
    page.get_by_test_id("stSidebar").get_by_role("link", name="Recovery dashboard", exact=True).click()
    feed_row = page.get_by_test_id("stTable").get_by_role("row").filter(has_text="Email unsubscribed")
    expect(feed_row.filter(has_text=lead.name).first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard-feed-unsubscribed.png"))

    open_lead_in_drawer(page, lead.email)
    drawer = page.locator(".st-key-leads-drawer-panel")  # Streamlit's class for the key leads.drawer.panel
    expect(drawer.get_by_role("heading", name=lead.name)).to_be_visible()
    marker = drawer.get_by_test_id("stAlert").filter(has_text="Suppressed (unsubscribe)")
    expect(marker).to_be_visible()
    expect(marker).to_contain_text("no email is sent to this lead's address")
    marker.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "leads-drawer-suppressed.png"))
