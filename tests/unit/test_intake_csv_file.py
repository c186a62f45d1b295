"""A lead file's bytes into header and rows: the formats accepted, and each refusal's message."""

from __future__ import annotations

import pytest

from app.domain.intake.csv_file import FileProblem, column_letter, read_table


def test_excel_quoting_line_breaks_and_doubled_quotes() -> None:
    data = b'Name,Email,Note\r\n"Smith, John",john@x.com,"said ""hi""\r\non two lines"\r\nAda,ada@x.com,\r\n'
    table = read_table(data)
    assert table.headers == ("Name", "Email", "Note")
    assert table.rows == [["Smith, John", "john@x.com", 'said "hi"\r\non two lines'], ["Ada", "ada@x.com", ""]]
    assert table.numbers == [2, 3]  # spreadsheet rows: the header is row 1, a multi-line cell is one row
    assert (table.delimiter, table.bom) == (",", False)


def test_semicolons_a_bom_and_blank_lines() -> None:
    table = read_table("\ufeffName;Amount\n\nAda;1.250,50\n;\nBob;3\n".encode())
    assert (table.headers, table.delimiter, table.bom) == (("Name", "Amount"), ";", True)
    assert table.rows == [["Ada", "1.250,50"], ["Bob", "3"]]
    assert table.numbers == [3, 5]  # blank lines count, as in a spreadsheet


def test_excels_sep_line_and_tabs_and_a_single_column() -> None:
    assert read_table(b"sep=;\nName;Email\nAda;a@x.com\n").rows == [["Ada", "a@x.com"]]
    assert read_table(b"Name\tEmail\nAda\ta@x.com\n").delimiter == "\t"
    single = read_table(b"email\na@x.com\n")
    assert (single.headers, single.rows) == (("email",), [["a@x.com"]])


def test_trailing_empty_cells_are_forgiven() -> None:
    assert read_table(b"Name,Email,,\nAda,a@x.com,,\nBob,b@x.com,\n").rows == [["Ada", "a@x.com"], ["Bob", "b@x.com"]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\r\n\r\n  \n", "the file is empty"),
        (b"Name,Email\r\n", "the file has a header but no rows"),
        (b"Name,Email\n,\n", "the file has a header but no rows"),
        ("Name,Email\nAda,a@x.com\n".encode("utf-16"), "the file is UTF-16 text (Excel's 'Unicode Text'), not UTF-8."),
        ("Name,Email\nAda,a@x.com\n".encode("utf-16-le"), "the file is UTF-16 text"),
        ("Name,Email\nAda,a@x.com\n".encode("utf-32"), "the file is UTF-32 text, not UTF-8."),
        (
            "Name,Email\nAda,a@x.com\nRenée,r@x.com\n".encode("latin-1"),
            "the file is not UTF-8: line 3 has the byte 0xE9, which Latin-1 and Windows-1252 write for 'é'.",
        ),
        (b"PK\x03\x04\x14\x00\x06\x00", "the file is an Excel workbook (.xlsx) or another zip file, not a CSV."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "the file is an old Excel workbook (.xls), not a CSV."),
        (b"%PDF-1.7\n", "the file is a PDF, not a CSV"),
        (b"Name,Email\nAda\x00,a@x.com\n", "the file holds binary data, not text"),
        (b"Name,Email,Name\nAda,a@x.com,Ada\n", "the header names 'Name' twice (columns A and C)"),
        (b"Name,E-mail,e mail\nAda,a@x.com,b@x.com\n", "the header names 'e mail' twice (columns B and C)"),
        (b"Name,,Email\nAda,x,a@x.com\n", "column B has no header but row 2 has a value in it: name it"),
        (b"Name,Email\nAda,a@x.com\nBob,b@x.com,extra\n", "row 3 has 3 cells but the header has 2"),
        (b"Name,Email,Phone\nAda,a@x.com\n", "row 2 has 2 cells but the header has 3"),
        (
            b'Name,Email\nAda,"a@x.com\nBob,b@x.com\n',
            'a quoted cell that starts in row 2 never closes: a quote (") is missing',
        ),
        (b'Name,Email\n"Ada"x,a@x.com\n', 'row 2: a quote inside a quoted cell must be doubled ("")'),
        (b"email\n" + b"a@x.com\n" * 6, "the file has more than 5 rows: split it into files of 5 or fewer"),
    ],
)
def test_refused_files_say_why(data: bytes, message: str) -> None:
    with pytest.raises(FileProblem) as refused:
        read_table(data, max_rows=5)
    assert str(refused.value).startswith(message)


def test_a_ragged_row_names_the_separator_it_was_read_with() -> None:
    with pytest.raises(FileProblem, match=r"this file is read as semicolon-separated"):
        read_table(b"Name;Email\nAda;a@x.com;x\n")


def test_too_big_a_file_is_refused_before_reading() -> None:
    with pytest.raises(FileProblem, match=r"^the file is 2\.0 MB; the limit is 1 MB \(about 100,000 rows\)"):
        read_table(b"x" * (2 * 1024 * 1024), max_bytes=1024 * 1024)


def test_a_giant_cell_is_not_a_lead_file() -> None:
    with pytest.raises(FileProblem, match="row 1 has a cell over 128 KB: this is not a lead file"):
        read_table(b"a" * 200_000 + b"\n")


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]
