"""Reading one lead value: amounts, yes/no, tags, attributes, time zones and text, with hand-worked answers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.intake import values
from app.domain.intake.fields import Invalid


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("1250", Decimal("1250.00")),
        ("$1,250.50", Decimal("1250.50")),
        ("1.250,50 €", Decimal("1250.50")),
        ("1 250,5", Decimal("1250.50")),
        ("USD 99", Decimal("99.00")),
        ("12,5", Decimal("12.50")),
        ("1,234,567", Decimal("1234567.00")),
        ("1.234.567", Decimal("1234567.00")),
        ("0.125", None),  # three decimals: refused below
        (1250, Decimal("1250.00")),
        (19.99, Decimal("19.99")),
        (Decimal("0"), Decimal("0.00")),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_deal_values_as_spreadsheets_and_apis_write_them(written: object, amount: Decimal | None) -> None:
    if written == "0.125":
        with pytest.raises(Invalid, match="at most 2 decimal places"):
            values.deal_value(written)
        return
    assert values.deal_value(written) == amount


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("-5", "cannot be negative"),
        ("$-5", "cannot be negative"),
        ("(1,234.00)", "cannot be negative"),
        ("-$5", "cannot be negative"),
        ("1.234", "'1.234' is ambiguous: write 1234 or 1.23"),
        ("12,3456", "must be an amount, e.g. 1250.50 (got '12,3456')"),
        ("cheap", "must be an amount, e.g. 1250.50 (got 'cheap')"),
        ("1e3", "must be an amount"),
        (True, "must be an amount, e.g. 1250.50"),
        ([1], "must be an amount, e.g. 1250.50"),
        ("1000000000000", "at most 999,999,999,999.99"),
        (float("nan"), "must be a finite amount"),
    ],
)
def test_deal_values_refused_say_why(written: object, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        values.deal_value(written)
    assert str(refused.value).startswith(reason)


@pytest.mark.parametrize(
    ("written", "answer"),
    [
        ("Yes", True),
        ("y", True),
        ("TRUE", True),
        ("1", True),
        ("x", True),
        ("Opted-in", True),
        ("subscribed", True),
        ("No", False),
        ("FALSE", False),
        ("0", False),
        ("opt_out", False),
        ("Unsubscribed", False),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("", None),
        (None, None),
    ],
)
def test_consent_words(written: object, answer: bool | None) -> None:
    assert values.consent(written) is answer


@pytest.mark.parametrize("written", ["maybe", "2", 2, 1.0, ["yes"]])
def test_consent_that_is_neither_yes_nor_no_is_refused(written: object) -> None:
    with pytest.raises(Invalid, match="must be yes or no"):
        values.consent(written)


def test_tags_split_trimmed_and_deduplicated_ignoring_case() -> None:
    assert values.tags("vip; West ;VIP|  east ,, ") == ("vip", "West", "east")
    assert values.tags(["a", "b", "A"]) == ("a", "b")
    assert values.tags(" ; , ") is None
    assert values.tags(None) is None
    with pytest.raises(Invalid, match="at most 50 tags"):
        values.tags([f"t{n}" for n in range(51)])
    with pytest.raises(Invalid, match="each tag at most 64 characters"):
        values.tags("x" * 65)
    with pytest.raises(Invalid, match="must be a list of text labels"):
        values.tags([1, 2])
    with pytest.raises(Invalid, match="looks like a spreadsheet formula"):
        values.tags("ok;=cmd|' /C calc'!A0")


@pytest.mark.parametrize(
    ("cell", "formula"),
    [
        ("=1+2", True),
        ('=HYPERLINK("http://x")', True),
        ("@SUM(A1:A2)", True),
        ("+cmd|' /C calc'!A0", True),
        ("-2+3+cmd|' /C calc'!A0", True),
        ("+1 415 555 2671", False),
        ("-", False),
        ("@Properties", False),
        ("Ada", False),
        ("", False),
    ],
)
def test_what_a_spreadsheet_would_run(cell: str, formula: bool) -> None:
    assert values.is_formula(cell) is formula


def test_text_is_trimmed_and_refused_when_long_control_or_formula() -> None:
    assert values.text("  Ada \t Lovelace ", limit=100) == "Ada Lovelace"
    assert values.text("   ", limit=100) is None
    assert values.text(None, limit=100) is None
    with pytest.raises(Invalid, match=r"^at most 5 characters \(got 6\)$"):
        values.text("abcdef", limit=5)
    with pytest.raises(Invalid, match="contains control characters"):
        values.text("a\x07b", limit=5)
    with pytest.raises(Invalid, match=r"looks like a spreadsheet formula \('=1\+2'\); remove the leading '='"):
        values.text("=1+2", limit=100)
    with pytest.raises(Invalid, match="must be text"):
        values.text(12, limit=100)


def test_attributes_are_a_bounded_json_object() -> None:
    assert values.attributes({"plan": "pro", "seats": 12}) == {"plan": "pro", "seats": 12}
    assert values.attributes({}) is None
    with pytest.raises(Invalid, match="must be an object with text keys"):
        values.attributes(["a"])
    with pytest.raises(Invalid, match="at most 100 keys"):
        values.attributes({f"k{n}": n for n in range(101)})
    with pytest.raises(Invalid, match="at most 16,384 characters of JSON"):
        values.attributes({"note": "x" * 20_000})
    with pytest.raises(Invalid, match="note: looks like a spreadsheet formula"):
        values.attributes({"note": "=2*3"})


def test_time_zones_are_iana_names() -> None:
    assert values.timezone("Europe/Paris") == "Europe/Paris"
    assert values.timezone("") is None
    with pytest.raises(Invalid, match="'Mars/Olympus' is not a time zone: use a name such as America/New_York"):
        values.timezone("Mars/Olympus")
    with pytest.raises(Invalid, match="is not a time zone"):
        values.timezone("../../etc/passwd")
