"""One incoming lead checked into its values or every field's reason, with the real phone and email
adapters (libphonenumber, email-validator); expectations worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.domain.intake import batch, rejected, rows
from app.domain.intake.fields import FieldError, LeadValues
from app.services import contacts

NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


def rules(region: str = "US", order: str = "mdy") -> rows.Rules:
    return rows.Rules(
        now=NOW,
        zone=ZoneInfo("America/Chicago"),  # UTC-6 in December
        region=region,
        phone=contacts.check_phone,
        email=contacts.check_email,
        date_order=order,  # type: ignore[arg-type]
    )


def test_a_full_file_row_normalised() -> None:
    raw = {
        "external_id": " HS-1 ",
        "full_name": "Lovelace, Ada",
        "company": "Analytical  Engines",
        "email": " Ada.Lovelace@Example.COM ",
        "phone": "(415) 555-2671",
        "deal_value": "$1,250.50",
        "tags": "vip;west",
        "consent_email": "no",
        "consent_sms": "Yes",
        "last_activity_at": "12/1/2026 2:05 PM",
        "timezone": "Europe/London",
        "attributes": {"Colour": "blue"},
    }
    assert rows.normalise(raw, rules()) == LeadValues(
        external_id="HS-1",
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines",
        email="ada.lovelace@example.com",
        phone="+14155552671",
        phone_landline=False,
        timezone="Europe/London",
        deal_value=Decimal("1250.50"),
        tags=("vip", "west"),
        attributes={"Colour": "blue"},
        consent_email=False,
        consent_sms=True,
        last_activity_at=datetime(2026, 12, 1, 20, 5, tzinfo=UTC),  # 14:05 in Chicago
    )


def test_every_problem_of_a_row_is_reported_at_once() -> None:
    raw = {
        "first_name": '=HYPERLINK("http://evil")',
        "email": "ada@@example.com",
        "phone": "555-0100",
        "deal_value": "-10",
        "consent_sms": "perhaps",
        "last_activity_at": "31/12/2026",
        "colour": "blue",
    }
    assert rows.normalise(raw, rules()) == [
        FieldError("colour", "not a lead field"),
        FieldError(
            "first_name", "looks like a spreadsheet formula ('=HYPERLINK(\"http://evil\")'); remove the leading '='"
        ),
        FieldError("email", "The part after the @-sign contains invalid characters: '@'."),
        FieldError(
            "phone", "'555-0100' is a local number without its area code for a number in US (no country code given)"
        ),
        FieldError("deal_value", "cannot be negative"),
        FieldError("consent_sms", "must be yes or no, got 'perhaps'"),
        FieldError("last_activity_at", "'31/12/2026' is not a date (read as month/day/year)"),
    ]


def test_a_numeric_external_id_is_its_decimal_text() -> None:
    row = rows.normalise({"external_id": 88213}, rules())
    assert isinstance(row, LeadValues)
    assert row.external_id == "88213"
    assert rows.normalise({"external_id": True}, rules()) == [FieldError("external_id", "must be text")]


def test_a_row_must_name_its_lead() -> None:
    assert rows.normalise({"first_name": "Ada", "company": "AE"}, rules()) == [
        FieldError("row", "give an external_id, an email or a phone: nothing else tells leads apart")
    ]
    assert rows.normalise({"first_name": "Ada", "email": "  "}, rules()) == [
        FieldError("row", "give an external_id, an email or a phone: nothing else tells leads apart")
    ]


def test_phones_are_read_in_the_tenants_country_and_landlines_are_marked() -> None:
    london = rows.normalise({"phone": "020 7946 0958"}, rules(region="GB"))
    mobile = rows.normalise({"phone": "07400 123456"}, rules(region="GB"))
    assert isinstance(london, LeadValues)
    assert isinstance(mobile, LeadValues)
    assert (london.phone, london.phone_landline) == ("+442079460958", True)
    assert (mobile.phone, mobile.phone_landline) == ("+447400123456", False)
    abroad = rows.normalise({"phone": "+1 415 555 2671"}, rules(region="GB"))
    assert isinstance(abroad, LeadValues)
    assert abroad.phone == "+14155552671"


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("Ada Lovelace", "Ada", "Lovelace"),
        ("Mary Ann Evans", "Mary Ann", "Evans"),
        ("Cher", "Cher", None),
        ("Lovelace, Ada", "Ada", "Lovelace"),
    ],
)
def test_full_names_split(full: str, first: str, last: str | None) -> None:
    assert rows.split_name(full) == (first, last)


def test_a_given_first_name_wins_over_the_full_name() -> None:
    row = rows.normalise({"email": "a@x.com", "first_name": "Ada", "full_name": "Augusta King"}, rules())
    assert isinstance(row, LeadValues)
    assert (row.first_name, row.last_name) == ("Ada", None)


def test_file_rows_gather_attributes_ignore_and_unescape() -> None:
    headers = ["Email", "Phone", "Colour", "Notes", "rejected_row"]
    mapping = ["email", "phone", "attribute", "attribute", "ignore"]
    cells = [["a@x.com", "'+1 415 555 2671", "blue", "", "7"]]
    assert rows.file_rows(headers, cells, mapping) == [
        {"email": "a@x.com", "phone": "+1 415 555 2671", "attributes": {"Colour": "blue"}}
    ]


def test_rows_naming_one_lead_fold_into_one() -> None:
    a = LeadValues(external_id="X", email="a@x.com", company="Old", tags=("a",), attributes={"k": 1, "j": 1})
    b = LeadValues(email="a@x.com", phone="+14155552671", company="New", attributes={"k": 2})
    c = LeadValues(external_id="Y", phone="+14155552671")  # by phone: b's, so a's group
    d = LeadValues(email="d@x.com")
    e = LeadValues(external_id="X", first_name="Ada")
    assert batch.groups([a, b, c, d, e]) == [0, 0, 0, 3, 0]
    assert batch.fold([a, b, c, e]) == LeadValues(
        external_id="X",  # the first external id given stays
        first_name="Ada",
        email="a@x.com",
        phone="+14155552671",
        company="New",  # later values win
        tags=("a",),
        attributes={"k": 2, "j": 1},  # merged key by key
    )


def test_the_rejected_rows_file_escapes_formulas() -> None:
    data = rejected.rejected_csv(
        ["Name", "Phone"],
        [(3, ["=cmd|' /C calc'!A0", "+1 415"], [FieldError("name", "looks like a formula"), FieldError("row", "x")])],
    )
    assert (
        data
        == (
            "\ufeffrejected_row,problems,Name,Phone\r\n"
            "3,name: looks like a formula | row: x,'=cmd|' /C calc'!A0,'+1 415\r\n"
        ).encode()
    )
