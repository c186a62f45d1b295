"""Unsubscribe tokens: what the link in every email (and the List-Unsubscribe header) carries.

A token names the tenant, the channel and the lead, plus a keyed digest of the address the
message went to, and is signed with HMAC-SHA256 under SECRET_KEY. The address itself is never
in the token: unsubscribe URLs end up in mail logs, proxies and browser history, and a digest
is enough for the api to confirm which address to suppress (the lead's current one, or one of
the addresses we sent to). Stdlib only, so the sender and the api's /unsubscribe route share
one verifier.

Format (URL-safe, no padding): ``<tenant>.<channel>.<lead>.<issued>.<address digest>.<signature>``,
`issued` being the day the message was written, in days since 1970-01-01 (UTC), under the
signature. A token works for at least `MIN_VALID_DAYS` after that day (CAN-SPAM asks for 30
days after the message; Gmail and Yahoo expect the link to keep working) and stops working after
the period its tenant sets (`tenants.unsubscribe_link_days`, 365 by default), so a link left in an
old mailbox or a forwarded mail no longer names the lead and their masked address forever.

Tokens issued before they carried a date (``<tenant>.<channel>.<lead>.<digest>.<signature>``)
are still honoured, without an age: their day is unknown, they are at most as old as this
change, and refusing one would keep mailing a person who asked us to stop, from a message we may
have sent last week. Honouring an unsubscribe can only stop mail; it never starts any. They
cannot be made any more, so they die out with the mail that carries them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

CHANNELS = ("email", "sms")
EPOCH = date(1970, 1, 1)
MIN_VALID_DAYS = 60  # CAN-SPAM's 30 days after the message, doubled
DEFAULT_VALID_DAYS = 365
MAX_VALID_DAYS = 3650
_DIGEST_BYTES = 9  # 72 bits: enough to tell a lead's addresses apart, short in a URL
_SIGNATURE_BYTES = 18  # 144 bits of HMAC-SHA256


@dataclass(frozen=True)
class UnsubscribeClaim:
    """What a valid token says: who asked to stop hearing from whom, on which channel."""

    tenant_id: int
    channel: str
    lead_id: int
    address_digest: str
    issued: date | None = None
    """The day the link was written; None for a token from before links carried one."""

    def expired(self, today: date, valid_days: int) -> bool:
        """Past the tenant's period (never less than `MIN_VALID_DAYS`); an undated token never is."""
        if self.issued is None:
            return False
        return today > self.issued + timedelta(days=max(valid_days, MIN_VALID_DAYS))


def normalise_address(channel: str, address: str) -> str:
    """Emails compare case-insensitively; phone numbers are already E.164."""
    address = address.strip()
    return address.lower() if channel == "email" else address


def address_digest(secret: str, channel: str, address: str) -> str:
    return _b64(_mac(secret, f"address:{channel}:{normalise_address(channel, address)}")[:_DIGEST_BYTES])


def make_token(secret: str, *, tenant_id: int, channel: str, lead_id: int, address: str, issued: date) -> str:
    """The signed token for the unsubscribe link of one message written on `issued`."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
    day = (issued - EPOCH).days
    payload = f"{int(tenant_id)}.{channel}.{int(lead_id)}.{day}.{address_digest(secret, channel, address)}"
    return f"{payload}.{_sign(secret, payload)}"


def verify_token(secret: str, token: str) -> UnsubscribeClaim | None:
    """The claim of a genuine token, dated or from before dates, or None for anything forged,
    truncated or malformed. Whether it has expired is the caller's question (`claim.expired`):
    the period is the tenant's."""
    parts = token.strip().split(".")
    if len(parts) not in (5, 6):
        return None
    payload, signature = ".".join(parts[:-1]), parts[-1]
    if not hmac.compare_digest(signature, _sign(secret, payload)):
        return None
    tenant, channel, lead, *day, digest = parts[:-1]
    if channel not in CHANNELS or not (tenant.isdigit() and lead.isdigit() and all(d.isdigit() for d in day)):
        return None
    issued = _day(day[0]) if day else None
    if day and issued is None:
        return None
    return UnsubscribeClaim(
        tenant_id=int(tenant), channel=channel, lead_id=int(lead), address_digest=digest, issued=issued
    )


def _day(text: str) -> date | None:
    try:
        return EPOCH + timedelta(days=int(text))
    except OverflowError:
        return None


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
