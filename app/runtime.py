"""The engine, sessions and Redis of this process, built once from the settings.

URLs come from `DATABASE_URL`/`REDIS_URL`; when either is unset the embedded server is
started (or joined, when another process of `make run` already started it) under DATA_DIR.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import embedded
from app.settings import Settings, get_settings
from db.engine import make_engine, make_session_factory


@dataclass
class ServiceUrls:
    database_url: str
    redis_url: str
    embedded: list[object] = field(default_factory=list)

    def stop_embedded(self) -> None:
        for server in reversed(self.embedded):
            server.stop()  # type: ignore[attr-defined]
        self.embedded.clear()


def resolve_urls(settings: Settings) -> ServiceUrls:
    """The configured URLs, starting embedded servers for those that are unset."""
    started: list[object] = []
    database_url = settings.database_url
    if database_url is None:
        pg = embedded.start_postgres(settings.data_dir)
        started.append(pg)
        database_url = pg.url
    redis_url = settings.redis_url
    if redis_url is None:
        rd = embedded.start_redis(settings.data_dir)
        started.append(rd)
        redis_url = rd.url
    return ServiceUrls(database_url=database_url, redis_url=redis_url, embedded=started)


@functools.cache
def service_urls() -> ServiceUrls:
    return resolve_urls(get_settings())


def stop_embedded() -> None:
    """Stop the embedded servers this process started, if any (joined or configured ones stay up).

    A one-off command (`python -m app migrate`) on a fresh machine starts them; without this
    its Redis daemon would outlive it.
    """
    if engine.cache_info().currsize:
        engine().dispose()
    if service_urls.cache_info().currsize:
        service_urls().stop_embedded()


def is_forking_worker() -> bool:
    """RQ's forking worker runs each job in a child: a pool there is never reused, so skip it."""
    return os.environ.get("LRE_PROCESS") == "worker"


@functools.cache
def engine() -> Engine:
    return make_engine(service_urls().database_url, null_pool=is_forking_worker())


@functools.cache
def session_factory() -> sessionmaker[Session]:
    return make_session_factory(engine())


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session for one use-case; the caller opens the transaction with `session.begin()`."""
    session = session_factory()()
    try:
        yield session
    finally:
        session.close()


@functools.cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(service_urls().redis_url)


def reset_for_tests() -> None:
    """Forget every cached resource (the test suite points the runtime at its own database)."""
    for cached in (service_urls, engine, session_factory, redis_client, get_settings):
        cached.cache_clear()
