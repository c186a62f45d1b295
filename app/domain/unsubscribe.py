"""Unsubscribe tokens: what the link in every email (and the List-Unsubscribe header) carries.

A token names the tenant, the channel and the lead, plus a keyed digest of the address the
message went to, and is signed with HMAC-SHA256 under SECRET_KEY. The address itself is never
in the token: unsubscribe URLs end up in mail logs, proxies and browser history, and a digest
is enough for the api to confirm which address to suppress (the lead's current one, or one of
the addresses we sent to). Stdlib only, so the sender and the api's /unsubscribe route share
one verifier.

Format (URL-safe, no padding): ``<tenant>.<channel>.<lead>.<address digest>.<signature>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

CHANNELS = ("email", "sms")
_DIGEST_BYTES = 9  # 72 bits: enough to tell a lead's addresses apart, short in a URL
_SIGNATURE_BYTES = 18  # 144 bits of HMAC-SHA256


@dataclass(frozen=True)
class UnsubscribeClaim:
    """What a valid token says: who asked to stop hearing from whom, on which channel."""

    tenant_id: int
    channel: str
    lead_id: int
    address_digest: str


def normalise_address(channel: str, address: str) -> str:
    """Emails compare case-insensitively; phone numbers are already E.164."""
    address = address.strip()
    return address.lower() if channel == "email" else address


def address_digest(secret: str, channel: str, address: str) -> str:
    return _b64(_mac(secret, f"address:{channel}:{normalise_address(channel, address)}")[:_DIGEST_BYTES])


def make_token(secret: str, *, tenant_id: int, channel: str, lead_id: int, address: str) -> str:
    """The signed token for the unsubscribe link of one message."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
    payload = f"{int(tenant_id)}.{channel}.{int(lead_id)}.{address_digest(secret, channel, address)}"
    return f"{payload}.{_sign(secret, payload)}"


def verify_token(secret: str, token: str) -> UnsubscribeClaim | None:
    """The claim of a genuine token, or None for anything forged, truncated or malformed."""
    parts = token.strip().split(".")
    if len(parts) != 5:
        return None
    tenant, channel, lead, digest, signature = parts
    payload = ".".join(parts[:4])
    if not hmac.compare_digest(signature, _sign(secret, payload)):
        return None
    if channel not in CHANNELS or not (tenant.isdigit() and lead.isdigit()):
        return None
    return UnsubscribeClaim(tenant_id=int(tenant), channel=channel, lead_id=int(lead), address_digest=digest)


def claim_covers(secret: str, claim: UnsubscribeClaim, address: str) -> bool:
    """True when `address` is the one the token was issued for."""
    return hmac.compare_digest(claim.address_digest, address_digest(secret, claim.channel, address))


def mask_address(channel: str, address: str) -> str:
    """Enough of an address for its owner to recognise it, too little for anyone else to use:
    `j***@example.com`, `***4567`. The unsubscribe page shows it to whoever holds the link."""
    address = normalise_address(channel, address)
    if channel == "email":
        local, at, domain = address.rpartition("@")
        return f"{local[:1]}***@{domain}" if at else "***"
    return f"***{address[-4:]}" if len(address) > 4 else "***"


def _sign(secret: str, payload: str) -> str:
    return _b64(_mac(secret, f"unsubscribe:{payload}")[:_SIGNATURE_BYTES])


def _mac(secret: str, message: str) -> bytes:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
