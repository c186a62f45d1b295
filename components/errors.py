"""What the browser sees when a page fails: a short error id, never the exception.

The console runs with `client.showErrorDetails = "none"` (`.streamlit/config.toml`), so
Streamlit itself shows nothing of an exception that escapes; this wrapper shows the person a
short id to quote and logs the traceback under that id on the server, where SQL, parameters
and file paths may be read by whoever runs the console, not by whoever uses it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

log = logging.getLogger("console")


def new_error_id() -> str:
    """Eight hex characters: short enough to read out on a call, unique enough to grep a log."""
    return secrets.token_hex(4)


@contextmanager
def shown_as_id(where: str) -> Iterator[None]:
    """Run a page; an exception becomes one line with an id on screen and a traceback in the log.

    Streamlit's own control flow (`st.stop`, `st.rerun`, `st.switch_page`) raises exceptions
    that are not `Exception`s, so it passes through untouched.
    """
    try:
        yield
    except Exception:
        error_id = new_error_id()
        log.exception("console error %s in %s", error_id, where)
        st.error(
            f"Something went wrong on this page (error id `{error_id}`). It has been logged: "
            "quote this id to whoever runs the console.",
            icon=":material/error:",
        )
