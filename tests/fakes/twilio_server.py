"""A local Twilio Messages API for the real `twilio` SDK.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP Basic auth with
the account SID and auth token, answers 201 with the Message resource JSON (`sid` SM…,
`status: queued`); errors use Twilio's shape (`code`, `message`, `more_info`, `status`).
Calls are counted per `To` number (tests give each row its own number).

Run alone (`python -m tests.fakes.twilio_server [--port N] [--delay S]`) it prints its URL and
serves until killed; `GET /_fake/stats` returns the counts.
"""

from __future__ import annotations

import argparse
import base64
import math
import re
import secrets
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.http_fake import FakeServer, Reply, serve_forever_cli

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "fake-auth-token"
MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json$")


def error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return Reply.json(status, {"code": code, "message": message, "more_info": more_info, "status": status}, headers)


def too_many_requests(retry_after: int = 1) -> Reply:
    return error(429, 20429, "Too Many Requests", {"Retry-After": str(retry_after)})


def server_error(status: int = 500) -> Reply:
    return error(status, 20500, "Internal Server Error")


def unavailable() -> Reply:
    """503: Twilio refused the request before processing it."""
    return error(503, 20503, "Service Unavailable")


def invalid_number(number: str = "") -> Reply:
    return error(400, 21211, f"Invalid 'To' Phone Number: {number}")


class FakeTwilio(FakeServer):
    def __init__(self, *, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.refusals: dict[str, Reply] = {}

    def refuse(self, number: str, reply: Reply) -> None:
        """Answer every message to `number` with `reply` (whichever order concurrent sends arrive in)."""
        self.refusals[number] = reply

    def rate_limited(self, until: float, now: float) -> Reply:
        """Twilio's 429 (error 20429) says how long to wait in `Retry-After`, in seconds."""
        return too_many_requests(retry_after=math.ceil(until - now))

    def forms(self) -> list[dict[str, str]]:
        """Every received message form, one value per field."""
        return [_form(r.body) for r in self.requests if r.message_keys]

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[list[Any], Reply]:
        match = MESSAGES.match(path)
        if method != "POST" or not match:
            return [], error(404, 20404, "The requested resource was not found")
        if match["sid"] != self.account_sid or not self._authorized(headers.get("Authorization", "")):
            return [], error(401, 20003, "Authenticate")
        form = _form(body)
        if not form.get("To"):
            return [], error(400, 21604, "A 'To' phone number is required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return [], error(400, 21603, "A 'From' phone number is required.")
        if not (form.get("Body") or form.get("MediaUrl")):
            return [], error(400, 21602, "Message body is required.")
        refusal = self.refusals.get(form["To"])
        if refusal is not None:
            return [form["To"]], refusal
        return [form["To"]], Reply.json(201, self._resource(form))

    def _authorized(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return header == f"Basic {expected}"

    def _resource(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": form["To"],
            "uri": uri,
        }


def _form(body: bytes) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(body.decode(), keep_blank_values=True).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    serve_forever_cli(FakeTwilio(port=args.port, delay=args.delay))


if __name__ == "__main__":
    main()
