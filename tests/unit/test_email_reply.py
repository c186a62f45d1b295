"""Stripping quoted history and signatures from email replies, on replies written out by hand as
Gmail, Outlook, Apple Mail and plain clients format them; and the reply token."""

from __future__ import annotations

from app.domain.email_reply import addresses, header_value, html_text, message_ids, strip_reply
from app.domain.reply_address import claim_from_addresses, make_token, reply_address, verify_token


def test_gmail_quote_is_dropped() -> None:
    text = (
        "Yes, Tuesday works for me.\r\n\r\n"
        "On Mon, Dec 1, 2026 at 3:00 PM Acme Sales <sales@acme.example> wrote:\r\n"
        "> Hi Jo, are you still looking for a new kitchen?\r\n"
    )
    assert strip_reply(text) == "Yes, Tuesday works for me."


def test_gmail_attribution_wrapped_over_two_lines_is_dropped() -> None:
    text = "Call me.\n\nOn Mon, Dec 1, 2026 at 3:00 PM Acme Sales <\nsales@acme.example> wrote:\n> Hi Jo\n"
    assert strip_reply(text) == "Call me."


def test_a_sentence_starting_with_on_is_kept() -> None:
    assert strip_reply("On second thought, send me the price list.") == "On second thought, send me the price list."


def test_outlook_original_message_is_dropped() -> None:
    text = (
        "Not now, maybe in March.\n\n"
        "-----Original Message-----\n"
        "From: Acme Sales <sales@acme.example>\n"
        "Sent: Monday, December 1, 2026 3:00 PM\n"
        "Subject: Your quote\n\nHi Jo\n"
    )
    assert strip_reply(text) == "Not now, maybe in March."


def test_outlook_from_sent_block_is_dropped() -> None:
    text = "Please call.\n\n________________________________\nFrom: Acme Sales\nSent: Monday\nHi Jo\n"
    assert strip_reply(text) == "Please call."
    text = "Please call.\n\nFrom: Acme Sales <sales@acme.example>\nSent: Monday\nHi Jo\n"
    assert strip_reply(text) == "Please call."


def test_quoted_lines_are_dropped_and_interleaved_answers_kept() -> None:
    text = "> Is Tuesday good?\nYes\n> Morning or afternoon?\nAfternoon\n"
    assert strip_reply(text) == "Yes\nAfternoon"


def test_signature_and_mobile_footer_are_dropped() -> None:
    assert strip_reply("Sounds good.\n\n-- \nJo Bloggs\nCEO, Bloggs Ltd\n") == "Sounds good."
    assert strip_reply("Sounds good.\n\nSent from my iPhone\n") == "Sounds good."


def test_a_long_reply_is_capped() -> None:
    assert strip_reply("a" * 50, limit=10) == "a" * 10


def test_an_empty_or_quote_only_reply_is_empty() -> None:
    assert strip_reply("") == ""
    assert strip_reply("> only the quote\n") == ""


def test_message_ids_newest_reference_first_without_repeats() -> None:
    assert message_ids("<c@x>", "<a@x> <b@x>\r\n <c@x>") == ["c@x", "b@x", "a@x"]
    assert message_ids("", "") == []


def test_header_value_unfolds_and_ignores_case() -> None:
    raw = "Received: by mx\nIn-Reply-To: <abc.filter1@x>\nreferences: <a@x>\n <b@x>\nSubject: hi\n"
    assert header_value(raw, "In-Reply-To") == "<abc.filter1@x>"
    assert header_value(raw, "References") == "<a@x> <b@x>"
    assert header_value(raw, "Message-ID") == ""


def test_addresses_bare_and_named() -> None:
    assert addresses('"Jo" <Jo@Example.com>, reply+1@r.example') == ["jo@example.com"]
    assert addresses("reply+1-2-ab@r.example, Jo@x.example") == ["reply+1-2-ab@r.example", "jo@x.example"]


def test_reply_token_round_trips_and_refuses_forgeries() -> None:
    token = make_token("s3cret", tenant_id=7, message_id=42)
    assert token.startswith("7-42-")
    assert token == token.lower()
    assert verify_token("s3cret", token) is not None
    claim = verify_token("s3cret", token.upper())  # a mail system that upper-cases the local part
    assert claim is not None
    assert (claim.tenant_id, claim.message_id) == (7, 42)
    assert verify_token("other", token) is None
    assert verify_token("s3cret", "8-42-" + token.split("-")[2]) is None
    assert verify_token("s3cret", "7-42") is None


def test_claim_from_the_recipients() -> None:
    address = reply_address("s3cret", tenant_id=7, message_id=42, domain="reply.acme.example")
    assert address.startswith("reply+7-42-")
    assert address.endswith("@reply.acme.example")
    claim = claim_from_addresses("s3cret", ["sales@acme.example", address])
    assert claim is not None
    assert (claim.tenant_id, claim.message_id) == (7, 42)
    assert claim_from_addresses("s3cret", ["reply+7-42-000000000000000000000000@x"]) is None


def test_html_only_replies_keep_their_text_and_mark_blockquotes_as_quotes() -> None:
    html = "<html><head><style>p{}</style></head><body><div>Yes &amp; soon</div><blockquote>Hi Jo</blockquote></body>"
    assert strip_reply(html_text(html)) == "Yes & soon"
