"""Is this process able to do its work? One probe each for PostgreSQL and Redis.

Each probe opens its own short-lived connection with a short timeout instead of borrowing
the pooled engine: a load balancer asking `/healthz` during a network partition must get a
quick 503, not wait for the operating system's TCP timeout inside a pool checkout. The URLs
are the runtime's (the configured servers, or the embedded ones), or given explicitly.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import tomllib
from dataclasses import dataclass

import psycopg
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app import runtime
from app.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0  # libpq rounds connect timeouts up to whole seconds, minimum 2
DISTRIBUTION = "lead-recovery-engine"
NO_RETRY = Retry(NoBackoff(), 0)


@dataclass(frozen=True)
class Health:
    """What the probes found, and the version of the code that answered."""

    database: bool
    redis: bool
    version: str

    @property
    def ok(self) -> bool:
        return self.database and self.redis

    def as_json(self) -> dict[str, str]:
        return {
            "status": "ok" if self.ok else "unavailable",
            "database": _verdict(self.database),
            "redis": _verdict(self.redis),
            "version": self.version,
        }


def check(
    *, database_url: str | None = None, redis_url: str | None = None, timeout_s: float = PROBE_TIMEOUT_S
) -> Health:
    """Probe both servers (the runtime's unless URLs are given)."""
    if database_url is None or redis_url is None:
        urls = runtime.service_urls()
        database_url = database_url or urls.database_url
        redis_url = redis_url or urls.redis_url
    return Health(
        database=database_answers(database_url, timeout_s=timeout_s),
        redis=redis_answers(redis_url, timeout_s=timeout_s),
        version=app_version(),
    )


def database_answers(url: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when PostgreSQL at `url` accepts a connection and answers `SELECT 1` within the timeout."""
    timeout_ms = int(timeout_s * 1000)
    try:
        with psycopg.connect(
            _libpq_url(url), connect_timeout=max(2, round(timeout_s)), options=f"-c statement_timeout={timeout_ms}"
        ) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except (psycopg.Error, OSError) as error:
        log.warning("health: database does not answer: %s", error)
        return False


def redis_answers(url: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when Redis at `url` answers PING within the timeout."""
    # No retries: redis-py's default retries a refused connection for about 3 s.
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, retry=NO_RETRY)
    try:
        return bool(client.ping())
    except (redis.exceptions.RedisError, OSError) as error:
        log.warning("health: redis does not answer: %s", error)
        return False
    finally:
        client.close()


@functools.cache
def app_version() -> str:
    """The installed distribution's version, else the one in pyproject.toml (we run from a checkout)."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        with (PROJECT_ROOT / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])


def _libpq_url(url: str) -> str:
    """libpq knows `postgresql://`, not SQLAlchemy's `postgresql+psycopg://`."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _verdict(answers: bool) -> str:
    return "ok" if answers else "error"
