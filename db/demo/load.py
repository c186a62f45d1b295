"""Getting generated rows into PostgreSQL fast: reserved id ranges, binary COPY, a pipeline.

COPY is an order of magnitude faster than INSERTs (STACK-NOTES), and binary COPY spares
the server the text parsing of CSV (db/demo/binary.py). A worker thread builds each table
and encodes it chunk by chunk (Arrow's C++ kernels release the GIL), handing chunks over a
small queue, so the server ingests one chunk while the next is built: PostgreSQL,
single-threaded per connection, is the bottleneck and should never wait for Python.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, text

from ..models import Base
from . import binary

CHUNK_ROWS = 100_000
QUEUE_CHUNKS = 6
Builder = tuple[str, Callable[[], pa.Table]]


def reserve_ids(conn: Connection, table: str, count: int) -> int:
    """The first of `count` consecutive ids nobody else will get from the table's identity.

    The table is locked against writers until commit, so no concurrent insert can draw an
    id between our read of the sequence and our `setval`; after the seed the sequence
    continues past our rows as if they had been inserted one by one.
    """
    conn.execute(text(f'LOCK TABLE "{table}" IN SHARE ROW EXCLUSIVE MODE'))
    sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar_one()
    last, called = conn.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
    highest = conn.execute(text(f'SELECT coalesce(max(id), 0) FROM "{table}"')).scalar_one()
    first = max(int(highest), int(last) if called else 0) + 1
    if count:
        conn.execute(text("SELECT setval(:s, :v)"), {"s": sequence, "v": first + count - 1})
    return first


@dataclass(frozen=True)
class Chunk:
    """Part of a table as binary COPY data; `first` marks a new table (and carries the format's
    header), `last` its end (and the trailer)."""

    table: str
    columns: tuple[str, ...]
    data: bytes
    rows: int
    total: int
    first: bool
    last: bool


def chunks_of(name: str, table: pa.Table) -> Iterator[Chunk]:
    """The table in binary COPY format, CHUNK_ROWS rows at a time (header first, trailer last)."""
    columns = tuple(table.column_names)
    column_kinds = binary.kinds(Base.metadata.tables[name], list(columns))
    total = table.num_rows
    starts = list(range(0, total, CHUNK_ROWS)) or [0]
    for number, start in enumerate(starts):
        part = table.slice(start, CHUNK_ROWS)
        first, last = number == 0, number == len(starts) - 1
        data = bytes(binary.payload(binary.rows(part, column_kinds))) if part.num_rows else b""
        data = (binary.SIGNATURE if first else b"") + data + (binary.TRAILER if last else b"")
        yield Chunk(name, columns, data, part.num_rows, total, first, last)


def produce(builders: Iterable[Builder]) -> Iterator[Chunk]:
    """Build and encode tables on a worker thread, a few chunks ahead of the consumer.

    `builders` is consumed lazily, one table ahead of the COPY, so it may decide late which
    table comes next (bulk mode's lanes share the tables either may load).

    An exception in a builder reaches the consumer where the failed table would have been;
    a consumer that stops early (a COPY failed) makes the worker stop at its next chunk.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_CHUNKS)
    stop = threading.Event()

    def work() -> None:
        try:
            for name, build in builders:
                for chunk in chunks_of(name, build()):
                    if stop.is_set():
                        return
                    handoff.put(chunk)
        except BaseException as error:  # handed over to the consumer, who re-raises it
            handoff.put(error)
            return
        handoff.put(None)

    worker = threading.Thread(target=work, name="seed-encoder", daemon=True)
    worker.start()
    try:
        while (item := handoff.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                handoff.get(timeout=0.05)
            except queue.Empty:
                continue
        worker.join()


def copy_all(
    conn: Connection,
    chunks: Iterator[Chunk],
    on_chunk: Callable[[Chunk], None],
    before_table: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """COPY every chunk into its table, one COPY statement per table; rows per table.

    `before_table(name)` runs on this connection before a table's COPY starts; `on_chunk`
    hears an empty chunk when a table's COPY starts, then each chunk once sent.
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    counts: dict[str, int] = {}
    stream = iter(chunks)
    for head in stream:
        if before_table is not None:
            before_table(head.table)
        columns = ", ".join(f'"{c}"' for c in head.columns)
        with cursor.copy(f'COPY "{head.table}" ({columns}) FROM STDIN (FORMAT binary)') as copy:
            on_chunk(Chunk(head.table, head.columns, b"", 0, head.total, first=True, last=False))
            chunk = head
            while True:
                copy.write(chunk.data)
                if chunk.last:
                    break
                on_chunk(chunk)
                chunk = next(stream)
        on_chunk(chunk)  # only now has the server taken the whole table
        counts[head.table] = head.total
    return counts
