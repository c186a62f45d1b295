"""What the Campaigns page keeps in the session between runs: the campaign open in the wizard and
its step, a message to show after a move, the kill awaiting confirmation, and the leads handed
over from the lead map.

Why a module of its own: values stored by one run must keep their type in the next (see
`pages/recovery_actions.py`), and the widgets' keys are named in one place. Every step's
widgets are seeded from the saved draft when the step opens (`seed_once`), never given a
default as well, so what a form shows is what was saved, and Back or Next loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from pages import session

OPEN = "campaigns.open"
STEP = "campaigns.step"
SEEDED = "campaigns.seeded"
FLASH = "campaigns.flash"
CONFIRM_KILL = "campaigns.confirm_kill"
HANDOFF = "campaigns.handoff"
PICKED = "campaigns.picked"
STEPS = ("Channels", "Audience", "Message", "Timing", "Review")


@dataclass(frozen=True)
class Flash:
    kind: Literal["success", "info", "error"]
    text: str


@dataclass(frozen=True)
class LeadHandoff:
    """Leads selected on the lead map for a campaign ("Add to campaign")."""

    tenant_id: int
    lead_ids: tuple[int, ...]


def open_campaign(campaign_id: int, step: int = 1) -> None:
    st.session_state[OPEN] = campaign_id
    go(step)


def close() -> None:
    st.session_state[OPEN] = None
    st.session_state[SEEDED] = None


def opened() -> int | None:
    value = st.session_state.get(OPEN)
    return value if isinstance(value, int) else None


def step() -> int:
    value = st.session_state.get(STEP, 1)
    return value if isinstance(value, int) and 1 <= value <= len(STEPS) else 1


def go(number: int) -> None:
    """Open step `number`; its widgets are seeded afresh from the saved draft."""
    st.session_state[STEP] = number
    st.session_state[SEEDED] = None


def flash(kind: Literal["success", "info", "error"], text: str) -> None:
    st.session_state[FLASH] = Flash(kind, text)


def show_flash() -> None:
    """The message a callback left, once."""
    message = st.session_state.pop(FLASH, None)
    if isinstance(message, Flash):
        {"success": st.success, "info": st.info, "error": st.error}[message.kind](message.text)


def seed_once(campaign_id: int, number: int, values: Callable[[], Mapping[str, Any]]) -> None:
    """Put the saved draft's values in the step's widget keys, once per opening of the step."""
    if st.session_state.get(SEEDED) == (campaign_id, number):
        return
    for key, value in values().items():
        st.session_state[key] = value
    st.session_state[SEEDED] = (campaign_id, number)


def ensure(key: str, default: Any) -> None:
    """A widget key with no value yet (a follow-up row just added) starts at `default`."""
    if key not in st.session_state:
        st.session_state[key] = default


def handoff(tenant_id: int) -> LeadHandoff | None:
    value = st.session_state.get(HANDOFF)
    return value if isinstance(value, LeadHandoff) and value.tenant_id == tenant_id else None


def operator_id() -> int | None:
    who = session.identity()
    return who.operator_id if who is not None else None
