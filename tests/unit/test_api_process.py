"""The api process keeps what it built at start out of the garbage collector's full passes."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from app.api import create_app


def test_what_exists_when_the_api_starts_is_frozen_while_it_serves_and_released_after() -> None:
    assert gc.get_freeze_count() == 0
    with TestClient(create_app()):
        assert gc.get_freeze_count() > 10_000, "the app's modules, routes and settings at least"
    assert gc.get_freeze_count() == 0
