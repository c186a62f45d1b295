"""Which field a file's column holds: headers as CRMs and spreadsheets spell them."""

from __future__ import annotations

import pytest

from app.domain.intake import columns


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Email", "email"),
        ("E-mail Address", "email"),
        ("EMAIL_ADDRESS", "email"),
        ("\ufeffemail", "email"),
        ("First Name", "first_name"),
        ("firstname", "first_name"),
        ("Surname", "last_name"),
        ("Name", "full_name"),
        ("Mobile Phone Number", "phone"),
        ("Tel.", "phone"),
        ("Company Name", "company"),
        ("Organisation", "company"),
        ("Job Title", "title"),
        ("Record ID", "external_id"),
        ("HubSpot ID", "external_id"),
        ("Lead Source", "source"),
        ("Lifecycle Stage", "stage"),
        ("Deal Value ($)", "deal_value"),
        ("Amount", "deal_value"),
        ("Tags", "tags"),
        ("Email Opt-In", "consent_email"),
        ("SMS consent", "consent_sms"),
        ("Text consent", "consent_sms"),
        ("Last Activity Date", "last_activity_at"),
        ("Time zone", "timezone"),
        ("Favourite colour", None),
        ("Sölutions", None),
    ],
)
def test_headers_name_fields(header: str, field: str | None) -> None:
    assert columns.guess(header) == field


def test_auto_map_keeps_unknown_columns_as_attributes_and_takes_each_field_once() -> None:
    headers = ["rejected_row", "Problems", "Email", "E-mail", "Name", "Colour", ""]
    assert columns.auto_map(headers) == ["ignore", "ignore", "email", "attribute", "full_name", "attribute", "ignore"]


def test_a_mapping_must_name_a_lead_and_each_field_once() -> None:
    assert columns.mapping_problems(["Email", "Name"], ["email", "full_name"]) == []
    assert columns.mapping_problems(["Email", "Work email"], ["email", "email"]) == [
        "email is chosen for 2 columns ('Email', 'Work email'): choose one"
    ]
    assert columns.mapping_problems(["Colour", "Size"], ["attribute", "attribute"]) == [
        "no column holds an email, a phone or an external id, so no lead can be told apart "
        "(the columns are 'Colour', 'Size'); name one of them e.g. 'Email' or 'Phone'"
    ]
    assert columns.mapping_problems(["Email"], ["shoe_size"]) == ["column 'Email': 'shoe_size' is not a field"]
    assert columns.mapping_problems(["Email"], []) == ["the mapping has 0 entries for 1 columns"]
