"""Fixtures of the SendGrid webhook tests: an empty database, the webhook key, the api in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api import create_app
from app.settings import get_settings
from app.web.sendgrid_events import webhook_clock
from tests.integration.sendgrid.scene import KEY_VARIABLE, NOW
from tests.sendgrid_signing import SigningKey, new_key


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def configure_key(public_b64: str | None) -> Iterator[None]:
    """Set (or unset) the webhook key for this test only: the settings are read once per process."""
    saved = os.environ.get(KEY_VARIABLE)
    if public_b64 is None:
        os.environ.pop(KEY_VARIABLE, None)
    else:
        os.environ[KEY_VARIABLE] = public_b64
    get_settings.cache_clear()
    yield
    if saved is None:
        os.environ.pop(KEY_VARIABLE, None)
    else:
        os.environ[KEY_VARIABLE] = saved
    get_settings.cache_clear()


@pytest.fixture
def key() -> Iterator[SigningKey]:
    signing = new_key()
    yield from (signing for _ in configure_key(signing.public_b64))


@pytest.fixture
def client() -> Iterator[TestClient]:
    api = create_app()
    api.dependency_overrides[webhook_clock] = lambda: NOW
    with TestClient(api) as test_client:
        yield test_client


@pytest.fixture
def no_key() -> Iterator[None]:
    yield from configure_key(None)
