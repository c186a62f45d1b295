"""Importing a CSV of leads: the use case behind `python -m app import-leads` and the console's upload.

1. The file is read whole (`app.domain.intake.csv_file`): a file that cannot be read is refused
   with one reason (`FileProblem`) and nothing is written.
2. Its columns are mapped to lead fields, automatically from the headers or as the operator
   chose; a mapping that names no lead is refused the same way.
3. Every row is checked (outside any transaction: that is the slow, CPU-bound part). Dates are
   read in the order the file's date column shows (day or month first), else the tenant's
   country's.
4. The valid rows are written by `app.services.intake.upsert` in ONE transaction: the file's
   rows land together or not at all, and the rejected rows are exactly the ones reported. A dry
   run performs the very same writes and rolls them back, so its counts are the import's.
5. After the commit the written leads are rescored.

The report lists every rejected row with its spreadsheet row number and each field's reason,
and carries the rejected rows as a CSV to fix and import again (`app.domain.intake.rejected`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app import runtime
from app.domain import roles
from app.domain.intake import columns, dates, rows
from app.domain.intake.csv_file import FileProblem, Table, check_size, read_table
from app.domain.intake.fields import FieldError, LeadValues
from app.domain.intake.rejected import rejected_csv
from app.services import acting, intake
from app.services.intake import Progress, RowResult

SOURCE = "csv"
PROGRESS_EVERY = 2_000


@dataclass(frozen=True)
class Rejected:
    """A refused row: its number as a spreadsheet shows it (the header is row 1), its cells, why."""

    number: int
    cells: list[str]
    errors: tuple[FieldError, ...]


@dataclass(frozen=True)
class FileReport:
    """What an import did (or, dry, would do)."""

    headers: tuple[str, ...]
    mapping: list[str]
    rows: int
    created: int
    updated: int
    rejected: list[Rejected]
    dry_run: bool
    results: list[RowResult] = field(repr=False)

    def rejected_csv(self) -> bytes | None:
        """The rejected rows as a CSV to fix and import again; None when there are none."""
        if not self.rejected:
            return None
        return rejected_csv(self.headers, [(r.number, r.cells, r.errors) for r in self.rejected])

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        return (
            f"{verb} {self.created + self.updated:,} of {self.rows:,} rows: {self.created:,} new leads, "
            f"{self.updated:,} updated, {len(self.rejected):,} rejected"
        )


def inspect(data: bytes) -> tuple[Table, list[str]]:
    """The file read and its automatic mapping; `FileProblem` when it cannot be read."""
    table = read_table(data)
    return table, columns.auto_map(table.headers)


def checked_mapping(table: Table, mapping: Sequence[str] | None) -> list[str]:
    """The mapping to import with (the automatic one when None); `FileProblem` when it names no lead."""
    chosen = list(mapping) if mapping is not None else columns.auto_map(table.headers)
    problems = columns.mapping_problems(table.headers, chosen)
    if problems:
        raise FileProblem("; ".join(problems))
    return chosen


def preview(
    *, tenant_id: int, table: Table, mapping: Sequence[str], limit: int = 20, now: dt.datetime | None = None
) -> list[LeadValues | list[FieldError]]:
    """The first `limit` rows checked as the import would check them (no write)."""
    raw = rows.file_rows(table.headers, table.rows, mapping)
    tenant = _tenant(tenant_id)
    order = rows.date_order_of(raw, dates.default_order(tenant.country))
    rules = tenant.rules(now or dt.datetime.now(dt.UTC), order)
    return [rows.normalise(r, rules) for r in raw[:limit]]


def import_file(
    *,
    tenant_id: int,
    data: bytes | None = None,
    table: Table | None = None,
    mapping: Sequence[str] | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    operator_id: int | None = None,
) -> FileReport:
    """Import the file's bytes (or the table already read from them); see the module.

    Raises `FileProblem` (nothing written) for a file or mapping that cannot be imported, and
    `PermissionError` when the console's operator (`operator_id`; the command line passes none)
    may not: an active admin, or a manager or rep of this tenant, may import; a viewer may not.
    """
    at = now or dt.datetime.now(dt.UTC)
    if operator_id is not None:
        _check_operator(tenant_id, operator_id)
    tell = progress or (lambda _fraction, _label: None)
    if table is None:
        if data is None:
            raise ValueError("give the file's bytes or its table")
        tell(0.0, "reading the file")
        table = read_table(data)
    chosen = checked_mapping(table, mapping)
    raw = rows.file_rows(table.headers, table.rows, chosen)
    tenant = _tenant(tenant_id)
    rules = tenant.rules(at, rows.date_order_of(raw, dates.default_order(tenant.country)))
    checked: list[LeadValues | list[FieldError]] = []
    with _no_cycle_collection():
        for start in range(0, len(raw), PROGRESS_EVERY):
            tell(
                0.05 + 0.75 * start / len(raw), f"checking rows {start + 1:,}–{min(start + PROGRESS_EVERY, len(raw)):,}"
            )
            checked.extend(rows.normalise(r, rules) for r in raw[start : start + PROGRESS_EVERY])
        tell(0.8, "writing leads")
        results = _write(tenant_id, checked, tenant, dry_run=dry_run, now=at)
    if not dry_run:
        intake.request_rescore(tenant_id, results)
    tell(1.0, "done")
    return _report(table, chosen, results, dry_run)


def import_path(path: Path, *, tenant_id: int, dry_run: bool = False, now: dt.datetime | None = None) -> FileReport:
    """`import_file` of a file on disk (the command line); `FileProblem` naming the file when it
    cannot be read, refused by size before it is loaded."""
    try:
        check_size(path.stat().st_size)
        data = path.read_bytes()
    except OSError as error:
        raise FileProblem(f"{path}: {error.strerror or error}") from None
    except FileProblem as problem:
        raise FileProblem(f"{path}: {problem}") from None
    try:
        return import_file(tenant_id=tenant_id, data=data, dry_run=dry_run, now=now)
    except FileProblem as problem:
        raise FileProblem(f"{path}: {problem}") from None


def rejected_path(path: Path) -> Path:
    """Where the command line writes a file's rejected rows: beside it, `<name>.rejected.csv`."""
    return path.with_name(f"{path.stem}.rejected.csv")


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while a file's rows are checked and written.

    A 100,000-row import makes millions of small objects that live until it ends; each of them
    triggers the collector again and again, which walks them all every time: about a fifth of
    the import's CPU (`bench/import.py`). None of them forms a cycle (reference counting frees
    them), so nothing piles up while it is paused; it resumes, as it was, when the import ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_operator(tenant_id: int, operator_id: int) -> None:
    with runtime.session_scope() as session, session.begin():
        acting.require(session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.IMPORT)


def _tenant(tenant_id: int) -> intake.TenantIntake:
    with runtime.session_scope() as session, session.begin():
        return intake.tenant_intake(session, tenant_id)


def _write(
    tenant_id: int,
    checked: Sequence[LeadValues | list[FieldError]],
    tenant: intake.TenantIntake,
    *,
    dry_run: bool,
    now: dt.datetime,
) -> list[RowResult]:
    """All the file's rows in one transaction, committed, or rolled back for a dry run."""
    with runtime.session_scope() as session:
        transaction = session.begin()
        try:
            results = intake.upsert(session, tenant_id=tenant_id, rows=checked, tenant=tenant, source=SOURCE, now=now)
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
            return [RowResult(r.index, r.status, None if r.status == "created" else r.id, r.errors) for r in results]
        transaction.commit()
        return results


def _report(table: Table, mapping: list[str], results: Sequence[RowResult], dry_run: bool) -> FileReport:
    return FileReport(
        headers=table.headers,
        mapping=mapping,
        rows=len(results),
        created=sum(r.status == "created" for r in results),
        updated=sum(r.status == "updated" for r in results),
        rejected=[
            Rejected(table.numbers[r.index], table.rows[r.index], r.errors) for r in results if r.status == "rejected"
        ],
        dry_run=dry_run,
        results=list(results),
    )
