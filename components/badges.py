"""Small coloured labels for statuses, intents, priorities and modes.

Badges show only our own vocabulary (enum values checked by the database, or fixed labels);
anything else is reduced to plain letters first, because badge text is rendered as Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

import streamlit as st

Color = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "primary"]

CAMPAIGN_STATUS: Mapping[str, Color] = {
    "running": "green",
    "scheduled": "blue",
    "paused": "orange",
    "draft": "gray",
    "completed": "violet",
    "archived": "gray",
}
PRIORITY: Mapping[str, Color] = {"high": "red", "medium": "orange", "low": "gray"}
INTENT: Mapping[str, Color] = {
    "interested": "green",
    "question": "blue",
    "not_now": "yellow",
    "not_interested": "gray",
    "unsubscribe": "red",
    "out_of_office": "violet",
    "wrong_person": "gray",
}
SENTIMENT: Mapping[str, Color] = {"positive": "green", "neutral": "gray", "negative": "red"}
RUN_STATUS: Mapping[str, Color] = {"succeeded": "green", "running": "blue", "queued": "gray", "failed": "red"}

_UNSAFE = re.compile(r"[^A-Za-z0-9 _.:/·+-]")


def label_text(value: object, fallback: str = "none") -> str:
    """A badge label: underscores as spaces, Markdown-active characters removed; anything but a
    non-empty string (None, a pandas NaN) reads as `fallback`."""
    shown = (value if isinstance(value, str) and value else fallback).replace("_", " ")
    return _UNSAFE.sub("", shown)[:40] or fallback


def badge_markup(value: object, palette: Mapping[str, Color], *, prefix: str = "", missing: str = "untriaged") -> str:
    """`:green-badge[running]`; a value outside the palette is gray, a missing one reads `missing`."""
    color = palette.get(value, "gray") if isinstance(value, str) else "gray"
    shown = (label_text(prefix) if prefix else "") + label_text(value, missing)
    return f":{color}-badge[{shown}]"


def badge_row(items: Iterable[tuple[object, Mapping[str, Color]]], *, prefixes: Iterable[str] = ()) -> None:
    """Several badges on one line, e.g. a reply's priority, intent and sentiment."""
    prefix_list = list(prefixes)
    parts = [
        badge_markup(value, palette, prefix=prefix_list[i] if i < len(prefix_list) else "")
        for i, (value, palette) in enumerate(items)
    ]
    st.markdown(" ".join(parts))


def mode_badge(label: str, *, live: bool, help: str) -> None:
    """A mode label: green when it is the real thing, orange when it is the sandbox or offline."""
    st.badge(label, color="green" if live else "orange", help=help)
