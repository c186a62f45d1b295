"""The tenant's part of every lead's context: what it offers, its own domains and number, its SMS length.

Read by the write service for each batch, by the campaign wizard's AI draft and by its audience
preview, so a draft is held to the same facts wherever it is written or previewed. The
unsubscribe link is the only link of ours (not the tenant's) a message may carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.channels import registry
from app.domain.message_settings import MessageSettings, normal_domain
from app.settings import get_settings


def voice(
    *, tenant_settings: Mapping[str, Any] | None, sender_email: str | None, sender_phone: str | None
) -> dict[str, Any]:
    """The `LeadContext` fields that come from the tenant: offer, phone, own domains and links, SMS segments."""
    chosen = MessageSettings.from_settings(tenant_settings)
    sender_domain = normal_domain(sender_email.rsplit("@", 1)[-1]) if sender_email and "@" in sender_email else None
    domains = tuple(dict.fromkeys([*chosen.domains, *([sender_domain] if sender_domain else [])]))
    return {
        "offer": chosen.offer,
        "sender_phone": (sender_phone or "").strip(),
        "own_domains": domains,
        "own_links": (registry.public_url(get_settings(), "/unsubscribe/"),),
        "sms_max_segments": chosen.sms_max_segments,
    }


def voice_of(row: Mapping[Any, Any]) -> dict[str, Any]:
    """`voice` from a row that selected `t.settings AS tenant_settings, t.sender_email, t.sender_phone`."""
    return voice(
        tenant_settings=row["tenant_settings"], sender_email=row["sender_email"], sender_phone=row["sender_phone"]
    )
