"""`GET` and `POST /unsubscribe/{token}`: the link in every email's footer and its `List-Unsubscribe` header.

GET only shows a confirmation page: mail scanners and link previewers fetch every URL in a
message, so a GET that unsubscribed would opt people out who never asked. POST unsubscribes:
the page's button and RFC 8058 one-click (a mail provider's `List-Unsubscribe=One-Click`
POST) alike, with no cookie and no second step, and answers 200 with the "you're
unsubscribed" page, again on every repeat. A token that is forged, altered, signed with
another key, older than its tenant lets links work (`tenants.unsubscribe_link_days`), or names a
lead or tenant that no longer exists gets the same 404 page.

Sync routes: FastAPI runs them in its thread pool, beside the database calls they make.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from app.services import unsubscribe
from app.settings import get_settings
from app.web import unsubscribe_page

router = APIRouter(tags=["unsubscribe"])

PATH = "/unsubscribe/{token}"
PAGE_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"description": "The token is not genuine, or names nobody any more (the same page whatever the cause)."}
}


def signing_secret() -> str:
    """The key unsubscribe tokens are signed with (SECRET_KEY), as a dependency."""
    return get_settings().secret_key.get_secret_value()


Secret = Annotated[str, Depends(signing_secret)]


def clock() -> datetime:
    """The time a link is followed at: whether it has expired, and when the unsubscribe happened."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(clock)]


@router.get(PATH, response_class=HTMLResponse, responses=PAGE_RESPONSES)
def unsubscribe_confirmation(token: str, secret: Secret, at: Now) -> HTMLResponse:
    """The page an unsubscribe link opens: the business, the masked address and one Unsubscribe button.

    Changes nothing (link scanners fetch every URL in a mail). An address already
    unsubscribed gets the "you're unsubscribed" page instead of the button.
    """
    who = unsubscribe.recipient(token, secret=secret, at=at)
    if who is None:
        return _html(unsubscribe_page.not_found(), 404)
    return _html(unsubscribe_page.done(who) if who.unsubscribed else unsubscribe_page.confirm(who), 200)


@router.post(PATH, response_class=HTMLResponse, responses=PAGE_RESPONSES)
def unsubscribe_now(token: str, secret: Secret, at: Now) -> HTMLResponse:
    """Unsubscribe the address the token covers, at once: the page's button and RFC 8058 one-click.

    Any body is accepted (one-click sends `List-Unsubscribe=One-Click`, form-encoded or
    multipart). The address goes on the tenant's suppression list for the token's channel
    (reason 'unsubscribe') and the lead's active recoveries stop with a transition row; a
    repeat changes nothing and answers the same 200 page.
    """
    who = unsubscribe.unsubscribe(token, secret=secret, at=at)
    if who is None:
        return _html(unsubscribe_page.not_found(), 404)
    return _html(unsubscribe_page.done(who), 200)


def _html(body: str, status: int) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=unsubscribe_page.HEADERS)
