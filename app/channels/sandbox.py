"""The default provider: nothing leaves the machine.

A demo or a fresh install must never email a real person. The sandbox accepts every message
and names it `sandbox-<uuid>`; the outbox row (status `sent`, that id, the body) is the record
the console shows. Because no one can have received a sandbox message, a sandbox row lost
mid-send may simply be sent again (`reaches_people = False`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.channels.base import OutgoingMessage, SendResult


class SandboxProvider:
    reaches_people = False

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.name = "sandbox"

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return [SendResult.accepted(message.message_id, f"sandbox-{uuid.uuid4()}") for message in messages]
