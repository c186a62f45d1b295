"""Sending rate limits: per tenant, per sender identity and per recipient domain.

Each limit is a token bucket (a sustained rate and a burst). Mailbox providers throttle a
sender that floods one domain, carriers cap a long-code number near one SMS a second, and a
tenant's whole volume is bounded so one customer cannot starve the others. A tenant may
override any limit in `tenants.settings["rate_limits"]`, e.g.
``{"email_domain": {"per_second": 5, "burst": 50}}``; an unusable value falls back to the
default rather than stopping every send of the tenant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limit:
    """A token bucket: `burst` tokens at most, refilled at `per_second`."""

    per_second: float
    burst: int


@dataclass(frozen=True)
class Bucket:
    """One bucket a message must take a token from, by its Redis key."""

    key: str
    limit: Limit


DEFAULT_LIMITS: dict[str, Limit] = {
    "tenant": Limit(per_second=100.0, burst=500),
    "email_sender": Limit(per_second=50.0, burst=200),
    "sms_sender": Limit(per_second=1.0, burst=20),
    "email_domain": Limit(per_second=20.0, burst=100),
}


def limits_for(tenant_settings: Mapping[str, Any] | None) -> dict[str, Limit]:
    """The tenant's limits: its overrides where usable, the defaults elsewhere."""
    overrides = (tenant_settings or {}).get("rate_limits") or {}
    if not isinstance(overrides, Mapping):
        return dict(DEFAULT_LIMITS)
    return {name: _parse(overrides.get(name), default) for name, default in DEFAULT_LIMITS.items()}


def _parse(raw: object, default: Limit) -> Limit:
    if not isinstance(raw, Mapping):
        return default
    try:
        per_second = float(raw.get("per_second", default.per_second))
        burst = int(raw.get("burst", default.burst))
    except (TypeError, ValueError):
        return default
    if per_second <= 0 or burst < 1:
        return default
    return Limit(per_second=per_second, burst=burst)


def recipient_domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().lower()


def buckets_for(
    *, tenant_id: int, channel: str, sender: str, to_address: str, limits: Mapping[str, Limit]
) -> list[Bucket]:
    """Every bucket one message draws from.

    The sender bucket is keyed by the identity alone, not the tenant: a number or address
    shared by tenants is one pipe at the carrier or mailbox provider.
    """
    buckets = [
        Bucket(f"lre:rl:tenant:{tenant_id}", limits["tenant"]),
        Bucket(f"lre:rl:sender:{channel}:{sender.lower()}", limits[f"{channel}_sender"]),
    ]
    if channel == "email":
        domain = recipient_domain(to_address)
        buckets.append(Bucket(f"lre:rl:domain:{tenant_id}:{domain}", limits["email_domain"]))
    return buckets
