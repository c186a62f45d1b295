"""What several sections of the Leads page say and decide alike: the figures' help texts, the
row-click table that opens the drawer, and whether the signed-in operator may act."""

from __future__ import annotations

import pandas as pd

from components import tables
from pages import session

VIEWER_ROLE = "viewer"
SCORE_HELP = (
    "Intent score, 0-100: how likely the lead is to buy now (recency, engagement, replies, value, source, stage)."
)
VALUE_HELP = "The deal value recorded on the lead: what winning it back is worth."
DAYS_HELP = "Days since the lead's last activity (anything they did or we logged for them)."
RUNG_HELP = "The last rung of the silence ladder the lead was contacted at (0: never)."


def picked_row(frame: pd.DataFrame, columns: dict[str, tables.Column], *, key: str) -> int | None:
    """A table whose rows open the drawer: returns the lead id of the clicked row, or None."""
    rows = tables.selectable_table(frame, columns, empty=("", ""), key=key, single=True)
    return int(frame["id"].iloc[rows[0]]) if rows else None


def may_act() -> bool:
    who = session.identity()
    return who is not None and who.role != VIEWER_ROLE
