"""Getting generated rows into PostgreSQL fast: reserved id ranges, CSV, COPY, a pipeline.

COPY from CSV is the fastest path psycopg offers short of hand-built binary (STACK-NOTES:
~10x insertmanyvalues). A worker thread builds each table and encodes it as CSV chunk by
chunk (Arrow's C++ kernels release the GIL), handing chunks over a small queue, so the
server is ingesting one chunk while the next is being built: PostgreSQL, single-threaded
per connection, is the bottleneck and should never wait for Python.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, text

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
    """Part of a table as CSV; `first` marks a new table, `last` its end."""

    table: str
    columns: tuple[str, ...]
    data: bytes
    rows: int
    total: int
    first: bool
    last: bool


def chunks_of(name: str, table: pa.Table) -> Iterator[Chunk]:
    options = pacsv.WriteOptions(include_header=False)
    columns = tuple(table.column_names)
    total = table.num_rows
    starts = list(range(0, total, CHUNK_ROWS)) or [0]
    for number, start in enumerate(starts):
        part = table.slice(start, CHUNK_ROWS)
        sink = io.BytesIO()
        if part.num_rows:
            pacsv.write_csv(part, sink, options)
        yield Chunk(name, columns, sink.getvalue(), part.num_rows, total, number == 0, number == len(starts) - 1)


def produce(builders: Sequence[Builder]) -> Iterator[Chunk]:
    """Build and encode tables on a worker thread, a few chunks ahead of the consumer.

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


def copy_all(conn: Connection, chunks: Iterator[Chunk], on_chunk: Callable[[Chunk], None]) -> dict[str, int]:
    """COPY every chunk into its table, one COPY statement per table; rows per table.

    `on_chunk` hears an empty chunk when a table's COPY starts, then each chunk once sent.
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    counts: dict[str, int] = {}
    stream = iter(chunks)
    for head in stream:
        columns = ", ".join(f'"{c}"' for c in head.columns)
        with cursor.copy(f'COPY "{head.table}" ({columns}) FROM STDIN (FORMAT csv)') as copy:
            on_chunk(Chunk(head.table, head.columns, b"", 0, head.total, first=True, last=False))
            chunk = head
            while True:
                if chunk.rows:
                    copy.write(chunk.data)
                if chunk.last:
                    break
                on_chunk(chunk)
                chunk = next(stream)
        on_chunk(chunk)  # only now has the server taken the whole table
        counts[head.table] = head.total
    return counts
