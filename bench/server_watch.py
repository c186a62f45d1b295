"""What the PostgreSQL server did during a timed window: WAL written, and when checkpoints began.

Every commit that must reach the disk (the api's, before its 2xx) flushes all the WAL written
before it, and the first change to a page after a checkpoint writes the whole page into the WAL.
So a request's latency can follow the server's WAL bursts rather than its own work: the bench
reports both, and the p99 of the requests that began within a few seconds of a checkpoint.
Counters are the server's (pg_stat_wal, pg_stat_bgwriter): every database, other users' too.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import sqlalchemy as sa

_COUNTERS = sa.text(
    "SELECT wal_records, wal_fpi, wal_bytes, checkpoints_timed + checkpoints_req AS checkpoints"
    " FROM pg_stat_wal, pg_stat_bgwriter"
)


def counters(engine: sa.Engine) -> dict[str, float]:
    with engine.connect() as conn:
        row = conn.execute(_COUNTERS).one()
    return {
        "records": float(row.wal_records),
        "full_page_images": float(row.wal_fpi),
        "bytes": float(row.wal_bytes),
        "checkpoints": float(row.checkpoints),
    }


@dataclass
class ServerWatch:
    """Polls the server's counters while the load runs; `checkpoints_began` holds the seconds (from
    `start()`) at which the checkpoint count went up, to the poll's quarter second."""

    engine: sa.Engine
    poll_seconds: float = 0.25
    checkpoints_began: list[float] = field(default_factory=list)
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.before = counters(self.engine)
        began = time.monotonic()

        def poll() -> None:
            seen = self.before["checkpoints"]
            while not self._stop.wait(self.poll_seconds):
                now = counters(self.engine)["checkpoints"]
                if now > seen:
                    self.checkpoints_began.append(round(time.monotonic() - began, 2))
                    seen = now

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.after = counters(self.engine)

    def per_second(self, seconds: float) -> dict[str, int]:
        keys = ("records", "full_page_images", "bytes")
        return {k: round((self.after[k] - self.before[k]) / seconds) for k in keys}

    def near_a_checkpoint(self, at: float, *, within: float = 5.0) -> bool:
        """True when `at` (seconds from start) falls in the `within` seconds after a checkpoint began."""
        return any(0 <= at - began <= within for began in self.checkpoints_began)
