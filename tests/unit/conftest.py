"""Unit tests are pure: no database, no Redis (this overrides the suite's autouse runtime)."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def app_runtime() -> None:
    return None
