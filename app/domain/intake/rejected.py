"""The rejected rows of a file, as a CSV to fix and import again.

The file keeps the original columns and cells, and adds two in front: `rejected_row` (the
row's number in the original file) and `problems` (each `field: reason`, separated by ` | `).
The column mapping ignores both, so the corrected file imports as it is.

Every cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
apostrophe: a spreadsheet opening the file would otherwise run it as a formula (CSV injection,
OWASP), whatever the lead's data or an attacker put there. The importer takes that apostrophe
off again (`rows.unescaped`). UTF-8 with a byte-order mark, so Excel reads accents right.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from app.domain.intake.columns import PROBLEMS, REJECTED_ROW
from app.domain.intake.fields import FieldError
from app.domain.intake.rows import FORMULA_SIGNS


def escaped(cell: str) -> str:
    """The cell as a spreadsheet may open it: a leading apostrophe before a formula sign."""
    return "'" + cell if cell and cell[0] in FORMULA_SIGNS else cell


def problems_text(errors: Sequence[FieldError]) -> str:
    return " | ".join(str(e) for e in errors)


def rejected_csv(headers: Sequence[str], rejected: Sequence[tuple[int, Sequence[str], Sequence[FieldError]]]) -> bytes:
    """The CSV of (row number, original cells, problems) triples, as the module describes."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([REJECTED_ROW, PROBLEMS, *(escaped(h) for h in headers)])
    for number, cells, errors in rejected:
        writer.writerow([str(number), escaped(problems_text(errors)), *(escaped(c) for c in cells)])
    return out.getvalue().encode("utf-8-sig")
