"""Metric cards: a figure, its label, and (on hover) the definition the figure follows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class Card:
    """One figure. `help` is the definition, shown as the card's tooltip. A `plain_delta` is a
    note under the figure (e.g. an interval), shown grey and without an up/down arrow."""

    label: str
    value: str
    help: str
    delta: str | None = None
    plain_delta: bool = False


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
            delta_color="off" if card.plain_delta else "normal",
            delta_arrow="off" if card.plain_delta else "auto",
        )
