"""The suite talks to real PostgreSQL and Redis.

The servers are those of `DATABASE_URL`/`REDIS_URL` (CI's), else the embedded ones under
`.data/` (a fresh machine). Either way the suite makes its own database on that server,
migrates it, and drops it at the end, so it never touches demo or production rows; and it
uses its own Redis db number, flushed before and after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import hypothesis
import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from app import runtime
from app.settings import load_settings
from db import migrate
from db.engine import make_engine
from tests.support import truncate_all

TEST_REDIS_DB = 15

# No per-example deadline (a loaded 2-core machine is not a bug); CI draws the same examples
# every run so a landing never depends on luck, while local runs keep exploring new ones.
hypothesis.settings.register_profile("local", deadline=None)
hypothesis.settings.register_profile("ci", deadline=None, derandomize=True)
hypothesis.settings.load_profile("ci" if os.environ.get("CI") else "local")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _with_redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        # urlunsplit would drop the empty authority ("unix:/path"), which redis-py refuses.
        kept = [p for p in parts.query.split("&") if p and not p.startswith("db=")]
        query = "&".join([*kept, f"db={db}"])
        return f"unix://{parts.path}?{query}"
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.fixture(scope="session")
def server_urls() -> Iterator[runtime.ServiceUrls]:
    """The servers named by the environment, or the embedded ones."""
    urls = runtime.resolve_urls(load_settings())
    yield urls
    urls.stop_embedded()


@pytest.fixture(scope="session")
def database_url(server_urls: runtime.ServiceUrls) -> Iterator[str]:
    """A fresh, migrated database of our own on the server, dropped at the end."""
    name = f"lre_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(server_urls.database_url, null_pool=True).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = _with_database(server_urls.database_url, name)
    migrate.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url(server_urls: runtime.ServiceUrls) -> Iterator[str]:
    """Our own Redis db number (CI passes a free one in REDIS_URL), flushed before and after."""
    url = server_urls.redis_url if os.environ.get("REDIS_URL") else _with_redis_db(server_urls.redis_url, TEST_REDIS_DB)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


TEST_SCRYPT_LOG2_N = 14


@pytest.fixture(scope="session", autouse=True)
def app_runtime(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point every `app.runtime` user (services, agents, pages) at the test servers.

    DATA_DIR moves to a folder of the suite's own once the servers are running: what a
    `make run` left under `.data/` (the demo's webhook keys) must not change what a test sees.
    Passwords hash at scrypt's floor (N=2^14) rather than the production 2^17: the suite signs
    in a few hundred times, and half a second each would add minutes; the upgrade from one cost
    to the other has its own test.
    """
    keys = ("DATABASE_URL", "REDIS_URL", "DATA_DIR", "SCRYPT_LOG2_N")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    os.environ["SCRYPT_LOG2_N"] = str(TEST_SCRYPT_LOG2_N)
    runtime.reset_for_tests()
    yield
    runtime.engine().dispose()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    runtime.reset_for_tests()


@pytest.fixture(scope="session")
def engine(app_runtime: None) -> Engine:
    return runtime.engine()


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """An empty database for tests that count rows: the runtime's engine as it is now (a test that
    pointed the runtime elsewhere and back leaves a new engine, and a test that listens to the
    engine's statements must listen to the one the code uses)."""
    current = runtime.engine()
    truncate_all(current)
    yield current
    truncate_all(current)


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
