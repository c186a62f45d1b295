"""What a lead's figures mean, and why it scores what it does: the help texts of every lead table
and the score breakdown, part by part, that the page and the lead drawer both show.

The breakdown is recomputed from the lead's signals (cached briefly); the yardstick of its
`value` part is one pass over the tenant's leads, so it is read rarely.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app.domain.scoring import Score
from app.services import scoring
from components import tables
from pages import session

SCORE_HELP = (
    "Intent score, 0-100: how likely the lead is to buy now (recency, engagement, replies, value, source, stage)."
)
VALUE_HELP = "The deal value recorded on the lead: what winning it back is worth."
DAYS_HELP = "Days since the lead's last activity (anything they did or we logged for them)."
RUNG_HELP = "The last rung of the silence ladder the lead was contacted at (0: never)."


def score_breakdown(tenant_id: int, lead_id: int) -> Score:
    return lead_score(tenant_id, lead_id, deal_value_p80(tenant_id), session.pinned_clock())


@st.cache_data(ttl=dt.timedelta(minutes=5), show_spinner=False)
def deal_value_p80(tenant_id: int) -> float:
    """The yardstick of every breakdown's `value` part: one pass over the tenant's leads, so read rarely."""
    return scoring.deal_value_p80(tenant_id=tenant_id)


@st.cache_data(ttl=dt.timedelta(seconds=30), show_spinner=False, max_entries=256)
def lead_score(tenant_id: int, lead_id: int, p80: float, now: dt.datetime | None = None) -> Score:
    return scoring.score_breakdown(tenant_id=tenant_id, lead_id=lead_id, p80=p80, now=now)


def breakdown_table(result: Score, *, key: str) -> None:
    st.caption(
        f"Score now: {result.total} of 100 (recomputed from the lead's signals)",
        help="The stored score is refreshed by the scoring agent; this one is computed from the lead's signals now.",
    )
    parts = pd.DataFrame([(p.name, p.points, p.why) for p in result.parts], columns=["part", "points", "why"])
    tables.data_table(
        parts,
        {
            "part": tables.text_column("Part"),
            "points": tables.number_column("Points", help="Points this part adds to the 0-100 score."),
            "why": tables.text_column("Why"),
        },
        empty=("No breakdown", "Pick a lead."),
        key=key,
    )
