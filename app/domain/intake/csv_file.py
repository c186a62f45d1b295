"""A lead file's bytes into a header and rows, or one clear reason why it cannot be read.

What is read: UTF-8 text with or without a byte-order mark, separated by commas, semicolons (what
Excel writes where the comma is the decimal point) or tabs, told apart by the header line, or by
Excel's own `sep=;` first line; Excel's quoting (a quoted cell may hold separators, line breaks
and doubled quotes). Rows are numbered as a spreadsheet shows them: the header is row 1, blank
lines count but are skipped.

What is refused, as a whole file and before anything is written: an empty file, a header with
no rows, more than `MAX_ROWS` rows or `MAX_FILE_BYTES` bytes, another encoding (UTF-16 is what
Excel's "Unicode Text" writes, Latin-1 what older exports write: both say how to save UTF-8),
a workbook or other binary file, a header that names a column twice, a value under a column
with no header, a row with more or fewer cells than the header, and a quote that never closes.
The message names the row, so the file can be fixed where it is wrong.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from app.domain.intake.columns import fold

MAX_ROWS = 100_000
MAX_FILE_BYTES = 25 * 1024 * 1024
"""The realistic 100,000-row file of `bench/import.py` (15 columns, a CRM export's) measured 17.5 MB,
184 bytes a row; 25 MB leaves 40 % for longer rows or a few more columns, and refuses a file far
bigger than 100,000 rows could be before it is decoded. `.streamlit/config.toml`'s
`server.maxUploadSize` is the same figure (a test holds them equal)."""
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
SAVE_AS_UTF8 = "In Excel use File › Save As › 'CSV UTF-8 (Comma delimited)'; elsewhere export as UTF-8 CSV"

_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip file, not a CSV. " + SAVE_AS_UTF8),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls), not a CSV. " + SAVE_AS_UTF8),
    (b"%PDF", "a PDF, not a CSV"),
    (b"\x1f\x8b", "a gzip archive, not a CSV: unpack it first"),
)
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_UTF32 = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")


class FileProblem(ValueError):
    """A file refused as a whole; the message says why and, where it can, how to fix it."""


@dataclass(frozen=True)
class Table:
    """A file read: its header, its rows (each as long as the header) and their spreadsheet numbers."""

    headers: tuple[str, ...]
    rows: list[list[str]]
    numbers: list[int]
    delimiter: str
    bom: bool

    @property
    def delimiter_name(self) -> str:
        return DELIMITERS[self.delimiter]


def read_table(data: bytes, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_FILE_BYTES) -> Table:
    """The file's header and rows; `FileProblem` for anything the module lists as refused."""
    check_size(len(data), max_bytes=max_bytes, max_rows=max_rows)
    if not data.strip():
        raise FileProblem("the file is empty")
    text, bom = _decoded(data)
    lines = io.StringIO(text, newline="")
    first = lines.readline()
    delimiter, numbered_from = _delimiter(first)
    if numbered_from == 1:
        lines.seek(0)
    return _parsed(lines, delimiter, bom, max_rows)


def check_size(size: int, *, max_bytes: int = MAX_FILE_BYTES, max_rows: int = MAX_ROWS) -> None:
    """`FileProblem` for a file over the size limit, so a caller can refuse it before loading it."""
    if size > max_bytes:
        raise FileProblem(
            f"the file is {size / 1024 / 1024:.1f} MB; the limit is {max_bytes // 1024 // 1024} MB "
            f"(about {max_rows:,} rows): split it into smaller files"
        )


def _decoded(data: bytes) -> tuple[str, bool]:
    if data.startswith(_UTF32):
        raise FileProblem(f"the file is UTF-32 text, not UTF-8. {SAVE_AS_UTF8}")
    if data.startswith(_UTF16) or _looks_utf16(data):
        raise FileProblem(f"the file is UTF-16 text (Excel's 'Unicode Text'), not UTF-8. {SAVE_AS_UTF8}")
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise FileProblem(f"the file is {what}")
    if b"\x00" in data:
        raise FileProblem("the file holds binary data, not text: is it really a CSV?")
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8-sig"), bom
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start]
        guess = bytes([byte]).decode("cp1252", errors="replace")
        raise FileProblem(
            f"the file is not UTF-8: line {line} has the byte 0x{byte:02X}, which Latin-1 and Windows-1252 "
            f"write for {guess!r}. {SAVE_AS_UTF8}"
        ) from None


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: ASCII text with a zero byte beside every character."""
    sample = data[:4096]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    return max(even, odd) > len(sample) // 4 and min(even, odd) < len(sample) // 64 + 1


def _delimiter(first_line: str) -> tuple[str, int]:
    """(the separator, the record number the header has: 1, or 2 after Excel's `sep=` line)."""
    stripped = first_line.strip()
    if stripped.lower().startswith("sep=") and len(stripped) == 5 and stripped[4] in DELIMITERS:
        return stripped[4], 2
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return (best if counts[best] else ","), 1


def _parsed(lines: io.StringIO, delimiter: str, bom: bool, max_rows: int) -> Table:
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    headers: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    record = 0
    try:
        for cells in reader:
            record += 1
            if not any(c.strip() for c in cells):
                continue
            if headers is None:
                headers = _checked_headers(cells)
                continue
            rows.append(_fitted(cells, headers, record, delimiter))
            numbers.append(record)
            if len(rows) > max_rows:
                raise FileProblem(
                    f"the file has more than {max_rows:,} rows: split it into files of {max_rows:,} or fewer"
                )
    except csv.Error as error:
        raise FileProblem(_csv_message(str(error), record + 1)) from None
    if headers is None:
        raise FileProblem("the file is empty")
    if not rows:
        raise FileProblem("the file has a header but no rows")
    for index, header in enumerate(headers):
        if not header and any(row[index].strip() for row in rows):
            at = next(n for row, n in zip(rows, numbers, strict=True) if row[index].strip())
            raise FileProblem(f"column {column_letter(index)} has no header but row {at} has a value in it: name it")
    return Table(tuple(headers), rows, numbers, delimiter, bom)


def _checked_headers(cells: list[str]) -> list[str]:
    headers = [c.strip() for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = fold(header)
        if not key:
            continue
        if key in seen:
            raise FileProblem(
                f"the header names {header!r} twice (columns {column_letter(seen[key])} and "
                f"{column_letter(index)}): give each column its own name"
            )
        seen[key] = index
    return headers


def _fitted(cells: list[str], headers: list[str], record: int, delimiter: str) -> list[str]:
    width = len(headers)
    if len(cells) > width and not any(c.strip() for c in cells[width:]):
        return cells[:width]  # trailing empty cells (a spreadsheet's extra separators)
    if len(cells) != width:
        raise FileProblem(
            f"row {record} has {len(cells)} cells but the header has {width}: check the quoting and the "
            f"separator (this file is read as {DELIMITERS[delimiter]}-separated)"
        )
    return cells


def _csv_message(detail: str, record: int) -> str:
    if "unexpected end of data" in detail:
        return f'a quoted cell that starts in row {record} never closes: a quote (") is missing'
    if "field larger than field limit" in detail:
        return f"row {record} has a cell over {csv.field_size_limit() // 1024} KB: this is not a lead file"
    if "expected after" in detail:
        return f'row {record}: a quote inside a quoted cell must be doubled ("")'
    return f"row {record} is not valid CSV ({detail})"


def column_letter(index: int) -> str:
    """The spreadsheet's name of the column at `index` (0 is A, 26 is AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
