"""The CSV importer fuzzed with hypothesis on real PostgreSQL: files made of lead columns and
plausible, odd and hostile cells, and plain junk bytes. Whatever comes in: no exception but the
importer's own refusal (`FileProblem`, with a reason), every rejected row names its fields, and
nothing is half-written: the leads that landed, counted in SQL, are exactly the ones reported."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from app.domain.intake.csv_file import FileProblem
from app.services import intake_files
from tests.fuzz_tally import examples, tried
from tests.integration.intake_world import World, build, sql
from tests.support import truncate_all

NOW = dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC)
FIELDS = {
    "external_id", "first_name", "last_name", "company", "title", "email", "phone", "timezone", "source",
    "stage", "deal_value", "tags", "attributes", "consent_email", "consent_sms", "last_activity_at",
    "full_name", "row",
}  # fmt: skip
"""What a rejection may name: the lead fields (app/domain/intake/fields.py, written out here) and `row`."""

HEADERS = st.sampled_from(
    [
        "email", "Email Address", "first name", "Last Name", "Name", "phone", "Mobile", "company", "title",
        "timezone", "source", "stage", "deal value", "Amount", "tags", "consent email", "SMS consent",
        "last activity", "Last Contacted", "id", "external id", "notes", "",
    ]
) | st.text(max_size=12)  # fmt: skip
ODD = st.sampled_from(
    [
        "", " ", "ada@example.com", "ADA@Example.COM", "not-an-email", "a@b", "+14155552671", "(415) 555-2671",
        "12", "+999999999999999999", "1,250.50", "$3", "-3", "9e15", "NaN", "inf", "1e400", "0.001",
        "yes", "no", "maybe", "2026-12-01", "01/02/2026", "31/12/2026", "2099-01-01T00:00:00Z", "0000-00-00",
        "America/Chicago", "Mars/Olympus", "vip;west", ";;;", "=HYPERLINK(\"x\")", "\x00", "é", "🙂",
        "a" * 300, "Lovelace, Ada", "null", "None", "\"quoted\"",
    ]
)  # fmt: skip
CELLS = ODD | st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


EMAILS = st.integers(0, 400).map(lambda n: f"lead{n}@example.com")


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """Mostly a file an operator might export (an email column, UTF-8), with odd cells among the good."""
    extra = draw(st.lists(HEADERS, max_size=5, unique_by=str.casefold))
    headers = [draw(st.sampled_from(["email", "Email Address", "E-mail"])), *extra]
    row = st.tuples(EMAILS | CELLS, st.lists(CELLS, min_size=len(extra), max_size=len(extra) + 1))
    rows = draw(st.lists(row, min_size=1, max_size=8))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=draw(st.sampled_from([",", ",", ";", "\t"])))
    writer.writerow(headers)
    writer.writerows([email, *cells] for email, cells in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return out.getvalue().encode(encoding, errors="replace")


FILES = st.one_of(csv_files(), csv_files(), csv_files(), st.binary(max_size=300))


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[World]:
    truncate_all(engine)
    yield build(engine)
    truncate_all(engine)


def leads_of(engine: Engine, tenant_id: int) -> int:
    return int(sql(engine, "SELECT count(*) FROM leads WHERE tenant_id = :t", t=tenant_id)[0][0])


def test_any_file_is_imported_whole_or_refused_with_its_reasons(engine: Engine, world: World) -> None:
    seen: Counter[str] = Counter()

    @given(data=FILES, dry_run=st.booleans())
    @settings(max_examples=examples(300), derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(data: bytes, dry_run: bool) -> None:
        tried("csv_importer")
        before = leads_of(engine, world.acme)
        try:
            report = intake_files.import_file(tenant_id=world.acme, data=data, dry_run=dry_run, now=NOW)
        except FileProblem as problem:
            report, reason = None, str(problem)
        if report is None:
            assert reason.strip()
            assert leads_of(engine, world.acme) == before
            seen["file refused"] += 1
            return
        for rejected in report.rejected:
            assert rejected.errors, rejected
            assert all(e.field in FIELDS and e.message.strip() for e in rejected.errors), rejected
        assert report.created + report.updated + len(report.rejected) == report.rows
        landed = leads_of(engine, world.acme) - before
        assert landed == (0 if dry_run else report.created), (landed, report.summary())
        written = {r.id for r in report.results if r.status != "rejected"}
        if not dry_run and written:
            found = sql(
                engine,
                "SELECT count(*) FROM leads WHERE tenant_id = :t AND id = ANY(:ids)",
                t=world.acme,
                ids=list(written),
            )
            assert found[0][0] == len(written)
        assert leads_of(engine, world.birch) == 0  # nothing of it in another tenant
        seen["rows rejected"] += len(report.rejected)
        seen["leads written"] += report.created + report.updated

    fuzz()
    assert min(seen["file refused"], seen["rows rejected"], seen["leads written"]) > 0, seen  # each path was taken
