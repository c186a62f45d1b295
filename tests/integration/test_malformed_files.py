"""Malformed lead files through `python -m app import-leads`: each kind is refused with a message that
says what is wrong (and where), and the database holds nothing half-written, counted in SQL. Files with
bad rows import exactly their good rows and report the others."""

from __future__ import annotations

import base64
import random
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from app import cli
from app.domain.intake.csv_file import MAX_FILE_BYTES, MAX_ROWS
from tests.integration.intake_world import World, build, count, sql

GOOD = "email,first name\nada@example.com,Ada\n"


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


@pytest.fixture
def world(db: Engine) -> World:
    return build(db)


def rows_of_everything(db: Engine) -> tuple[int, int, int]:
    return (count(db, "leads"), count(db, "activities"), count(db, "intake_requests"))


def junk(size: int) -> bytes:
    return random.Random(11).randbytes(size)


def printable_junk(size: int) -> bytes:
    return base64.b64encode(random.Random(12).randbytes(size * 3 // 4))


FILES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "the file is empty"),
    ("blank lines only", b"\r\n \r\n\t\n", "the file is empty"),
    ("a header only", b"email,first name,phone\r\n", "the file has a header but no rows"),
    ("a header and empty rows", b"email,first name\n,\n,\n", "the file has a header but no rows"),
    (
        "UTF-16 with a BOM (Excel's Unicode Text)",
        "email\tfirst name\nada@example.com\tAda\n".encode("utf-16"),
        "the file is UTF-16 text (Excel's 'Unicode Text'), not UTF-8. In Excel use File › Save As › "
        "'CSV UTF-8 (Comma delimited)'; elsewhere export as UTF-8 CSV",
    ),
    ("UTF-16 without a BOM", GOOD.encode("utf-16-le"), "the file is UTF-16 text (Excel's 'Unicode Text'), not UTF-8."),
    ("UTF-32", GOOD.encode("utf-32"), "the file is UTF-32 text, not UTF-8."),
    (
        "Latin-1",
        "email,first name\nada@example.com,Ada\nrenee@example.com,Renée\n".encode("latin-1"),
        "the file is not UTF-8: line 3 has the byte 0xE9, which Latin-1 and Windows-1252 write for 'é'.",
    ),
    (
        "Windows-1252 smart quotes",
        "email,first name\nada@example.com,“Ada”\n".encode("cp1252"),
        "the file is not UTF-8: line 2 has the byte 0x93, which Latin-1 and Windows-1252 write for '“'.",
    ),
    ("an Excel workbook", b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + junk(2000), "the file is an Excel workbook (.xlsx)"),
    (
        "an old Excel workbook",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + junk(2000),
        "the file is an old Excel workbook (.xls)",
    ),
    ("a PDF", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "the file is a PDF, not a CSV"),
    ("a gzip archive", b"\x1f\x8b\x08\x00" + junk(100), "the file is a gzip archive, not a CSV: unpack it first"),
    ("10 MB of binary junk", junk(10 * 1024 * 1024), "the file holds binary data, not text: is it really a CSV?"),
    (
        "10 MB of printable junk",
        printable_junk(10 * 1024 * 1024),
        "row 1 has a cell over 128 KB: this is not a lead file",
    ),
    ("a NUL in a cell", b"email,first name\nada@example.com,A\x00da\n", "the file holds binary data, not text"),
    (
        "a ragged row (too many cells)",
        b"email,first name\nada@example.com,Ada\nbob@example.com,Bob,Smith\n",
        "row 3 has 3 cells but the header has 2: check the quoting and the separator (this file is read as "
        "comma-separated)",
    ),
    (
        "a ragged row (too few cells)",
        b"email;first name;phone\nada@example.com;Ada;+14155552671\nbob@example.com;Bob\n",
        "row 3 has 2 cells but the header has 3: check the quoting and the separator (this file is read as "
        "semicolon-separated)",
    ),
    (
        "a quote that never closes",
        b'email,first name\nada@example.com,"Ada\nbob@example.com,Bob\n',
        'a quoted cell that starts in row 2 never closes: a quote (") is missing',
    ),
    (
        "a stray quote inside a quoted cell",
        b'email,first name\nada@example.com,"Ada "the" Countess"\n',
        'row 2: a quote inside a quoted cell must be doubled ("")',
    ),
    (
        "a duplicate header",
        b"email,first name,Email\nada@example.com,Ada,ada@example.com\n",
        "the header names 'Email' twice (columns A and C): give each column its own name",
    ),
    (
        "a value under a column with no header",
        b"email,,first name\nada@example.com,x,Ada\n",
        "column B has no header but row 2 has a value in it: name it",
    ),
    (
        "unknown columns only",
        b"Colour,Shoe size\nblue,42\n",
        "no column holds an email, a phone or an external id, so no lead can be told apart (the columns are "
        "'Colour', 'Shoe size'); name one of them e.g. 'Email' or 'Phone'",
    ),
    (
        "too many rows",
        b"email\n" + b"".join(b"l%d@example.com\n" % n for n in range(MAX_ROWS + 1)),
        "the file has more than 100,000 rows: split it into files of 100,000 or fewer",
    ),
]


@pytest.mark.parametrize(("content", "message"), [(c, m) for _, c, m in FILES], ids=[name for name, _, _ in FILES])
def test_a_malformed_file_is_refused_with_its_reason_and_nothing_is_written(
    db: Engine, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(content)
    before = rows_of_everything(db)
    assert cli.main(["import-leads", str(path), "--tenant", "acme"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: {path}: {message}")
    assert captured.out == ""
    assert rows_of_everything(db) == before == (0, 0, 0)
    assert not (tmp_path / "leads.rejected.csv").exists()


def test_there_are_twenty_kinds_and_more() -> None:
    assert len(FILES) >= 20


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    db: Engine, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as sparse:
        sparse.truncate(MAX_FILE_BYTES + 1)  # a sparse file: the size is real, no disk is used
    assert cli.main(["import-leads", str(path), "--tenant", "acme"]) == 2
    limit = MAX_FILE_BYTES // 1024 // 1024
    assert capsys.readouterr().err == (
        f"error: {path}: the file is {(MAX_FILE_BYTES + 1) / 1024 / 1024:.1f} MB; the limit is {limit} MB "
        "(about 100,000 rows): split it into smaller files\n"
    )
    assert rows_of_everything(db) == (0, 0, 0)


@pytest.mark.parametrize(("name", "reason"), [("missing.csv", "No such file or directory"), ("", "Is a directory")])
def test_a_path_that_is_no_file_says_so(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, reason: str
) -> None:
    path = tmp_path / name
    assert cli.main(["import-leads", str(path), "--tenant", "acme"]) == 2
    assert capsys.readouterr().err == f"error: {path}: {reason}\n"


BAD_ROWS = (
    "email,phone,first name,deal value,last activity,sms consent,company\n"
    "ada@example.com,+1 415 555 2671,Ada,100,11/30/2026,yes,AE\n"  # row 2: good
    "bob@example,,Bob,,,,\n"  # row 3: a bad email
    "cat@example.com,555-12,Cat,,,,\n"  # row 4: a bad phone
    "dan@example.com,,Dan,-250,,,\n"  # row 5: a negative deal value
    "eve@example.com,,Eve,,31/31/2026,,\n"  # row 6: a bad date
    "fay@example.com,,Fay,,,,=1+1\n"  # row 7: a formula
    "gus@example.com,,Gus,,,maybe,\n"  # row 8: a consent that is neither
    ",,Hal,,,,\n"  # row 9: nothing names the lead
    "ivy@example.com,,Ivy,1.234,,,\n"  # row 10: an ambiguous amount
    'jo@example.com,+1 212 555 2368,Jo,"$2,500.00",2026-11-02,no,JJ\n'  # row 11: good
)


def test_bad_rows_are_reported_one_by_one_and_only_the_good_rows_land(
    db: Engine, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(BAD_ROWS)
    assert cli.main(["import-leads", str(path), "--tenant", "acme"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "row 3: email: The part after the @-sign is not valid. It should have a period.",
        "row 4: phone: '555-12' is too short for a number in US (no country code given)",
        "row 5: deal_value: cannot be negative",
        "row 6: last_activity_at: '31/31/2026' is not a date (read as month/day/year)",
        "row 7: company: looks like a spreadsheet formula ('=1+1'); remove the leading '='",
        "row 8: consent_sms: must be yes or no, got 'maybe'",
        "row 9: row: give an external_id, an email or a phone: nothing else tells leads apart",
        "row 10: deal_value: '1.234' is ambiguous: write 1234 or 1.23",
        f"8 rejected rows written to {tmp_path / 'leads.rejected.csv'} (fix them there and import that file)",
        "imported 2 of 10 rows: 2 new leads, 0 updated, 8 rejected",
    ]
    stored = sql(db, "SELECT email, phone, deal_value, consent_sms, company FROM leads ORDER BY email")
    assert [tuple(r) for r in stored] == [
        ("ada@example.com", "+14155552671", 100, True, "AE"),
        ("jo@example.com", "+12125552368", 2500, False, "JJ"),
    ]
    rejected_numbers = [
        line.split(",")[0] for line in (tmp_path / "leads.rejected.csv").read_text("utf-8-sig").splitlines()[1:]
    ]
    assert rejected_numbers == ["3", "4", "5", "6", "7", "8", "9", "10"]
