"""The three small HTML pages of an unsubscribe link: confirm, done, and "not a valid link".

Plain server-rendered HTML with no script and no outside resource: the page must work in any
mail client's browser, and a link scanner gains nothing from rendering it. Every value is
escaped; the only values shown are the business's name (typed by the tenant) and a masked
address. The "not valid" page is the same for every failure, so it reveals nothing about
which tenants, leads or addresses exist.
"""

from __future__ import annotations

from html import escape

from app.services.unsubscribe import Recipient

CHANNEL_WORDS = {"email": "emails", "sms": "text messages"}

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never pass it on
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # no page may frame the button and trick a click
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
"""Sent with every page."""

_STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f6f7f9;color:#1f2933;margin:0}"
    "main{max-width:30rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:.5rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}"
    "h1{font-size:1.4rem;margin:0 0 1rem}p{line-height:1.5}"
    "button{font-size:1rem;padding:.6rem 1.4rem;border:0;border-radius:.4rem;background:#b42318;color:#fff;"
    "cursor:pointer}.quiet{color:#616e7c;font-size:.9rem}"
)


def confirm(who: Recipient) -> str:
    """One question and one button; the form posts to the page's own URL (no action attribute)."""
    return _document(
        "Unsubscribe",
        f"<h1>Unsubscribe from {_business(who)}?</h1>"
        f"<p>{escape(_words(who).capitalize())} to <strong>{escape(who.masked_address)}</strong> will stop.</p>"
        '<form method="post"><button type="submit">Unsubscribe</button></form>'
        '<p class="quiet">Nothing changes until you press the button.</p>',
    )


def done(who: Recipient) -> str:
    return _document(
        "You're unsubscribed",
        "<h1>You're unsubscribed</h1>"
        f"<p>{_business(who)} will send no more {escape(_words(who))} to "
        f"<strong>{escape(who.masked_address)}</strong>.</p>",
    )


def not_found() -> str:
    return _document(
        "Link not valid",
        "<h1>This link is not valid</h1>"
        "<p>It may be incomplete or out of date. If you copied it from a message, "
        "check that the whole link was copied.</p>",
    )


def _business(who: Recipient) -> str:
    return escape(who.business.strip() or "this sender")


def _words(who: Recipient) -> str:
    return CHANNEL_WORDS.get(who.channel, "messages")


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
