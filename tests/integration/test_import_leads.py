"""`python -m app import-leads FILE --tenant SLUG [--dry-run]` on real PostgreSQL: what it prints, the
rejected rows it writes beside the file, and the leads the database holds afterwards, read in SQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from app import cli
from app.services import intake_files
from tests.integration.intake_world import World, build, count, sql

# A semicolon file as Excel writes it in Europe, with a byte-order mark, its own headers, quoting,
# day-first dates (row 2 shows it: 13/11), a consent column and a lead listed twice.
EUROPE = (
    "\ufeffName;E-mail;Mobile;Amount;Last activity;SMS opt-in;Tags;Colour\r\n"
    '"Lovelace, Ada";ada@example.com;+44 7400 123456;"1.250,50";13/11/2026 14:05;oui;vip;blue\r\n'
    "Bob Smith;bob@example;;12;01/12/2026;no;;\r\n"
    "Cat Jones;cat@example.com;+44 20 7946 0958;-5;2/11/2026;yes;;\r\n"
    '"Lovelace, Ada";ADA@example.com;;"2.000,00";;;"vip;board";\r\n'
    '=HYPERLINK("http://evil.example");eve@example.com;;;;;;\r\n'
    "Dan;dan@example.com;;;31/12/2099;;;\r\n"
)


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


@pytest.fixture
def world(db: Engine) -> World:
    built = build(db)
    sql(db, "UPDATE tenants SET country = 'FR', timezone = 'Europe/Paris' WHERE id = :t", t=built.acme)
    return built


def write(tmp_path: Path, content: bytes | str, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_a_european_excel_file_imports_its_good_rows_and_lists_the_rest(
    db: Engine, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, EUROPE)
    # "oui" is not a word we read: row 2 is rejected for it too.
    assert cli.main(["import-leads", str(path), "--tenant", "acme"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "row 2: consent_sms: must be yes or no, got 'oui'",
        "row 3: email: The part after the @-sign is not valid. It should have a period.",
        "row 4: deal_value: cannot be negative",
        "row 6: full_name: looks like a spreadsheet formula ('=HYPERLINK(\"http://evil.example\")'); remove the "
        "leading '='",
        "row 7: last_activity_at: '31/12/2099' is in the future",
        f"5 rejected rows written to {tmp_path / 'leads.rejected.csv'} (fix them there and import that file)",
        "imported 1 of 6 rows: 1 new leads, 0 updated, 5 rejected",
    ]
    stored = sql(
        db,
        "SELECT first_name, last_name, email, deal_value, tags, source FROM leads WHERE tenant_id = :t",
        t=world.acme,
    )
    assert [tuple(r) for r in stored] == [
        ("Ada", "Lovelace", "ada@example.com", Decimal("2000.00"), ["vip", "board"], "csv")
    ]
    rejected = (tmp_path / "leads.rejected.csv").read_bytes()
    assert rejected.startswith(b"\xef\xbb\xbf"), "a byte-order mark, so Excel reads UTF-8"
    assert rejected.decode("utf-8-sig").split("\r\n") == [
        "rejected_row,problems,Name,E-mail,Mobile,Amount,Last activity,SMS opt-in,Tags,Colour",
        '2,"consent_sms: must be yes or no, got \'oui\'","Lovelace, Ada",ada@example.com,\'+44 7400 123456,'
        '"1.250,50",13/11/2026 14:05,oui,vip,blue',
        "3,email: The part after the @-sign is not valid. It should have a period.,Bob Smith,bob@example,,12,"
        "01/12/2026,no,,",
        "4,deal_value: cannot be negative,Cat Jones,cat@example.com,'+44 20 7946 0958,'-5,2/11/2026,yes,,",
        '6,"full_name: looks like a spreadsheet formula (\'=HYPERLINK(""http://evil.example"")\'); remove the '
        'leading \'=\'","\'=HYPERLINK(""http://evil.example"")",eve@example.com,,,,,,',
        "7,last_activity_at: '31/12/2099' is in the future,Dan,dan@example.com,,,31/12/2099,,,",
        "",
    ]


def test_the_corrected_rejected_file_imports_and_the_file_dedupes_against_the_tenant(
    db: Engine, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.main(["import-leads", str(write(tmp_path, EUROPE)), "--tenant", "acme"])
    first_seen = sql(db, "SELECT last_activity_at FROM leads WHERE email = 'ada@example.com'")[0][0]
    fixed = (
        (tmp_path / "leads.rejected.csv")
        .read_text(encoding="utf-8-sig")
        .replace(";oui;", ";yes;")
        .replace(",oui,", ",yes,")
        .replace("bob@example,", "bob@example.com,")
        .replace("'-5", "5")
        .replace('\'=HYPERLINK(""http://evil.example"")', "Eve")
        .replace("31/12/2099", "30/11/2026")
    )
    corrected = write(tmp_path, fixed, "leads.rejected.csv")
    capsys.readouterr()
    assert cli.main(["import-leads", str(corrected), "--tenant", "acme"]) == 0
    assert capsys.readouterr().out.splitlines() == ["imported 5 of 5 rows: 4 new leads, 1 updated, 0 rejected"]
    stored = {
        r.email: r
        for r in sql(
            db,
            "SELECT email, phone, phone_unreachable, deal_value, consent_sms, last_activity_at, attributes FROM leads "
            "WHERE tenant_id = :t",
            t=world.acme,
        )
    }
    assert sorted(stored) == [
        "ada@example.com",
        "bob@example.com",
        "cat@example.com",
        "dan@example.com",
        "eve@example.com",
    ]
    ada, cat, bob, dan = (
        stored["ada@example.com"],
        stored["cat@example.com"],
        stored["bob@example.com"],
        stored["dan@example.com"],
    )
    # Ada came back from the rejected file: the same lead, now with her phone and SMS consent (the
    # leading apostrophe of "'+44 ..." is taken off again); her row's 13/11 is older than the activity
    # the first import gave her (its time), so it moves nothing.
    assert (ada.phone, ada.phone_unreachable, ada.consent_sms) == ("+447400123456", None, True)
    assert ada.last_activity_at == first_seen
    assert ada.deal_value == Decimal("1250.50"), "the corrected row updates her"
    assert ada.attributes == {"Colour": "blue"}
    assert (cat.phone, cat.phone_unreachable) == (
        "+442079460958",
        "landline: cannot take texts (libphonenumber: fixed line)",
    )
    assert cat.last_activity_at == dt.datetime(2026, 11, 2, 0, 0, tzinfo=dt.UTC) - dt.timedelta(hours=1)
    assert (bob.deal_value, bob.consent_sms) == (Decimal("12.00"), False)
    assert dan.last_activity_at == dt.datetime(2026, 11, 29, 23, 0, tzinfo=dt.UTC)


def test_a_dry_run_reports_the_import_and_writes_nothing(
    db: Engine, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "email,first name\nada@example.com,Ada\nbob@example.com,Bob\nbad,Eve\n")
    assert cli.main(["import-leads", str(path), "--tenant", "acme", "--dry-run"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "would import 2 of 3 rows: 2 new leads, 0 updated, 1 rejected"
    assert count(db, "leads") == 0
    assert cli.main(["import-leads", str(path), "--tenant", "acme"]) == 1
    assert count(db, "leads") == 2
    capsys.readouterr()
    cli.main(["import-leads", str(path), "--tenant", "acme", "--dry-run"])
    assert capsys.readouterr().out.splitlines()[-1] == "would import 2 of 3 rows: 0 new leads, 2 updated, 1 rejected"


def test_an_unknown_tenant_is_an_error(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["import-leads", str(write(tmp_path, "email\na@x.com\n")), "--tenant", "nope"]) == 2
    assert capsys.readouterr().err == "error: no tenant with slug 'nope'\n"


def test_a_file_that_fails_half_way_leaves_nothing_behind(
    db: Engine, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The database refuses the 3rd row's insert (a trigger stands in for any failure at write time):
    the rows before it, already sent to the database in the same transaction, are gone too."""
    with db.begin() as conn:
        conn.execute(
            sa.text(
                """CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN IF NEW.first_name = 'Boom' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$;
                   CREATE TRIGGER refuse_boom BEFORE INSERT ON leads FOR EACH ROW EXECUTE FUNCTION refuse_boom();"""
            )
        )
    try:
        path = write(tmp_path, "email,first name\na@example.com,Ada\nb@example.com,Bob\nc@example.com,Boom\n")
        with pytest.raises(psycopg.Error, match="disk full"):
            intake_files.import_path(path, tenant_id=world.acme)
        assert count(db, "leads") == 0
    finally:
        with db.begin() as conn:
            conn.execute(sa.text("DROP TRIGGER refuse_boom ON leads; DROP FUNCTION refuse_boom()"))


def test_a_file_imported_twice_rewrites_nothing(
    db: Engine, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "email,first name,deal value\nada@example.com,Ada,10\nbob@example.com,Bob,20\n")
    assert cli.main(["import-leads", str(path), "--tenant", "acme"]) == 0
    versions = sql(db, "SELECT id, xmin::text AS version, updated_at FROM leads ORDER BY id")
    assert cli.main(["import-leads", str(path), "--tenant", "acme"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "imported 2 of 2 rows: 0 new leads, 2 updated, 0 rejected"
    assert sql(db, "SELECT id, xmin::text AS version, updated_at FROM leads ORDER BY id") == versions
    path.write_text("email,first name,deal value\nada@example.com,Ada,10\nbob@example.com,Bob,25\n")
    assert cli.main(["import-leads", str(path), "--tenant", "acme"]) == 0
    after = sql(db, "SELECT id, xmin::text AS version, deal_value FROM leads ORDER BY id")
    assert [(r.version == v.version, r.deal_value) for r, v in zip(after, versions, strict=True)] == [
        (True, Decimal("10.00")),
        (False, Decimal("25.00")),
    ]


def test_from_the_console_a_viewer_or_another_tenants_rep_may_not_import(
    db: Engine, world: World, tmp_path: Path
) -> None:
    people = {
        role_and_tenant: sql(
            db,
            "INSERT INTO operators (tenant_id, email, name, role) VALUES (:t, :e, 'X', :r) RETURNING id",
            t=tenant,
            e=f"{role_and_tenant}@example.com",
            r=role_and_tenant.split("-")[0],
        )[0][0]
        for role_and_tenant, tenant in (
            ("viewer-acme", world.acme),
            ("rep-birch", world.birch),
            ("admin-birch", world.birch),
            ("superuser-birch", world.birch),
            ("rep-acme", world.acme),
        )
    }
    data = b"email\nada@example.com\n"
    for refused in ("viewer-acme", "rep-birch", "admin-birch"):  # a tenant admin sees only their own tenant
        with pytest.raises(
            PermissionError, match=r"^Only an owner, admin, manager or rep of this tenant may import leads \(you are: "
        ):
            intake_files.import_file(tenant_id=world.acme, data=data, operator_id=people[refused])
    assert count(db, "leads") == 0
    for allowed in ("superuser-birch", "rep-acme"):
        intake_files.import_file(tenant_id=world.acme, data=data, operator_id=people[allowed])
    assert count(db, "leads") == 1
