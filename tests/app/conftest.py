"""Console tests share one rule: `st.cache_data` outlives an AppTest, so each test starts empty."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import streamlit as st
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from app.settings import get_settings


@pytest.fixture(autouse=True)
def no_page_error(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A page that fails now shows an error id and logs the traceback (`components/errors.py`)
    instead of raising into AppTest: a test fails on such a log line as it failed on the
    exception before. A test that provokes one on purpose clears it (`caplog.clear()`)."""
    yield
    logged = [r for r in caplog.get_records("call") if r.name == "console" and r.levelno >= logging.ERROR]
    assert not logged, [r.getMessage() + "\n" + str(r.exc_info and r.exc_info[1]) for r in logged]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Every file the app hands to the media store, by file id (AppTest drops the store after a run)."""
    saved: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self: MemoryMediaFileStorage, path_or_data: Any, *args: Any, **kwargs: Any) -> str:
        file_id = original(self, path_or_data, *args, **kwargs)
        saved[file_id] = path_or_data if isinstance(path_or_data, bytes) else path_or_data.encode()
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return saved


@pytest.fixture
def demo_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What `make run` on the embedded default (or `run --demo`) gives the console process: the
    suite has a DATABASE_URL, which alone is not the demo. Settings are read once per process,
    so they are re-read here, and again after, before the variable is restored."""
    monkeypatch.setenv("DEMO", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
