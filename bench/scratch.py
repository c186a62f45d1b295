"""Throwaway databases and Redis dbs for the benchmarks, so a bench never touches demo data."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.csv as pacsv
import redis
import sqlalchemy as sa

from db import migrate
from db.engine import make_engine

BENCH_REDIS_DB = 14


@contextlib.contextmanager
def scratch_database(server_url: str, label: str) -> Iterator[str]:
    """A fresh, migrated database `lre_bench_<label>_…` on the server of `server_url`, dropped after."""
    name = f"lre_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server_url, null_pool=True).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redis_db_url(server_url: str, db: int) -> str:
    """`server_url` pointed at db number `db` (a unix:// URL keeps its empty authority)."""
    parts = urlsplit(server_url)
    if parts.scheme == "unix":
        kept = [p for p in parts.query.split("&") if p and not p.startswith("db=")]
        return f"unix://{parts.path}?{'&'.join([*kept, f'db={db}'])}"
    return urlunsplit(parts._replace(path=f"/{db}"))


@contextlib.contextmanager
def scratch_redis(server_url: str, db: int = BENCH_REDIS_DB) -> Iterator[str]:
    """A Redis db of the bench's own, flushed before and after."""
    url = redis_db_url(server_url, db)
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def copy_table(conn: sa.Connection, table: str, data: pa.Table) -> None:
    """Load `data` into `table` with COPY (CSV through pyarrow: the fastest way in from Python)."""
    buffer = io.BytesIO()
    pacsv.write_csv(data, buffer, pacsv.WriteOptions(include_header=False))
    columns = ", ".join(data.column_names)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())
