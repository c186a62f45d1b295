"""`GET` and `POST /unsubscribe/{token}` through the api (FastAPI's TestClient) on real PostgreSQL.

Each test states the database it expects in SQL of its own: what a GET leaves (everything as
it was: link scanners fetch every URL), what a POST writes (one suppression of that tenant's
address, the lead's enrollment stopped with a transition row, its queued work canceled), and
that forged, altered or foreign tokens change nothing and all get the same 404 page.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.domain.unsubscribe import make_token
from app.services import send
from app.settings import load_settings
from tests.fakes import sendgrid_server
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.unsubscribe_world import (  # fixtures (db, client, world) are used by name
    AT,
    FORM,
    PUBLIC,
    SECRET,
    World,
    client,
    db,
    snapshot,
    sql,
    url,
    world,
)

__all__ = ["client", "db", "world"]


# --- GET: a page, and nothing else ------------------------------------------------------------


def test_get_shows_the_business_the_masked_address_and_one_button_and_changes_nothing(
    db: Engine, client: TestClient, world: World
) -> None:
    before = snapshot(db)

    pages = [client.get(url(world.token())) for _ in range(3)]  # a scanner, a preview, the lead

    assert snapshot(db) == before
    assert {p.status_code for p in pages} == {200}
    page = pages[0]
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    text = page.text
    assert "Unsubscribe from Acme?" in text  # the tenant's name, make_tenant("acme") → "Acme"
    assert "l***@example.com" in text
    assert "lead1@example.com" not in text
    assert re.findall(r"<form[^>]*>", text) == ['<form method="post">']  # posts back to this very URL
    assert text.count("<button") == 1
    assert "<script" not in text


def test_the_business_name_is_escaped(db: Engine, client: TestClient, world: World) -> None:
    sql(db, "UPDATE tenants SET name = :n WHERE id = :t", n='<img src=x onerror="alert(1)"> & Sons', t=world.acme)

    text = client.get(url(world.token())).text

    assert "<img" not in text
    assert "Unsubscribe from &lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; Sons?" in text


# --- POST: the button and RFC 8058 one-click ------------------------------------------------


def assert_unsubscribed_once(db: Engine, world: World) -> None:
    """Acme's lead1 address suppressed, its enrollment stopped with one transition; nothing else touched."""
    assert [tuple(r) for r in sql(db, "SELECT tenant_id, channel, address, reason FROM suppressions")] == [
        (world.acme, "email", "lead1@example.com", "unsubscribe")
    ]
    transitions = sql(db, "SELECT enrollment_id, from_node, to_node, event, at FROM campaign_transitions")
    assert [(t.enrollment_id, t.from_node, t.to_node, t.event) for t in transitions] == [
        (world.enrollment, "rung-1", None, "unsubscribed")
    ]
    assert transitions[0].at == AT  # the api's clock
    enrollments = {r.lead_id: r.status for r in sql(db, "SELECT lead_id, status FROM enrollments")}
    assert enrollments == {world.lead: "stopped", world.other: "active", world.bravo_lead: "active"}
    actions = {r.lead_id: r.status for r in sql(db, "SELECT lead_id, status FROM scheduled_actions")}
    assert actions == {world.lead: "canceled", world.other: "pending", world.bravo_lead: "pending"}
    outbox = {(r.tenant_id, r.node, r.status) for r in sql(db, "SELECT tenant_id, node, status FROM outbound_messages")}
    assert outbox == {
        (world.acme, "rung-1", "sent"),  # already gone: history stays
        (world.acme, "manual", "suppressed"),  # pending to the address: never sent now
        (world.bravo, "manual", "pending"),  # Bravo's lead has the same address: Bravo's list is its own
    }
    states = {r.id: r.recovery_state for r in sql(db, "SELECT id, recovery_state FROM leads")}
    assert states[world.lead] == "in_recovery"  # an opt-out leaves the state; the scan skips suppressed
    # One unsubscribe event, on the last email sent to the address, for the feed and the rollups.
    last_sent = sql(
        db,
        "SELECT max(id) AS id FROM outbound_messages WHERE lead_id = :l AND channel = 'email' AND sent_at IS NOT NULL",
        l=world.lead,
    )[0].id
    events = sql(db, "SELECT tenant_id, message_id, lead_id, channel, event_type FROM message_events")
    assert [tuple(e) for e in events] == [(world.acme, last_sent, world.lead, "email", "unsubscribe")]


def test_the_pages_button_unsubscribes_that_tenants_address_and_stops_the_recovery(
    db: Engine, client: TestClient, world: World
) -> None:

    done = client.post(url(world.token()), headers=FORM, content=b"")  # the form has no fields

    assert done.status_code == 200
    assert "You're unsubscribed" in done.text
    assert "Acme will send no more emails to <strong>l***@example.com</strong>." in done.text
    assert "<form" not in done.text
    assert_unsubscribed_once(db, world)


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        (FORM, b"List-Unsubscribe=One-Click"),
        (
            {"Content-Type": "multipart/form-data; boundary=b0undary"},
            b'--b0undary\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
            b"One-Click\r\n--b0undary--\r\n",
        ),
    ],
    ids=["form-urlencoded", "multipart"],
)
def test_rfc8058_one_click_unsubscribes_without_a_page_visit(
    db: Engine, client: TestClient, world: World, headers: dict[str, str], body: bytes
) -> None:

    answer = client.post(url(world.token()), headers=headers, content=body)

    assert answer.status_code == 200
    assert_unsubscribed_once(db, world)


def test_unsubscribing_again_changes_nothing_and_answers_the_same_page(
    db: Engine, client: TestClient, world: World
) -> None:
    first = client.post(url(world.token()), headers=FORM, content=b"List-Unsubscribe=One-Click")
    after_first = snapshot(db)

    again = [client.post(url(world.token()), headers=FORM, content=b"") for _ in range(3)]
    page = client.get(url(world.token()))

    assert snapshot(db) == after_first
    assert {a.status_code for a in again} == {200}
    assert {a.text for a in again} == {first.text}
    assert page.status_code == 200
    assert page.text == first.text  # the link opened later says so, with no button
    assert_unsubscribed_once(db, world)


def test_an_address_suppressed_for_another_reason_keeps_it_and_the_recovery_still_stops(
    db: Engine, client: TestClient, world: World
) -> None:
    sql(
        db,
        "INSERT INTO suppressions (tenant_id, channel, address, reason) "
        "VALUES (:t, 'email', 'lead1@example.com', 'bounce')",
        t=world.acme,
    )

    assert client.post(url(world.token()), headers=FORM, content=b"").status_code == 200

    assert [tuple(r) for r in sql(db, "SELECT channel, address, reason FROM suppressions")] == [
        ("email", "lead1@example.com", "bounce")
    ]
    assert [r.event for r in sql(db, "SELECT event FROM campaign_transitions")] == ["unsubscribed"]


# --- tokens that name nobody ----------------------------------------------------------------


def altered(token: str, part: int, value: str) -> str:
    parts = token.split(".")
    parts[part] = value
    return ".".join(parts)


def test_forged_altered_truncated_and_foreign_key_tokens_get_one_404_page_and_change_nothing(
    db: Engine, client: TestClient, world: World
) -> None:
    genuine = world.token()
    bad = [
        altered(genuine, 0, str(world.bravo)),  # another tenant
        altered(genuine, 2, str(world.other)),  # another lead
        altered(genuine, 1, "sms"),  # another channel
        altered(genuine, 3, str(int(genuine.split(".")[3]) + 400)),  # another day: a longer life
        altered(genuine, 4, world.token(address="lead2@example.com").split(".")[4]),  # another address
        altered(genuine, 5, "A" * 24),  # a made-up signature
        genuine[:-1],  # truncated
        genuine + "x",
        ".".join(genuine.split(".")[:5]),  # no signature at all
        make_token(
            "another-secret-key",
            tenant_id=world.acme,
            channel="email",
            lead_id=world.lead,
            address="lead1@example.com",
            issued=AT.date(),
        ),
        "not-a-token",
    ]
    before = snapshot(db)

    answers = [client.get(url(t)) for t in bad] + [client.post(url(t), headers=FORM, content=b"") for t in bad]

    assert snapshot(db) == before
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1  # one page, whatever was wrong
    page = answers[0].text
    assert "This link is not valid" in page
    for revealing in ("Acme", "example.com", "<form"):
        assert revealing not in page


def test_a_genuine_token_naming_another_tenants_lead_suppresses_nothing_in_either(
    db: Engine, client: TestClient, world: World
) -> None:
    """Signed with the real key, Bravo's id with Acme's lead (and Acme's id with Bravo's lead):
    the lead is looked up inside the token's tenant, so both name nobody."""
    crossed = [
        world.token(tenant_id=world.bravo),
        world.token(lead_id=world.bravo_lead),
    ]
    before = snapshot(db)

    answers = [client.post(url(t), headers=FORM, content=b"") for t in crossed]

    assert [a.status_code for a in answers] == [404, 404]
    assert snapshot(db) == before


def test_a_token_whose_lead_or_tenant_is_gone_gets_the_404_page(db: Engine, client: TestClient, world: World) -> None:
    bravo_token = world.token(tenant_id=world.bravo, lead_id=world.bravo_lead)
    assert client.get(url(bravo_token)).status_code == 200  # genuine while Bravo exists
    sql(db, "DELETE FROM outbound_messages WHERE lead_id = :l", l=world.other)
    sql(db, "DELETE FROM scheduled_actions WHERE lead_id = :l", l=world.other)
    sql(db, "DELETE FROM enrollments WHERE lead_id = :l", l=world.other)
    sql(db, "DELETE FROM leads WHERE id = :l", l=world.other)
    sql(db, "DELETE FROM tenants WHERE id = :t", t=world.bravo)
    before = snapshot(db)

    gone_lead = world.token(lead_id=world.other, address="lead2@example.com")
    answers = [client.get(url(gone_lead)), client.post(url(gone_lead)), client.post(url(bravo_token))]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert snapshot(db) == before


# --- SMS, and an address that changed since the message left --------------------------------


def test_an_sms_token_suppresses_the_number_and_not_the_email(db: Engine, client: TestClient, world: World) -> None:
    number = sql(db, "SELECT phone FROM leads WHERE id = :l", l=world.lead)[0].phone
    token = world.token(channel="sms", address=number)

    page = client.get(url(token))
    done = client.post(url(token), headers=FORM, content=b"")

    assert page.status_code == 200
    assert f"Text messages to <strong>***{number[-4:]}</strong> will stop." in page.text
    assert done.status_code == 200
    assert [tuple(r) for r in sql(db, "SELECT tenant_id, channel, address, reason FROM suppressions")] == [
        (world.acme, "sms", number, "unsubscribe")
    ]
    assert [r.enrollment_id for r in sql(db, "SELECT enrollment_id FROM campaign_transitions")] == [world.enrollment]


def test_a_lead_whose_email_changed_is_unsubscribed_at_the_address_we_wrote_to(
    db: Engine, client: TestClient, world: World
) -> None:
    # We wrote to Lead1@Example.COM (as the CRM spelled it then); the lead's email is another now.
    sql(db, "UPDATE outbound_messages SET to_address = 'Lead1@Example.COM' WHERE id = :m", m=world.sent)
    sql(db, "DELETE FROM outbound_messages WHERE id = :m", m=world.pending)
    sql(db, "UPDATE leads SET email = 'new.address@example.org' WHERE id = :l", l=world.lead)
    token = world.token(address="Lead1@Example.COM")

    page = client.get(url(token))
    done = client.post(url(token), headers=FORM, content=b"")

    assert "l***@example.com" in page.text
    assert done.status_code == 200
    assert [tuple(r) for r in sql(db, "SELECT tenant_id, channel, address FROM suppressions")] == [
        (world.acme, "email", "lead1@example.com")  # stored lower-cased, as the sender compares
    ]
    assert [r.enrollment_id for r in sql(db, "SELECT enrollment_id FROM campaign_transitions")] == [world.enrollment]


def test_a_token_for_an_address_neither_current_nor_written_to_names_nobody(
    db: Engine, client: TestClient, world: World
) -> None:
    before = snapshot(db)

    answer = client.post(url(world.token(address="someone.else@example.com")), headers=FORM, content=b"")

    assert answer.status_code == 404
    assert snapshot(db) == before


# --- the link the sender actually put in the email ------------------------------------------


def test_the_list_unsubscribe_link_of_a_sent_email_unsubscribes_its_recipient(
    db: Engine, client: TestClient, world: World
) -> None:
    with FakeSendGrid() as fake:
        settings = load_settings(
            email_provider="sendgrid",
            sendgrid_api_key=sendgrid_server.API_KEY,
            sendgrid_api_host=fake.url,
            public_base_url=PUBLIC,
            secret_key=SECRET,
        )
        assert send.send_due(settings=settings)["sent"] == 2  # Acme's manual email and Bravo's
        headers = {
            int(p["custom_args"]["message_id"]): p["headers"] for mail in fake.mails() for p in mail["personalizations"]
        }
    link = headers[world.pending]["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"{PUBLIC}/unsubscribe/")
    answer = client.post(link.removeprefix(PUBLIC), headers=FORM, content=b"List-Unsubscribe=One-Click")

    assert answer.status_code == 200
    assert [tuple(r) for r in sql(db, "SELECT tenant_id, channel, address, reason FROM suppressions")] == [
        (world.acme, "email", "lead1@example.com", "unsubscribe")
    ]
    transitions = sql(db, "SELECT enrollment_id, event, at FROM campaign_transitions")
    assert [(t.enrollment_id, t.event) for t in transitions] == [(world.enrollment, "unsubscribed")]
    assert transitions[0].at == AT  # the api's clock


def test_the_openapi_describes_both_routes(client: TestClient) -> None:
    operations = client.get("/openapi.json").json()["paths"]["/unsubscribe/{token}"]
    assert sorted(operations) == ["get", "post"]
    assert "changes nothing" in operations["get"]["description"].lower()
    assert "RFC 8058" in operations["post"]["summary"] + operations["post"]["description"]
    assert "404" in operations["post"]["responses"]
