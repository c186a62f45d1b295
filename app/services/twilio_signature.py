"""Is this request really from Twilio? `X-Twilio-Signature`, checked with the SDK's own validator.

Twilio signs the URL it called plus the sorted form fields with HMAC-SHA1 under the account's
auth token. The URL must be the one Twilio called (`PUBLIC_BASE_URL` + path + query), not
the one uvicorn sees behind a proxy or a tunnel (another host, http instead of https), or
every genuine request would fail.

Without an auth token nothing can be verified, so nothing is accepted: an unsigned text could
otherwise opt anyone out, or in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from twilio.request_validator import RequestValidator

from app import webhook_keys
from app.settings import Settings

SIGNATURE_HEADER = "x-twilio-signature"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str | None = None
    """Why the request was refused (stored with the rejected delivery); None when it passed."""


class _Fields:
    """The form's fields as the validator reads them: every value of a repeated field counts."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self._pairs])

    def getall(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


def auth_token(settings: Settings) -> str | None:
    """The secret Twilio signs with: the account's, or the demo's while SMS is sandboxed (`app/webhook_keys.py`)."""
    return webhook_keys.twilio_auth_token(settings)


def called_url(settings: Settings, path: str, query: str) -> str:
    """The URL as Twilio called it: the public base, the route's path, the query as sent."""
    base = str(settings.public_base_url).rstrip("/")
    return f"{base}{path}" + (f"?{query}" if query else "")


def verify(settings: Settings, *, url: str, fields: Sequence[tuple[str, str]], headers: Mapping[str, str]) -> Verdict:
    """Whether the signature in `headers` is Twilio's for this URL and these form fields."""
    token = auth_token(settings)
    if not token:
        return Verdict(False, "no Twilio auth token configured: signatures cannot be checked")
    signature = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
    if not signature:
        return Verdict(False, "missing X-Twilio-Signature")
    if not RequestValidator(token).validate(url, _Fields(fields), signature):
        return Verdict(False, "X-Twilio-Signature does not match")
    return Verdict(True)
