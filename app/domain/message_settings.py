"""What a tenant lets its messages say and how long its texts may run, kept in `tenants.settings`.

Under `tenants.settings["messages"]`, e.g.
``{"offer": "Free site survey this month", "domains": ["brighthomes.com"], "sms_max_segments": 2}``:
- `offer`: the tenant's own words about what it offers; a price, percentage, offer or deadline
  in a draft is allowed only when the tenant's facts (this text among them) carry it;
- `domains`: the tenant's web domains, the only ones a draft may link to (besides the domain of
  its sender address and the unsubscribe link);
- `sms_max_segments`: 1 (the default: every rung's SMS fits one billed segment) or 2.
An unusable value falls back to its default rather than stopping the tenant's sends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SETTINGS_KEY = "messages"
MAX_SMS_SEGMENTS = 2
OFFER_MAX_CHARS = 500
DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")


@dataclass(frozen=True)
class MessageSettings:
    offer: str = ""
    domains: tuple[str, ...] = ()
    sms_max_segments: int = 1

    @classmethod
    def from_settings(cls, tenant_settings: Mapping[str, Any] | None) -> MessageSettings:
        raw = (tenant_settings or {}).get(SETTINGS_KEY)
        if not isinstance(raw, Mapping):
            return cls()
        offer = raw.get("offer")
        segments = raw.get("sms_max_segments")
        return cls(
            offer=offer.strip()[:OFFER_MAX_CHARS] if isinstance(offer, str) else "",
            domains=tuple(d for d in (normal_domain(x) for x in _strings(raw.get("domains"))) if d),
            sms_max_segments=segments if isinstance(segments, int) and 1 <= segments <= MAX_SMS_SEGMENTS else 1,
        )

    def to_settings(self) -> dict[str, Any]:
        return {"offer": self.offer, "domains": list(self.domains), "sms_max_segments": self.sms_max_segments}


def normal_domain(value: str) -> str | None:
    """`value` as a bare lower-case domain (scheme, `www.` and path dropped), or None when it is not one."""
    host = re.sub(r"^[a-z]+://", "", value.strip().lower()).split("/", 1)[0].removeprefix("www.")
    return host if DOMAIN.match(host) else None


def parse(*, offer: str, domains: str, sms_max_segments: int) -> MessageSettings:
    """The settings an operator typed; ValueError naming the field that is wrong."""
    if not 1 <= sms_max_segments <= MAX_SMS_SEGMENTS:
        raise ValueError(f"SMS segments: 1 or {MAX_SMS_SEGMENTS}")
    if len(offer.strip()) > OFFER_MAX_CHARS:
        raise ValueError(f"Offer: at most {OFFER_MAX_CHARS} characters")
    if "\x00" in offer:  # PostgreSQL's jsonb cannot store it: refused here, by name, not by the database
        raise ValueError("Offer: remove the invisible NUL character, which cannot be stored")
    names = [d for d in re.split(r"[\s,]+", domains) if d]
    parsed = [normal_domain(d) for d in names]
    bad = [name for name, d in zip(names, parsed, strict=True) if d is None]
    if bad:
        raise ValueError(f"Domains: {bad[0]!r} is not a domain such as example.com")
    return MessageSettings(offer.strip(), tuple(d for d in parsed if d), sms_max_segments)


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list | tuple) else []
