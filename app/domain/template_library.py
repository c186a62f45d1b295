"""Starter messages for the campaign wizard's template library, with the variables a template may use.

Each starter passes the writer's checks for any lead with a first name (`messages.check`: the
lead's name, no invented price or date, an SMS under 160 characters with its opt-out line), so
a campaign built from one sends the operator's words rather than falling back to the writer.
"""

from __future__ import annotations

from app.domain.plan.wizard import MessageText

VARIABLES = {
    "first_name": "the lead's first name (every lead has one)",
    "sender_name": "who signs: the tenant's sender, else the business",
    "business_name": "the business, when it is not already the signature",
    "interest": "what the lead asked about, when the CRM recorded it (not every lead has one)",
}

STARTERS: dict[str, MessageText] = {
    "Gentle check-in": MessageText(
        email_subject="Still thinking it over, {{first_name}}?",
        email_body=(
            "Hi {{first_name}},\n\nI wanted to check in after our last conversation. Is it still something "
            "you're looking at?\n\nIf a quick call would help, just reply with a time that suits you.\n\n"
            "Best,\n{{sender_name}}"
        ),
        sms_body="Hi {{first_name}}, it's {{sender_name}}. Still thinking it over? Happy to help. "
        "Reply STOP to opt out.",
        brief="a gentle, no-pressure check-in",
    ),
    "One question": MessageText(
        email_subject="A quick question, {{first_name}}",
        email_body=(
            "Hi {{first_name}},\n\nIs there one question I could answer that would make your next step "
            "easier?\n\nThanks,\n{{sender_name}}"
        ),
        sms_body="Hi {{first_name}}, any question I can answer for you? {{sender_name}}. Reply STOP to opt out.",
        brief="ask the one question that unblocks them",
    ),
    "Last note": MessageText(
        email_subject="Should I close your file, {{first_name}}?",
        email_body=(
            "Hi {{first_name}},\n\nI haven't heard back, so I'll assume the timing isn't right. If that "
            "changes, reply to this email and I'll pick it up from here.\n\nAll the best,\n{{sender_name}}"
        ),
        sms_body="Hi {{first_name}}, I'll close your file for now. Reply any time to pick it up. "
        "Reply STOP to opt out.",
        brief="a last, friendly note before closing the file",
    ),
}
