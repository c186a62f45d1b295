"""A local SendGrid v3 Mail Send API for the real `sendgrid` SDK.

`POST /v3/mail/send` with `Authorization: Bearer <key>` and a JSON body answers 202 with an
`X-Message-Id` header, as SendGrid does; it refuses with SendGrid's 400 error shape what the
real API refuses (no personalizations, more than 1,000, an address twice, no from, no
content, a reply_to that is no address, a reserved header such as Reply-To in a
personalization). Calls are counted per our message id, read from each personalization's
`custom_args.message_id`. `delivered()` shows each email as its recipient gets it: the
personalization's substitutions applied to the content, the subject and the reply-to, as the
v3 reference says they are.

Run alone (`python -m tests.fakes.sendgrid_server [--port N] [--delay S]`) it prints its URL
and serves until killed; `GET /_fake/stats` returns the counts.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import secrets
from typing import Any

from tests.fakes.http_fake import FakeServer, Reply, serve_forever_cli

API_KEY = "SG.fake-key"
RESERVED_HEADERS = frozenset(
    {
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "content-type",
        "content-transfer-encoding",
        "to",
        "from",
        "subject",
        "reply-to",
        "cc",
        "bcc",
    }
)
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def error(status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None) -> Reply:
    return Reply.json(status, {"errors": [{"message": message, "field": field, "help": None}]}, headers)


def too_many_requests(retry_after: int | None = 1, reset_at: int | None = None) -> Reply:
    """SendGrid's 429: `X-RateLimit-Reset` is the epoch second the quota refills (with its
    Limit and Remaining companions), `Retry-After` the seconds to wait; either may be absent."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if reset_at is not None:
        headers |= {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset_at)}
    return error(429, "too many requests", headers=headers)


def server_error(status: int = 500) -> Reply:
    return error(status, "internal error")


def unavailable(retry_after: int | None = None) -> Reply:
    """503: SendGrid refused the request before processing it."""
    return error(503, "service unavailable", headers={"Retry-After": str(retry_after)} if retry_after else None)


def bad_request(message: str = "The from address does not match a verified Sender Identity.") -> Reply:
    return error(400, message, "from")


class FakeSendGrid(FakeServer):
    def __init__(self, *, api_key: str = API_KEY, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_key = api_key

    def rate_limited(self, until: float, now: float) -> Reply:
        """Both headers, as SendGrid sends them: the reset as an epoch second, the wait in seconds."""
        return too_many_requests(retry_after=math.ceil(until - now), reset_at=math.ceil(until))

    def mails(self) -> list[dict[str, Any]]:
        """Every accepted-shape request body received, parsed."""
        return [json.loads(r.body) for r in self.requests if r.path == "/v3/mail/send" and r.message_keys]

    def delivered(self) -> list[dict[str, Any]]:
        """Each accepted email as its recipient receives it: to, reply_to, subject and body, substituted."""
        return [rendered(mail, p) for mail in self.mails() for p in mail["personalizations"]]

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[list[Any], Reply]:
        if (method, path) != ("POST", "/v3/mail/send"):
            return [], error(404, "not found")
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return [], error(401, "The provided authorization grant is invalid, expired, or revoked")
        try:
            mail = json.loads(body)
        except ValueError:
            return [], error(400, "Bad Request")
        problem = validate(mail)
        if problem:
            return [], error(400, problem)
        keys = [p.get("custom_args", {}).get("message_id") for p in mail["personalizations"]]
        return keys, Reply(202, {"X-Message-Id": secrets.token_urlsafe(16)})


def validate(mail: dict[str, Any]) -> str | None:
    """The first reason the real API would refuse this body, or None."""
    personalizations = mail.get("personalizations") or []
    if not personalizations:
        return "You must have at least one personalization."
    if len(personalizations) > 1000:
        return "The personalization block is limited to 1000 personalizations per API request."
    addresses = [to.get("email", "").lower() for p in personalizations for to in p.get("to") or []]
    if len(addresses) < len(personalizations) or not all(addresses):
        return "The to parameter is required for all personalization objects."
    if len(set(addresses)) != len(addresses):
        return "Each unique email address in the personalizations array should only be included once."
    if not (mail.get("from") or {}).get("email"):
        return "The from object must be provided for every email send."
    if not mail.get("content") and not mail.get("template_id"):
        return "Unless a valid template_id is provided, the content parameter is required."
    if not mail.get("subject") and not all(p.get("subject") for p in personalizations):
        return "The subject is required."
    reply_to = mail.get("reply_to")
    if reply_to is not None and not _ADDRESS.fullmatch(str(reply_to.get("email", ""))):
        return "The reply_to email does not contain a valid address."
    if any(name.lower() in RESERVED_HEADERS for p in personalizations for name in p.get("headers") or {}):
        return "Header can not be one of the reserved keys."
    return None


def rendered(mail: dict[str, Any], personalization: dict[str, Any]) -> dict[str, Any]:
    """One personalization's email, its substitutions applied to the content, subject and reply-to."""
    subs = personalization.get("substitutions") or {}

    def substitute(text: str | None) -> str | None:
        for tag, value in subs.items():
            text = None if text is None else text.replace(tag, value)
        return text

    return {
        "to": [to["email"] for to in personalization["to"]],
        "reply_to": substitute((mail.get("reply_to") or {}).get("email")),
        "subject": substitute(personalization.get("subject") or mail.get("subject")),
        "body": substitute(mail["content"][0]["value"]),
        "custom_args": personalization.get("custom_args") or {},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    serve_forever_cli(FakeSendGrid(port=args.port, delay=args.delay))


if __name__ == "__main__":
    main()
