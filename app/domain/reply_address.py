"""The per-message Reply-To, `reply+<token>@<reply domain>`: how an email reply finds its message.

Mail clients keep In-Reply-To/References unreliably (forwarding, "reply from another device",
privacy relays), but they always write to the Reply-To. The token names the tenant and our
message and is signed with HMAC-SHA256 under SECRET_KEY, like the unsubscribe token, so a
forged address cannot attach a reply to another tenant's lead. Lower-case hex only: some mail
systems lower-case the local part, which would break a base64 signature.

Format: ``<tenant>-<message>-<signature>``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

PREFIX = "reply+"
_SIGNATURE_HEX = 24  # 96 bits of HMAC-SHA256


@dataclass(frozen=True)
class ReplyClaim:
    tenant_id: int
    message_id: int


def make_token(secret: str, *, tenant_id: int, message_id: int) -> str:
    payload = f"{int(tenant_id)}-{int(message_id)}"
    return f"{payload}-{_sign(secret, payload)}"


def reply_address(secret: str, *, tenant_id: int, message_id: int, domain: str) -> str:
    return f"{PREFIX}{make_token(secret, tenant_id=tenant_id, message_id=message_id)}@{domain}"


def verify_token(secret: str, token: str) -> ReplyClaim | None:
    """The claim of a genuine token, else None (forged, truncated, malformed)."""
    parts = token.strip().lower().split("-")
    if len(parts) != 3 or not (parts[0].isdigit() and parts[1].isdigit()):
        return None
    payload = f"{parts[0]}-{parts[1]}"
    if not hmac.compare_digest(parts[2], _sign(secret, payload)):
        return None
    return ReplyClaim(tenant_id=int(parts[0]), message_id=int(parts[1]))


def claim_from_addresses(secret: str, addresses: list[str]) -> ReplyClaim | None:
    """The first genuine `reply+<token>@…` among the recipients of an inbound email."""
    for address in addresses:
        local = address.rpartition("@")[0].lower()
        if local.startswith(PREFIX):
            claim = verify_token(secret, local[len(PREFIX) :])
            if claim is not None:
                return claim
    return None


def _sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), f"reply:{payload}".encode(), hashlib.sha256).hexdigest()[:_SIGNATURE_HEX]
