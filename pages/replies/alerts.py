"""The owner alert as a console toast: shown on whichever page the rep opens or refreshes.

The router calls `toast_alerts` on every run once someone is signed in; the service marks each
alert shown as it hands it over, so a toast appears once (`app/services/reply_alerts.py`). The
lead's name is CRM text: escaped, never Markdown.
"""

from __future__ import annotations

import streamlit as st

from app.services import reply_alerts
from app.services.reply_alerts import Alert
from components import format as fmt
from pages import session

WHAT = {"interested": "is interested", "question": "asked a question"}
TOASTS = 4
"""Toasts of their own at most; more alerts at once (back from a week off) make one more toast that counts them."""


def alert_line(alert: Alert) -> str:
    """One toast's words: who, what, on which channel, and where to answer."""
    what = WHAT.get(alert.intent or "", "replied: please read it")
    channel = "SMS" if alert.channel == "sms" else "email"
    return f"{fmt.plain(alert.lead)} {what} ({channel}). It is at the top of the Replies inbox."


def toast_alerts() -> None:
    """Toast the signed-in operator's new alerts in the tenant they are looking at."""
    who, tenant_id = session.identity(), st.session_state.get(session.TENANT)
    if who is None or not isinstance(tenant_id, int) or not who.can_see(tenant_id):
        return
    alerts = reply_alerts.take_alerts(tenant_id=tenant_id, operator_id=who.operator_id, now=session.now())
    for alert in alerts[:TOASTS]:
        st.toast(alert_line(alert), icon=":material/mark_chat_unread:")
    if len(alerts) > TOASTS:
        st.toast(more_line(len(alerts) - TOASTS), icon=":material/mark_chat_unread:")


def more_line(count: int) -> str:
    return f"{count} more new {'reply' if count == 1 else 'replies'} to answer, at the top of the Replies inbox."
