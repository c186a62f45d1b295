"""Engines and sessions built from a URL, safe across the fork of an RQ worker.

A forked child must never reuse the parent's pooled connections (two processes talking on
one socket corrupt both), so every engine made here drops its pool in a forked child
without closing the parent's connections, as SQLAlchemy's pooling docs recommend.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def sqlalchemy_url(url: str) -> str:
    """Normalise any PostgreSQL URL to the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('@')[-1]}")


def make_engine(url: str, *, null_pool: bool = False, pool_size: int = 5, echo: bool = False) -> Engine:
    """An engine for `url`; `null_pool` for processes that fork per job."""
    # hide_parameters: a failed statement's message (logged, stored in agent_runs.error) never carries
    # the bound values, which are leads' names, emails and phone numbers.
    options: dict[str, object] = {"echo": echo, "future": True, "hide_parameters": True}
    if null_pool:
        options["poolclass"] = NullPool
    else:
        options.update(pool_size=pool_size, max_overflow=10, pool_pre_ping=True)
    engine = create_engine(sqlalchemy_url(url), **options)  # type: ignore[arg-type]
    _ENGINES.add(engine)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autobegin=True)


@contextmanager
def raw_connection(engine: Engine) -> Iterator[object]:
    """The psycopg connection inside a transaction, for COPY (which SQLAlchemy does not wrap)."""
    with engine.begin() as connection:
        yield connection.connection.driver_connection


def _forget_pools_in_child() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools_in_child)
