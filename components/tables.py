"""Tables and empty states.

Tables go through `st.dataframe`, which draws every cell as text: lead names and reply bodies
are shown exactly as written, never interpreted as Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from app.domain.intake.rejected import escaped

Column = Any  # a `st.column_config` entry, or a plain label


def empty_state(title: str, what_to_do: str) -> None:
    """Say why there is nothing to show and what to do about it."""
    st.info(f"**{title}**  \n{what_to_do}", icon=":material/info:")


def blank_missing_text(frame: pd.DataFrame, columns: Mapping[str, Column] | None = None) -> pd.DataFrame:
    """Missing text shown as an empty cell, not Streamlit's grey "None" (numbers keep their gaps).

    Text is a string column, or one configured as a text column: a column with no text at all
    (every run of an agent succeeded, so no error) has no string dtype to tell by.
    """
    text = [
        c
        for c in frame.columns
        if frame[c].isna().any() and (pd.api.types.is_string_dtype(frame[c]) or _is_text_column((columns or {}).get(c)))
    ]
    if not text:
        return frame
    return frame.assign(**{c: frame[c].fillna("") for c in text})


def _is_text_column(config: Column) -> bool:
    type_config = config.get("type_config") if isinstance(config, Mapping) else None
    return isinstance(type_config, Mapping) and type_config.get("type") == "text"


def data_table(
    frame: pd.DataFrame,
    columns: Mapping[str, Column],
    *,
    empty: tuple[str, str],
    key: str | None = None,
    height: int | None = None,
) -> None:
    """Show `columns` of `frame` (in that order, with those configs); `empty` = (title, what to do)."""
    if frame.empty:
        empty_state(*empty)
        return
    st.dataframe(
        blank_missing_text(frame, columns),
        hide_index=True,
        column_order=list(columns),
        column_config=dict(columns),
        key=key,
        height=height if height is not None else "auto",
    )


def csv_bytes(frame: pd.DataFrame, columns: Mapping[str, Column]) -> bytes:
    """`columns` of `frame` as UTF-8 CSV, one line per row under a header of the column names.

    Text cells are formula-safe: one starting with `= + - @`, a tab or a carriage return gets a
    leading apostrophe, so a campaign or lead name typed as `=HYPERLINK(…)` opens in a
    spreadsheet as text, not as a formula (CSV injection). Numbers stay numbers.
    """
    chosen = frame.loc[:, list(columns)].copy()
    for name in chosen.columns:
        if not pd.api.types.is_numeric_dtype(chosen[name]):
            chosen[name] = chosen[name].map(lambda cell: escaped(cell) if isinstance(cell, str) else cell)
    return chosen.to_csv(index=False, lineterminator="\r\n").encode("utf-8")  # RFC 4180; quotes any \r


def table_with_csv(
    frame: pd.DataFrame,
    columns: Mapping[str, Column],
    *,
    empty: tuple[str, str],
    key: str,
    file_name: str,
) -> None:
    """`data_table`, and under it a button that downloads the same rows and columns as CSV."""
    data_table(frame, columns, empty=empty, key=key)
    if frame.empty:
        return
    st.download_button(
        "Download CSV",
        csv_bytes(frame, columns),
        file_name=file_name,
        mime="text/csv",
        key=f"{key}.csv",
        icon=":material/download:",
        on_click="ignore",
    )


def selectable_table(
    frame: pd.DataFrame,
    columns: Mapping[str, Column],
    *,
    empty: tuple[str, str],
    key: str,
    height: int | None = None,
    single: bool = False,
) -> list[int]:
    """`data_table` whose rows can be ticked (several at once, or one with `single`); returns the
    ticked row positions.

    Positions, not ids: the caller maps them onto the very frame it passed in this run, so a
    selection always means the rows the person saw.
    """
    if frame.empty:
        empty_state(*empty)
        return []
    event = st.dataframe(
        blank_missing_text(frame, columns),
        hide_index=True,
        column_order=list(columns),
        column_config=dict(columns),
        key=key,
        height=height if height is not None else "auto",
        on_select="rerun",
        selection_mode="single-row" if single else "multi-row",
    )
    return [int(row) for row in event.selection.rows if 0 <= int(row) < len(frame)]


def money_column(label: str, *, help: str | None = None) -> Column:
    return st.column_config.NumberColumn(label, format="dollar", help=help)


def score_column(label: str = "Score", *, help: str | None = None) -> Column:
    return st.column_config.ProgressColumn(label, min_value=0, max_value=100, format="%d", help=help)


def number_column(label: str, *, format: str | None = None, help: str | None = None) -> Column:
    return st.column_config.NumberColumn(label, format=format, help=help)


def time_column(label: str, *, help: str | None = None) -> Column:
    return st.column_config.DatetimeColumn(label, format="distance", help=help)


def text_column(label: str, *, help: str | None = None, width: str | None = None) -> Column:
    return st.column_config.TextColumn(label, help=help, width=width)  # type: ignore[arg-type]


def compact_counts(counts: Mapping[str, Any] | None) -> str:
    """`enrolled 12 · sent 30` from an agent run's counts."""
    if not counts:
        return ""
    return " · ".join(f"{name} {value}" for name, value in counts.items())
