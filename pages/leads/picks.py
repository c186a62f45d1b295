"""Which lead the drawer shows. Whichever of the call list, the table or the map picked a lead
last decides: each source's pick is remembered, and only a *new* pick there moves the drawer."""

from __future__ import annotations

import streamlit as st

DRAWER = "leads.drawer"  # the id of the lead the drawer shows
PICKS = "leads.drawer.picks"  # {source: the lead id picked there at the last run}


def note_pick(source: str, lead_id: int | None) -> None:
    """Open the drawer on `lead_id` when it is a new pick in `source` (the queue, the table, the map)."""
    picks = st.session_state.setdefault(PICKS, {})
    if lead_id is not None and picks.get(source) != lead_id:
        st.session_state[DRAWER] = lead_id
        if source == "table":  # the drawer opens further down the page, under the call list
            st.toast("Opened in the lead drawer, under the call list.", icon=":material/south:")
    picks[source] = lead_id


def open_drawer(lead_id: int) -> None:
    st.session_state[DRAWER] = lead_id


def close_drawer() -> None:
    st.session_state.pop(DRAWER, None)
