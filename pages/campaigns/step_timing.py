"""Step 4: when the campaign starts, the hours it may send in, and its follow-ups with their triggers.

Hours are the lead's local hours (the campaign's zone for a lead with none): messages go out
inside the send window and outside the quiet hours, and SMS never before 08:00 or after 21:00
whatever is set here. Each follow-up goes out after a delay when its trigger holds since the
previous message: no reply, no open, no click, or in any case; a reply always stops the
campaign for that lead. The diagram under the form draws the plan as saved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from app.domain.plan.wizard import TRIGGERS, FollowUp
from app.services import campaign_drafts
from app.services.campaign_drafts import CampaignDraft
from components.flow import flow_diagram
from pages import session
from pages.campaigns import actions, state

P = "campaigns.w.timing."
START_MODE, START_DATE, START_TIME, ZONE = P + "start_mode", P + "start_date", P + "start_time", P + "zone"
WINDOW, QUIET_FROM, QUIET_TO, COUNT = P + "window", P + "quiet_from", P + "quiet_to", P + "count"
AT_LAUNCH, AT_TIME = "launch", "time"
MAX_FOLLOW_UPS = 5
UNITS = {"hours": 3600, "days": 86_400}
HOURS = list(range(24))
CHANNEL_NAMES = {"email": "Email", "sms": "SMS"}


def row_key(number: int, field: str) -> str:
    return f"{P}follow_up.{number}.{field}"


def row_defaults(channels: tuple[str, ...]) -> dict[str, Any]:
    return {"trigger": "no_reply", "delay": 2, "unit": "days", "channels": list(channels[:1]), "brief": ""}


def row_values(follow_up: FollowUp) -> dict[str, Any]:
    seconds = int(follow_up.after.total_seconds())
    unit = "days" if seconds % UNITS["days"] == 0 else "hours"
    return {
        "trigger": follow_up.trigger,
        "delay": seconds // UNITS[unit],
        "unit": unit,
        "channels": list(follow_up.channels),
        "brief": follow_up.brief,
    }


def seeded(draft: CampaignDraft, now: dt.datetime) -> dict[str, Any]:
    wizard = draft.wizard
    zone = _zone(wizard.timezone)
    start = (draft.starts_at or now).astimezone(zone)
    values: dict[str, Any] = {
        START_MODE: AT_TIME if draft.starts_at is not None else AT_LAUNCH,
        START_DATE: start.date(),
        START_TIME: start.time().replace(second=0, microsecond=0, tzinfo=None),
        ZONE: wizard.timezone,
        WINDOW: wizard.send_window,
        QUIET_FROM: wizard.quiet_hours[0],
        QUIET_TO: wizard.quiet_hours[1],
        COUNT: len(wizard.follow_ups),
    }
    for number in range(1, MAX_FOLLOW_UPS + 1):
        has = number <= len(wizard.follow_ups)
        row = row_values(wizard.follow_ups[number - 1]) if has else row_defaults(draft.channels)
        values.update({row_key(number, field): value for field, value in row.items()})
    return values


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def starts_at() -> dt.datetime | None:
    """The start as typed, in the campaign's zone; ValueError for a zone that does not exist."""
    if st.session_state.get(START_MODE) != AT_TIME:
        return None
    name = str(st.session_state.get(ZONE) or "")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Time zone: unknown zone '{name}' (an IANA name such as 'America/Chicago')") from None
    return dt.datetime.combine(st.session_state[START_DATE], st.session_state[START_TIME], tzinfo=zone)


def follow_ups() -> list[FollowUp]:
    rows = []
    for number in range(1, int(st.session_state.get(COUNT) or 0) + 1):
        seconds = (
            int(st.session_state[row_key(number, "delay")]) * UNITS[str(st.session_state[row_key(number, "unit")])]
        )
        rows.append(
            FollowUp(
                trigger=str(st.session_state[row_key(number, "trigger")]),
                after=dt.timedelta(seconds=seconds),
                channels=tuple(st.session_state[row_key(number, "channels")]),
                brief=str(st.session_state[row_key(number, "brief")] or ""),
            )
        )
    return rows


def save(tenant_id: int, campaign_id: int, then: int | None) -> None:
    window = st.session_state.get(WINDOW) or (8, 20)
    actions.submit(
        lambda: campaign_drafts.save_timing(
            tenant_id=tenant_id,
            campaign_id=campaign_id,
            operator_id=actions.operator(),
            starts_at=starts_at(),
            timezone=str(st.session_state.get(ZONE) or "").strip(),
            send_window=(int(window[0]), int(window[1])),
            quiet_hours=(int(st.session_state[QUIET_FROM]), int(st.session_state[QUIET_TO])),
            follow_ups=follow_ups(),
        ),
        then,
    )


def render(tenant_id: int, draft: CampaignDraft) -> None:
    state.seed_once(draft.id, 4, lambda: seeded(draft, session.now()))
    channels = draft.wizard.channels or ("email", "sms")
    st.number_input("Follow-ups", min_value=0, max_value=MAX_FOLLOW_UPS, step=1, key=COUNT)
    with st.form("campaigns.w4"):
        st.radio(
            "Start",
            [AT_LAUNCH, AT_TIME],
            key=START_MODE,
            horizontal=True,
            format_func=lambda m: "When I launch" if m == AT_LAUNCH else "At a set time",
        )
        day, hour, zone = st.columns(3)
        day.date_input("Start date", key=START_DATE)
        hour.time_input("Start time", key=START_TIME, step=dt.timedelta(minutes=15))
        zone.text_input("Time zone", key=ZONE, help="For the start, and the hours of a lead without a zone of its own.")
        st.slider("Send window (local hours)", 0, 24, key=WINDOW, help="Messages go out from … until … o'clock.")
        left, right = st.columns(2)
        left.selectbox("Quiet hours from", HOURS, key=QUIET_FROM, format_func=lambda h: f"{h:02d}:00")
        right.selectbox(
            "Quiet hours until",
            HOURS,
            key=QUIET_TO,
            format_func=lambda h: f"{h:02d}:00",
            help="Nothing goes out in between; the same hour twice means no quiet hours.",
        )
        for number in range(1, int(st.session_state.get(COUNT) or 0) + 1):
            follow_up_row(number, channels)
        back, diagram, nxt = st.columns(3)
        back.form_submit_button("Back", key="campaigns.w4.back", on_click=save, args=(tenant_id, draft.id, 3))
        diagram.form_submit_button(
            "Update diagram", key="campaigns.w4.save", on_click=save, args=(tenant_id, draft.id, None)
        )
        nxt.form_submit_button(
            "Save & next", key="campaigns.w4.next", type="primary", on_click=save, args=(tenant_id, draft.id, 5)
        )
    st.subheader("The flow")
    flow_diagram(draft.plan)


def follow_up_row(number: int, channels: tuple[str, ...]) -> None:
    defaults = row_defaults(channels)
    for field, value in defaults.items():
        state.ensure(row_key(number, field), value)
    st.markdown(f"**Follow-up {number}**")
    trigger, delay, unit, on = st.columns([2, 1, 1, 2])
    trigger.selectbox("If", list(TRIGGERS), key=row_key(number, "trigger"), format_func=TRIGGERS.__getitem__)
    delay.number_input("after", min_value=1, step=1, key=row_key(number, "delay"))
    unit.selectbox("unit", list(UNITS), key=row_key(number, "unit"), label_visibility="hidden")
    on.multiselect("by", list(CHANNEL_NAMES), key=row_key(number, "channels"), format_func=CHANNEL_NAMES.__getitem__)
    st.text_input("Brief", key=row_key(number, "brief"), placeholder="a short, friendly nudge")
