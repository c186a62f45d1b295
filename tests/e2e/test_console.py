"""Issue 4: the operator console end to end, in real Chromium against `streamlit run`.

Synchronisation is Playwright's own waiting on text and roles (`expect(...)`), never sleeps:
Streamlit draws over a websocket, so a page is ready when its heading is there. Every page
leaves a full-page screenshot in `tests/e2e/artifacts/<url path>.png`, and the first screen
of a fresh server `first-paint.png`.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import Engine

from app.domain.holdout import is_control
from db import dashboard
from db.models import Tenant
from pages.recovery import SILENT_LIMIT
from streamlit_app import PAGES
from tests.e2e.conftest import ARTIFACTS, ROOT, UI_TIMEOUT_MS, Console

pytestmark = pytest.mark.e2e


def open_page(page: Page, title: str) -> None:
    """Click the sidebar link of a page and wait for its heading, then for the whole page."""
    page.get_by_test_id("stSidebar").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    settled(page)


def settled(page: Page) -> None:
    """Wait until the script run is over: no running indicator, no grey placeholder left.

    Streamlit keeps the previous page's elements as grey skeletons until the new run replaces
    them, so a screenshot taken at the heading would show half a page.
    """
    expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0, timeout=30_000)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=30_000)
    expect(page.get_by_test_id("stSkeletonElement")).to_have_count(0, timeout=30_000)


def settings_caption(page: Page, slug: str) -> Locator:
    return page.get_by_text(re.compile(rf"^Tenant\s+{re.escape(slug)}, time zone"))


def open_list(page: Page, label: str) -> None:
    """Open a selectbox's list of options, with one click.

    Streamlit's selectbox (react-aria's ComboBox) closes its list when a page that holds it
    scrolls. Playwright's click scrolls an element into view itself, and the browser may
    deliver that scroll event only after the click has opened the list, which then closes.
    So the box is scrolled into view first; the click waits for it to be still.
    """
    box = page.get_by_role("combobox", name=label)
    box.scroll_into_view_if_needed()
    box.click()
    expect(page.get_by_role("option").first).to_be_visible()


def offered(page: Page, label: str) -> list[str]:
    """The options of a selectbox, read by opening it (then closed again)."""
    open_list(page, label)
    names = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    expect(page.get_by_role("option")).to_have_count(0)
    return names


def pick(page: Page, label: str, option: str) -> None:
    open_list(page, label)
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.get_by_role("combobox", name=label)).to_have_value(option)


# Runs in the page before its own scripts: every link Streamlit's sidebar navigation ever showed,
# every link text anywhere, and the texts of the elements drawn in the main area, in the order
# they came.
WATCH_FIRST_SCREEN = """
window.firstScreen = {navLinks: [], links: [], mainTexts: []};
new MutationObserver(() => {
  const seen = window.firstScreen;
  for (const link of document.querySelectorAll('[data-testid="stSidebarNav"] a')) {
    const text = link.textContent.trim();
    if (!seen.navLinks.includes(text)) seen.navLinks.push(text);
  }
  for (const link of document.querySelectorAll('a')) {
    const text = link.textContent.trim();
    if (text && !seen.links.includes(text)) seen.links.push(text);
  }
  for (const element of document.querySelectorAll('[data-testid="stMain"] [data-testid="stElementContainer"]')) {
    const text = element.innerText.trim();
    if (text && !seen.mainTexts.includes(text)) seen.mainTexts.push(text);
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def page_file_labels() -> set[str]:
    """What Streamlit's legacy list calls the files beside and under the entry script:
    `pages/agent_activity.py` is "agent activity", `streamlit_app.py` "streamlit app"."""
    files = [ROOT / "streamlit_app.py", *(ROOT / "pages").glob("*.py")]
    return {f.stem.replace("_", " ") for f in files if f.name != "__init__.py"}


def test_a_fresh_server_first_paints_the_sign_in_form(browser: Browser, fresh_console: str) -> None:
    """The first visit of a new server process (the run Streamlit's legacy pages-folder mode
    takes over) shows the sign-in form first, and at no moment a list of the files in pages/."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        context.add_init_script(WATCH_FIRST_SCREEN)
        tab = context.new_page()
        tab.goto(fresh_console, wait_until="commit")
        expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
        tab.screenshot(path=str(ARTIFACTS / "first-paint.png"))
        expect(tab.get_by_role("heading", name="Lead Recovery Engine")).to_be_visible()
        expect(tab.get_by_role("textbox", name="Email")).to_be_visible()
        expect(tab.get_by_test_id("stSidebarNav")).to_have_count(0)
        expect(tab.get_by_test_id("stSidebar").get_by_role("link")).to_have_count(0)
        seen = tab.evaluate("window.firstScreen")
    finally:
        context.close()
    assert seen["navLinks"] == []
    assert "agent activity" in page_file_labels()  # the labels the legacy list would show
    assert not page_file_labels() & {text.lower() for text in seen["links"]}
    assert seen["mainTexts"][0] == "Lead Recovery Engine", "the first thing drawn is the sign-in screen"


def test_sign_in_lands_on_the_dashboard(page: Page, console: Console) -> None:
    expect(page.get_by_text("Signed in as")).to_be_visible()
    expect(page.get_by_role("heading", name="Silent leads worth winning back")).to_be_visible()
    expect(page.get_by_role("combobox", name="Tenant")).to_have_value(console.tenants[0].name)


def test_every_page_opens_from_the_sidebar_nav(page: Page, console: Console) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for spec in (*PAGES[1:], PAGES[0]):  # the dashboard last: reached through its link too
        open_page(page, spec.title)
        path = "" if spec is PAGES[0] else spec.url_path  # the default page lives at "/"
        expect(page).to_have_url(re.compile(rf"^{re.escape(console.url)}/{path}/?$"))
        page.screenshot(path=str(ARTIFACTS / f"{spec.url_path}.png"), full_page=True)


def test_tenant_picker_switches_the_tenant_shown(page: Page, console: Console) -> None:
    first, second = console.tenants
    open_page(page, "Settings")
    expect(settings_caption(page, first.slug)).to_be_visible()
    assert offered(page, "Tenant") == [first.name, second.name]

    pick(page, "Tenant", second.name)
    expect(settings_caption(page, second.slug)).to_be_visible()
    expect(settings_caption(page, first.slug)).to_have_count(0)

    open_page(page, "Recovery dashboard")  # the choice holds across pages
    expect(page.get_by_role("combobox", name="Tenant")).to_have_value(second.name)
    pick(page, "Tenant", first.name)
    open_page(page, "Settings")
    expect(settings_caption(page, first.slug)).to_be_visible()


def _lead_to_recover(engine: Engine, tenant_id: int) -> str:
    """A silent lead of the dashboard's list with a name of its own, outside the control group."""
    with engine.connect() as conn:
        holdout = conn.execute(sa.select(Tenant.holdout_percent).where(Tenant.id == tenant_id)).scalar_one()
        frame = dashboard.silent_leads(conn, tenant_id, limit=SILENT_LIMIT)
    names = Counter(frame["name"])
    for lead_id, name in zip(frame["id"], frame["name"], strict=True):
        if names[name] == 1 and not is_control(tenant_id, int(lead_id), holdout):
            return str(name)
    pytest.fail("the seeded demo has no silent lead to recover")


def test_recover_one_lead_from_the_dashboard(page: Page, console: Console, engine: Engine) -> None:
    tenant = console.tenants[0]
    name = _lead_to_recover(engine, tenant.id)
    settled(page)  # the dashboard's first run is over: nothing above the picker grows any more
    assert name in offered(page, "One lead")

    pick(page, "One lead", name)
    page.get_by_role("button", name="Recover this lead").click()

    outcome = page.get_by_test_id("stAlert").filter(has_text="Recover now:")
    expect(outcome).to_be_visible()
    expect(outcome).to_contain_text("1 enrolled")
    expect(page.get_by_role("combobox", name="One lead")).to_have_value("")  # a new round, a fresh picker
    settled(page)  # the rerun that drew the fresh picker is over: opening it now stays open
    assert name not in offered(page, "One lead")
    page.screenshot(path=str(ARTIFACTS / "dashboard-recovered.png"), full_page=True)
