"""Issue 11: a team brings its own leads and answers one of them, in real Chromium.

The rep signs in, uploads a small CSV on the Leads page (through the browser's file chooser),
imports it and finds the new leads in the table. While the rep waits on the Replies page, one
of them texts the tenant's number: the text comes through the real door, Twilio's inbound SMS
webhook (signed as Twilio signs it) of `uvicorn app.api:app`, which stores and triages it. The
inbox's notice says a reply came in, without a reload; the rep shows it, opens it, edits the
suggested answer and sends it. The database then holds the rep's words as the
lead's outbox row, and the sender, run on that row's tenant with the clock set inside the
lead's sending hours, hands exactly those words to Twilio (the local fake, through the real SDK).

The inbox is drawn before the text comes in, so whatever the console's caches held, the reply
is new to it. Synchronisation is Playwright's waiting on text and roles and on the end of each
script run, never sleeps; expectations come from SQL written here.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from twilio.request_validator import RequestValidator

from app.services import send
from tests.e2e.conftest import ARTIFACTS, UI_TIMEOUT_MS, Console, api_server
from tests.e2e.test_campaign_journey import idle
from tests.e2e.test_console import offered, open_page
from tests.fakes import twilio_server
from tests.fakes.twilio_server import FakeTwilio
from tests.integration.outbox import twilio_settings
from tests.support import PRODUCTION_ENV

pytestmark = pytest.mark.e2e
COMPANY = "Juniper Journey Co"
ZONE = "America/Chicago"
CSV = f"""External ID,First name,Last name,Company,Email,Phone,Time zone,SMS consent
journey-1,Juniper,Alvarez,{COMPANY},juniper.alvarez@juniper-journey.example,(415) 555-0161,{ZONE},yes
journey-2,Rowan,Okafor,{COMPANY},rowan.okafor@juniper-journey.example,(415) 555-0162,{ZONE},yes
journey-3,Mara,Lindqvist,{COMPANY},mara.lindqvist@juniper-journey.example,(415) 555-0163,{ZONE},yes
"""
IMPORTED = {  # external id: (name, E.164 phone), worked out by hand from the file
    "journey-1": ("Juniper Alvarez", "+14155550161"),
    "journey-2": ("Rowan Okafor", "+14155550162"),
    "journey-3": ("Mara Lindqvist", "+14155550163"),
}
REPLIER = "journey-1"
TEXT = "Yes, still interested. Can you call me Thursday?"
ANSWER = "Great to hear, Juniper! I'll call you Thursday at 10am. Talk soon."
SID = "SM" + "6a" * 16
SHARED_NUMBER = "+15550009999"
"""The installation's number; the demo tenants text from numbers of their own."""


def rows(engine: Engine, sql: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


@pytest.fixture
def api(console: Console, console_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The api on the console's database, verifying Twilio's signatures with the account's own token.

    It sends nothing (the sender does, below), so it keeps the sandbox provider; the token makes
    Twilio a real provider, so it runs as production must: a random secret and an https public
    URL (a TLS proxy's, which is what Twilio signs) in front of its plain http port."""
    env = {
        **console_env,
        **PRODUCTION_ENV,
        "TWILIO_AUTH_TOKEN": twilio_server.AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": SHARED_NUMBER,
    }
    env.pop("ANTHROPIC_API_KEY", None)  # triage offline: the webhook answers without an external call
    with api_server(env, tmp_path / "uvicorn.log", public_url=PRODUCTION_ENV["PUBLIC_BASE_URL"]) as url:
        yield url


def shows(page: Page, text: str) -> None:
    """Wait for `text` on the page as long as a page's first render may take (expect's own default is 5 s)."""
    expect(page.get_by_text(text)).to_be_visible(timeout=UI_TIMEOUT_MS)


def import_csv(page: Page, path: Path) -> None:
    """Leads & scores → Import: choose the file in the browser's file chooser, import it."""
    open_page(page, "Leads & scores")
    page.get_by_test_id("stExpander").filter(has_text="Import leads from a CSV file").get_by_text(
        "Import leads from a CSV file"
    ).click()
    with page.expect_file_chooser() as chooser:  # the uploader's "Upload" button opens the system's dialog
        page.get_by_test_id("stFileUploaderDropzone").get_by_role("button", name="Upload", exact=True).click()
    chooser.value.set_files(str(path))
    shows(page, f"{path.name}: 3 rows, 8 columns, comma-separated.")
    shows(page, "Preview: the first 3 rows, 0 with problems")
    idle(page)
    page.get_by_role("button", name="Import 3 rows").click()
    shows(page, "imported 3 of 3 rows: 3 new leads, 0 updated, 0 rejected.")
    idle(page)


def text_the_tenant(api: str, *, from_number: str, to_number: str) -> None:
    """The lead's text as Twilio delivers it: a form POST signed with the account's token over the public URL."""
    path = "/webhooks/twilio/sms"
    url = PRODUCTION_ENV["PUBLIC_BASE_URL"] + path  # what Twilio signs: the public URL
    params = {"MessageSid": SID, "AccountSid": twilio_server.ACCOUNT_SID, "From": from_number, "To": to_number}
    params |= {"Body": TEXT, "NumMedia": "0"}
    signature = RequestValidator(twilio_server.AUTH_TOKEN).compute_signature(url, params)
    request = urllib.request.Request(  # noqa: S310 - our own api
        api + path,
        data=urllib.parse.urlencode(params).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own api
        assert int(response.status) == 200


def next_local_noon(zone: str, after: datetime) -> datetime:
    """Noon in `zone` on the day after `after`: inside any send window, outside any quiet hours."""
    local = after.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    return datetime.combine(local, time(12), ZoneInfo(zone)).astimezone(UTC)


def test_a_csv_import_then_a_texted_reply_answered_from_the_inbox(
    page: Page, console: Console, api: str, engine: Engine, tmp_path: Path
) -> None:
    tenant = console.tenants[0]
    phones = [phone for _, phone in IMPORTED.values()]
    assert rows(engine, "SELECT id FROM leads WHERE phone = ANY(:p) OR company = :c", p=phones, c=COMPANY) == []
    path = tmp_path / "journey-leads.csv"
    path.write_text(CSV, encoding="utf-8")

    import_csv(page, path)
    imported = rows(
        engine,
        """SELECT external_id, first_name || ' ' || last_name AS name, phone, consent_sms, timezone, id FROM leads
           WHERE tenant_id = :t AND company = :c ORDER BY external_id""",
        t=tenant.id,
        c=COMPANY,
    )
    assert {r.external_id: (r.name, r.phone) for r in imported} == IMPORTED
    assert {(r.consent_sms, r.timezone) for r in imported} == {(True, ZONE)}
    search = page.get_by_role("textbox", name="Search")
    search.fill(COMPANY)
    search.press("Enter")
    shows(page, "Showing 1–3 of 3 leads")
    idle(page)
    # The table is drawn on a canvas; the score breakdown beside it offers exactly the table's rows.
    assert sorted(offered(page, "Why this score?")) == sorted(name for name, _ in IMPORTED.values())
    page.screenshot(path=str(ARTIFACTS / "intake-imported.png"), full_page=True)

    # The rep waits on the inbox; the lead texts the tenant's number meanwhile.
    open_page(page, "Replies")
    idle(page)  # the inbox was read: what comes in now is new to it
    expect(page.get_by_text("The intents triage stores")).to_have_count(0)  # no source text drawn by magic
    lead = next(r for r in imported if r.external_id == REPLIER)
    expect(page.get_by_text(f"{lead.name} · sms")).to_have_count(0)
    sender_phone = rows(engine, "SELECT sender_phone FROM tenants WHERE id = :t", t=tenant.id)[0].sender_phone
    text_the_tenant(api, from_number=lead.phone, to_number=sender_phone)
    reply = rows(
        engine,
        "SELECT id, body, intent, suggested_reply FROM inbound_messages WHERE tenant_id = :t AND lead_id = :l",
        t=tenant.id,
        l=lead.id,
    )
    assert [(r.body, r.intent) for r in reply] == [(TEXT, "interested")]
    reply_id = reply[0].id

    # The notice polls every 5 s (its read is cached 4 s): no reload, no click.
    shows(page, "1 new reply since the inbox was drawn.")
    page.get_by_role("button", name="Show them").click()
    shows(page, f"{lead.name} · sms")
    idle(page)
    answer_box = page.locator(f".st-key-replies-{reply_id}-answer")
    card = page.get_by_test_id("stExpander").filter(has=answer_box)
    card.get_by_text("Thread, intent and answer").click()
    box = answer_box.get_by_role("textbox", name="Answer")
    expect(box).to_have_value(reply[0].suggested_reply, timeout=UI_TIMEOUT_MS)
    box.fill(ANSWER)
    idle(page)
    page.get_by_role("button", name="Send answer").filter(visible=True).click()
    shows(page, "Answer queued: the sender sends it within its rules.")
    idle(page)
    page.screenshot(path=str(ARTIFACTS / "intake-answered.png"), full_page=True)

    outbox = rows(
        engine,
        """SELECT id, channel, to_address, body, source, status, scheduled_for FROM outbound_messages
           WHERE tenant_id = :t AND lead_id = :l""",
        t=tenant.id,
        l=lead.id,
    )
    assert [(r.channel, r.to_address, r.body, r.source, r.status) for r in outbox] == [
        ("sms", lead.phone, ANSWER, "manual", "pending")
    ]
    handled = rows(engine, "SELECT handled_at FROM inbound_messages WHERE id = :i", i=reply_id)
    assert handled[0].handled_at is not None

    with FakeTwilio() as twilio:
        send.send_due(
            tenant_id=tenant.id,
            settings=twilio_settings(twilio, from_number=sender_phone),
            now=next_local_noon(ZONE, outbox[0].scheduled_for),
        )
        sent = [form for form in twilio.forms() if form["To"] == lead.phone]
    assert len(sent) == 1
    assert sent[0]["Body"].startswith(ANSWER)
    assert sent[0]["From"] == sender_phone
    status = rows(engine, "SELECT status, provider FROM outbound_messages WHERE id = :m", m=outbox[0].id)
    assert [tuple(r) for r in status] == [("sent", "twilio")]
