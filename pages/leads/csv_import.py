"""The Leads page's "Import leads from a CSV file": upload, check the column mapping, preview, dry run, import.

The same engine as `python -m app import-leads` (`app.services.intake_files`): a file that
cannot be read is refused with its reason; columns are mapped from their headers and each can
be changed here; the first rows are previewed with their problems; a dry run performs the import
and rolls it back, so its counts are the import's; the import commits the whole file at once, a
progress bar showing where it is. Rejected rows can be downloaded as a CSV (formula cells escaped)
to fix and upload again. Viewers may look but not import. Cells from the file are shown in tables
only, never as HTML or Markdown.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.domain.intake import columns
from app.domain.intake.csv_file import MAX_FILE_BYTES, MAX_ROWS, FileProblem, Table
from app.domain.intake.fields import LeadValues
from app.services import intake_files
from app.services.intake_files import FileReport
from components import tables
from pages import data, session
from pages.leads.shared import may_act

UPLOAD = "leads.import.file"
TABLE = "leads.import.table"  # (file id, Table | the reason it was refused)
REPORT = "leads.import.report"  # (file id, FileReport) of the last run
MAP_PREFIX = "leads.import.map."
DRY_RUN = "leads.import.dry"
IMPORT = "leads.import.go"
DOWNLOAD = "leads.import.rejected"
PREVIEW_ROWS = 20
LABELS = {
    "external_id": "External id",
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name (split in two)",
    "company": "Company",
    "title": "Title",
    "email": "Email",
    "phone": "Phone",
    "timezone": "Time zone",
    "source": "Source",
    "stage": "Stage",
    "deal_value": "Deal value",
    "tags": "Tags",
    "consent_email": "Email consent",
    "consent_sms": "SMS consent",
    "last_activity_at": "Last activity",
    "attribute": "Keep as an attribute",
    "ignore": "Ignore",
}
FORMAT_HELP = (
    f"UTF-8 CSV (Excel: *CSV UTF-8*), comma or semicolon separated, a header row first; up to {MAX_ROWS:,} rows "
    f"and {MAX_FILE_BYTES // 1024 // 1024} MB. Leads are matched by external id, then email, then phone: known "
    "leads are updated (empty cells change nothing), the others created."
)


def map_key(index: int) -> str:
    return f"{MAP_PREFIX}{index}"


def csv_import(tenant_id: int) -> None:
    """The section, folded away until it is used."""
    with st.expander("Import leads from a CSV file", icon=":material/upload_file:"):
        if not may_act():
            st.caption("Viewers can see leads but not import them.")
            return
        upload = st.file_uploader("CSV file", type=["csv", "txt"], key=UPLOAD, help=FORMAT_HELP)
        if upload is None:
            st.caption(FORMAT_HELP)
            return
        table = _table(upload.file_id, upload.getvalue())
        if isinstance(table, str):
            st.error(f"{upload.name}: {table}")
            return
        st.caption(
            f"{upload.name}: {len(table.rows):,} rows, {len(table.headers)} columns, "
            f"{table.delimiter_name}-separated{', with a byte-order mark' if table.bom else ''}."
        )
        mapping = _mapping(table)
        problems = columns.mapping_problems(table.headers, mapping)
        for problem in problems:
            st.error(problem)
        if problems:
            return
        _preview(tenant_id, table, mapping)
        _run(tenant_id, upload.file_id, upload.name, table, mapping)
        _report(upload.file_id, upload.name)


def _table(file_id: str, content: bytes) -> Table | str:
    """The file read once per upload (reruns reuse it), or why it cannot be."""
    kept = st.session_state.get(TABLE)
    if isinstance(kept, tuple) and kept[0] == file_id:
        return kept[1]  # type: ignore[no-any-return]
    for key in [k for k in st.session_state if str(k).startswith(MAP_PREFIX)]:
        del st.session_state[key]  # a new file starts from its own automatic mapping
    st.session_state.pop(REPORT, None)
    try:
        read: Table | str = intake_files.inspect(content)[0]
    except FileProblem as problem:
        read = str(problem)
    st.session_state[TABLE] = (file_id, read)
    return read


def _mapping(table: Table) -> list[str]:
    """A field per column: the automatic guess, which the operator may change."""
    st.markdown("**Columns**")
    guessed = columns.auto_map(table.headers)
    options = list(columns.TARGETS)
    grid = st.columns(3)
    chosen: list[str] = []
    for index, header in enumerate(table.headers):
        with grid[index % 3]:
            chosen.append(
                st.selectbox(
                    header or f"(column {index + 1}, no header)",
                    options,
                    index=options.index(guessed[index]),
                    format_func=LABELS.__getitem__,
                    key=map_key(index),
                )
            )
    return chosen


def _preview(tenant_id: int, table: Table, mapping: list[str]) -> None:
    checked = intake_files.preview(
        tenant_id=tenant_id, table=table, mapping=mapping, limit=PREVIEW_ROWS, now=session.now()
    )
    frame = pd.DataFrame(
        [
            {
                "row": number,
                "status": "ok" if isinstance(result, LeadValues) else "rejected",
                "problems": "" if isinstance(result, LeadValues) else " | ".join(str(e) for e in result),
                **{f"c{index}": cell for index, cell in enumerate(cells)},
            }
            for number, cells, result in zip(table.numbers, table.rows, checked, strict=False)
        ]
    )
    shown = {
        "row": tables.number_column("Row", help="The row's number in the file, as a spreadsheet shows it."),
        "status": tables.text_column("Status"),
        "problems": tables.text_column("Problems", width="large"),
        **{
            f"c{index}": tables.text_column(header or f"column {index + 1}")
            for index, header in enumerate(table.headers)
        },
    }
    bad = int((frame["status"] == "rejected").sum())
    st.markdown(f"**Preview**: the first {len(frame)} rows, {bad} with problems")
    tables.data_table(frame, shown, empty=("No rows", "The file has no rows to preview."), key="leads.import.preview")


def _run(tenant_id: int, file_id: str, name: str, table: Table, mapping: list[str]) -> None:
    left, right = st.columns(2)
    dry = left.button("Dry run", key=DRY_RUN, help="Check and count everything; nothing is written.")
    go = right.button(f"Import {len(table.rows):,} rows", key=IMPORT, type="primary")
    if not (dry or go):
        return
    who = session.identity()
    bar = st.progress(0.0, text="starting")
    try:
        if who is None:
            raise PermissionError("Sign in to import leads.")
        report = intake_files.import_file(
            tenant_id=tenant_id,
            table=table,
            mapping=mapping,
            dry_run=dry,
            now=session.now(),
            progress=lambda fraction, label: _advance(bar, fraction, label),
            operator_id=who.operator_id,
        )
    except (FileProblem, PermissionError) as error:
        bar.empty()
        st.error(f"{name}: {error}")
        return
    bar.empty()
    st.session_state[REPORT] = (file_id, report)
    if not dry:
        data.forget_leads()


def _advance(bar: Any, fraction: float, label: str) -> None:
    bar.progress(min(fraction, 1.0), text=label)


def _report(file_id: str, name: str) -> None:
    kept = st.session_state.get(REPORT)
    if not (isinstance(kept, tuple) and kept[0] == file_id and isinstance(kept[1], FileReport)):
        return
    report: FileReport = kept[1]
    (st.warning if report.rejected else st.success)(report.summary() + ".")
    rejected = report.rejected_csv()
    if rejected is None:
        return
    tables.data_table(
        _rejected_frame(report),
        {
            "row": tables.number_column("Row"),
            "field": tables.text_column("Field"),
            "problem": tables.text_column("Problem", width="large"),
        },
        empty=("No rejected rows", ""),
        key="leads.import.rejected_rows",
    )
    stem = name.rsplit(".", 1)[0]
    st.download_button(
        f"Download the {len(report.rejected):,} rejected rows (CSV)",
        data=rejected,
        file_name=f"{stem}.rejected.csv",
        mime="text/csv",
        key=DOWNLOAD,
        icon=":material/download:",
        help="The rejected rows with their problems; formula cells are escaped. Fix them and upload this file.",
    )


def _rejected_frame(report: FileReport, limit: int = 200) -> pd.DataFrame:
    lines: list[dict[str, Any]] = [
        {"row": row.number, "field": error.field, "problem": error.message}
        for row in report.rejected[:limit]
        for error in row.errors
    ]
    return pd.DataFrame(lines)
