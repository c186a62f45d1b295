"""The Leads page's CSV import through AppTest on real PostgreSQL: upload a file, see its columns mapped
and its first rows previewed with their problems, change a column's field, dry-run, import, download
the rejected rows; a file that cannot be read says why; a viewer cannot import. Every outcome is
checked in the database with SQL of the test's own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services.operators import hash_password
from db.models import Operator
from pages import session
from pages.leads import csv_import
from tests.app import factories
from tests.app.driver import open_page, rows, signed_in, truncate, value

FILE = (
    "\ufeffFull Name;E-mail;Mobile;Deal value;Last activity;SMS opt-in;Colour\r\n"
    '"Lovelace, Ada";ada@import.example;+1 415 555 2671;"1.250,50";13/11/2026;yes;blue\r\n'
    "Bob Stone;bob@import;;12;01/11/2026;no;green\r\n"
    "Cat Jones;cat@import.example;;=1+1;;;red\r\n"
    "Dan Brown;dan@import.example;(212) 555-2368;99;02/11/2026;;=cmd|' /C calc'!A0\r\n"
).encode()


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    yield factories.build(engine, now=dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC))
    truncate(engine)


def leads_page(email: str, now: dt.datetime) -> AppTest:
    at = open_page(signed_in(email, factories.DEMO_PASSWORD), "pages/lead_scores.py")
    at.session_state[session.CLOCK] = now
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key=csv_import.UPLOAD).set_value((name, content, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def imported(engine: Engine, tenant: int) -> list[tuple[object, ...]]:
    found = rows(
        engine,
        "SELECT first_name, last_name, email, phone, deal_value, consent_sms, last_activity_at, attributes, source "
        "FROM leads WHERE tenant_id = :t AND email LIKE '%import.example' ORDER BY email",
        t=tenant,
    )
    return [tuple(r) for r in found]


def test_a_rep_previews_maps_dry_runs_and_imports_a_file(
    world: factories.World, engine: Engine, downloads: dict[str, bytes]
) -> None:
    acme = world.tenants["acme"]
    leads_before = value(engine, "SELECT count(*) FROM leads")
    at = upload(leads_page("demo@acme.example", world.now), "crm export.csv", FILE)

    assert "crm export.csv: 4 rows, 7 columns, semicolon-separated, with a byte-order mark." in [
        c.value for c in at.caption
    ]
    mapped = [at.selectbox(key=csv_import.map_key(i)).value for i in range(7)]
    assert mapped == ["full_name", "email", "phone", "deal_value", "last_activity_at", "consent_sms", "attribute"]
    preview = next(d.value for d in at.dataframe if "problems" in d.value.columns)
    assert list(preview["row"]) == [2, 3, 4, 5]
    assert list(preview["status"]) == ["ok", "rejected", "rejected", "rejected"]
    assert list(preview["problems"]) == [
        "",
        "email: The part after the @-sign is not valid. It should have a period.",
        "deal_value: must be an amount, e.g. 1250.50 (got '=1+1')",
        "attributes: Colour: looks like a spreadsheet formula (\"=cmd|' /C calc'!A0\")",
    ]

    # The colour column is not wanted: ignored, Dan's formula no longer matters.
    at.selectbox(key=csv_import.map_key(6)).select("ignore").run()
    preview = next(d.value for d in at.dataframe if "problems" in d.value.columns)
    assert list(preview["status"]) == ["ok", "rejected", "rejected", "ok"]

    at.button(key=csv_import.DRY_RUN).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == ["would import 2 of 4 rows: 2 new leads, 0 updated, 2 rejected."]
    assert value(engine, "SELECT count(*) FROM leads") == leads_before, "a dry run writes nothing"

    at.button(key=csv_import.IMPORT).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == ["imported 2 of 4 rows: 2 new leads, 0 updated, 2 rejected."]
    assert value(engine, "SELECT count(*) FROM leads") == leads_before + 2
    assert imported(engine, acme) == [
        # 13/11 shows the file writes days first; midnight in New York is 05:00 UTC.
        (
            "Ada",
            "Lovelace",
            "ada@import.example",
            "+14155552671",
            Decimal("1250.50"),
            True,
            dt.datetime(2026, 11, 13, 5, 0, tzinfo=dt.UTC),
            {},
            "csv",
        ),
        (
            "Dan",
            "Brown",
            "dan@import.example",
            "+12125552368",
            Decimal("99.00"),
            False,
            dt.datetime(2026, 11, 2, 5, 0, tzinfo=dt.UTC),
            {},
            "csv",
        ),
    ]
    at.text_input(key="leads.search").input("import.example").run()
    listed = next(d.value for d in at.dataframe if "days_silent" in d.value.columns)
    assert sorted(listed["name"]) == ["Ada Lovelace", "Dan Brown"], "the page's leads table shows them at once"
    rejected = next(d.value for d in at.dataframe if "field" in d.value.columns)
    assert [tuple(r) for r in rejected.itertuples(index=False)] == [
        (3, "email", "The part after the @-sign is not valid. It should have a period."),
        (4, "deal_value", "must be an amount, e.g. 1250.50 (got '=1+1')"),
    ]
    button = at.get("download_button")[0]
    assert button.proto.label == "Download the 2 rejected rows (CSV)"
    (content,) = [v for v in downloads.values() if v.startswith(b"\xef\xbb\xbfrejected_row")]
    assert content.decode("utf-8-sig").split("\r\n") == [
        "rejected_row,problems,Full Name,E-mail,Mobile,Deal value,Last activity,SMS opt-in,Colour",
        "3,email: The part after the @-sign is not valid. It should have a period.,Bob Stone,bob@import,,12,"
        "01/11/2026,no,green",
        "4,\"deal_value: must be an amount, e.g. 1250.50 (got '=1+1')\",Cat Jones,cat@import.example,,'=1+1,,,red",
        "",
    ]


def test_a_file_that_cannot_be_read_says_why_and_writes_nothing(world: factories.World, engine: Engine) -> None:
    before = value(engine, "SELECT count(*) FROM leads")
    at = upload(leads_page("demo@acme.example", world.now), "export.csv", "email\nada@x.com\n".encode("utf-16"))
    assert [e.value for e in at.error] == [
        "export.csv: the file is UTF-16 text (Excel's 'Unicode Text'), not UTF-8. In Excel use File › Save As › "
        "'CSV UTF-8 (Comma delimited)'; elsewhere export as UTF-8 CSV"
    ]
    assert not [b for b in at.button if b.key == csv_import.IMPORT]
    assert value(engine, "SELECT count(*) FROM leads") == before


def test_a_mapping_that_names_no_lead_offers_no_import(world: factories.World, engine: Engine) -> None:
    at = upload(leads_page("demo@acme.example", world.now), "x.csv", b"Name,Email\nAda,ada@import.example\n")
    at.selectbox(key=csv_import.map_key(1)).select("ignore").run()
    assert [e.value for e in at.error] == [
        "no column holds an email, a phone or an external id, so no lead can be told apart (the columns are "
        "'Name', 'Email'); name one of them e.g. 'Email' or 'Phone'"
    ]
    assert not [b for b in at.button if b.key == csv_import.IMPORT]


def test_a_viewer_cannot_import(world: factories.World, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Operator).values(
                tenant_id=world.tenants["acme"],
                email="look@acme.example",
                name="Look",
                role="viewer",
                password_hash=hash_password(factories.DEMO_PASSWORD),
            )
        )
    at = leads_page("look@acme.example", world.now)
    assert "Viewers can see leads but not import them." in [c.value for c in at.caption]
    assert not [u for u in at.file_uploader if u.key == csv_import.UPLOAD]
