"""The footer every commercial email carries: who sent it, where they are, how to stop it.

CAN-SPAM wants a valid physical postal address and a working opt-out in every message; the
sender appends this to the body the writer produced, so no draft can forget it.
"""

from __future__ import annotations


def email_footer(*, sender_name: str, physical_address: str, unsubscribe_url: str) -> str:
    lines = ["", "--"]
    if sender_name.strip():
        lines.append(sender_name.strip())
    if physical_address.strip():
        lines.append(" ".join(physical_address.split()))
    lines.append(f"Unsubscribe: {unsubscribe_url}")
    return "\n".join(lines)


def with_footer(body: str, footer: str) -> str:
    return f"{body.rstrip()}\n{footer}"
