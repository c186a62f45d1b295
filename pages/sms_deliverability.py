"""The Agents page's SMS deliverability figure: texts carriers filtered (Twilio 30007).

Its own module so the Agents page stays small and the email side of deliverability can sit
beside it without either touching the other.
"""

from __future__ import annotations

from components import format as fmt
from components.metrics import Card, metric_cards
from pages import data, session

CARRIER_FILTERED_LABEL = "Carrier filtered (30007), last 24 h"


def carrier_filtered_card(tenant_id: int) -> Card:
    count = data.carrier_filtered(tenant_id, session.pinned_clock())
    return Card(
        CARRIER_FILTERED_LABEL,
        fmt.count(count),
        "Texts that Twilio reported undelivered with error 30007 in the last 24 hours: a carrier filtered "
        "them as spam or unregistered traffic. Rising means the wording or the number's A2P 10DLC "
        "registration needs attention; sending more of the same makes it worse.",
    )


def section(tenant_id: int) -> None:
    """SMS deliverability, as cards in a row."""
    metric_cards([carrier_filtered_card(tenant_id)])
