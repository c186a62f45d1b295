"""Missing text in a table shows as an empty cell; numbers and other objects keep their gaps."""

from __future__ import annotations

import pandas as pd

from components.tables import blank_missing_text, number_column, text_column


def test_missing_text_becomes_empty_and_other_columns_keep_their_gaps() -> None:
    frame = pd.DataFrame(
        {"company": ["Acme", None], "value": [1.0, None], "tags": [["a"], None], "id": [1, 2]},
    )
    shown = blank_missing_text(frame)
    assert shown["company"].tolist() == ["Acme", ""]
    assert pd.isna(shown["value"].iloc[1])
    assert shown["tags"].iloc[1] is None
    assert frame["company"].isna().iloc[1], "the caller's frame is left as it was"


def test_a_frame_without_missing_text_is_returned_as_is() -> None:
    frame = pd.DataFrame({"name": ["Ann", "Bo"], "value": [1.0, None]})
    assert blank_missing_text(frame) is frame


def test_a_text_column_without_any_text_becomes_empty_when_configured_as_text() -> None:
    # Every run succeeded: the error column holds only None, so its dtype cannot say it is text.
    frame = pd.DataFrame({"agent": ["scanner", "writer"], "error": [None, None], "seconds": [None, None]})
    columns = {
        "agent": text_column("Agent"),
        "error": text_column("Error"),
        "seconds": number_column("Seconds"),
    }
    shown = blank_missing_text(frame, columns)
    assert shown["error"].tolist() == ["", ""]
    assert shown["seconds"].isna().all(), "a number column keeps its gaps"
    assert blank_missing_text(frame)["error"].isna().all(), "without the config nothing says it is text"
