"""The drawer's first word on a lead no one may write to: on which channel it is suppressed, and why.

A rep about to call or text should know before anything else that the lead unsubscribed,
texted STOP, bounced or complained.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import streamlit as st

from db.suppressions import LeadSuppression

CHANNEL_NAMES = {"email": "email", "sms": "text message"}


def suppression_marks(marks: Sequence[LeadSuppression]) -> None:
    for mark in marks:
        st.warning(suppression_line(mark), icon=":material/block:")


def suppression_line(mark: LeadSuppression) -> str:
    channel = CHANNEL_NAMES.get(mark.channel, mark.channel)
    return (
        f"Suppressed ({mark.reason}): no {channel} is sent to this lead's address, "
        f"since {mark.since.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC."
    )
