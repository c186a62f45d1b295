"""Metric cards: a figure, its label, and (on hover) the definition the figure follows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import streamlit as st

DeltaColor = Literal["normal", "inverse", "off"]


@dataclass(frozen=True)
class Card:
    """One figure. `help` is the definition, shown as the card's tooltip; it should also say what
    the delta compares. A `delta` is a change drawn with an arrow: green when up is good
    (`delta_color="normal"`), red when up is bad (`"inverse"`, e.g. more silent leads), grey
    (`"off"`) when it is neither. A `plain_delta` is a note under the figure (e.g. an
    interval), shown grey and without an arrow; an `alarm` delta is a warning under it (e.g.
    "stale"), shown red and without an arrow, because it is no change to go up or down."""

    label: str
    value: str
    help: str
    delta: str | None = None
    plain_delta: bool = False
    delta_color: DeltaColor = "normal"
    alarm: bool = False


def signed(text: str, change: float) -> str:
    """`+12` / `-3` / `±0` in front of a formatted change, so the arrow follows the sign."""
    if change > 0:
        return f"+{text.lstrip('+')}"
    if change < 0:
        return text if text.startswith("-") else f"-{text}"
    return f"±{text.lstrip('+-')}"


def metric_cards(cards: Sequence[Card]) -> None:
    """A row of bordered cards, one column each."""
    if not cards:
        return
    for column, card in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(
            card.label,
            card.value,
            delta=card.delta,
            help=card.help,
            border=True,
            delta_color=_color(card),
            delta_arrow="off" if card.plain_delta or card.alarm else "auto",
        )


def _color(card: Card) -> DeltaColor | Literal["red"]:
    if card.plain_delta:
        return "off"
    return "red" if card.alarm else card.delta_color
