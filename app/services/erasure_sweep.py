"""Finding an erased lead's values wherever a text may still hold them: every text, JSON and
text-array column of the database, and every key of Redis.

The rows that belong to the lead are blanked by `app.services.erasure`; this sweep is for the
rest: raw webhook bodies (one SendGrid batch holds many leads' events), stored errors, intake
answers, queued jobs' tracebacks. It replaces the values (in each encoding a text may use:
`app.domain.privacy.encodings`) rather than deleting rows, so no other lead's data goes with
them. The columns are read from the catalogue, so a column added later is swept too.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from redis import Redis
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.privacy import REDACTED, redact

NOT_SWEPT = frozenset({"tenants", "operators", "api_keys", "alembic_version", "leads", "suppressions"})
"""Who uses the product (an operator's email may equal a lead's without being the lead's), and
the leads and suppressions themselves: the erased lead's row is blanked by name, and another
lead with the same address is that person's other record, suppressed rather than mauled."""

_COLUMNS = text(
    """
    SELECT c.table_name, c.column_name,
           CASE WHEN c.data_type = 'ARRAY' THEN c.udt_name ELSE c.data_type END AS kind
    FROM information_schema.columns AS c
    JOIN information_schema.tables AS t
      ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
    WHERE c.table_schema = current_schema()
      AND (c.data_type IN ('text', 'character varying', 'jsonb', 'json') OR c.udt_name IN ('_text', '_varchar'))
    ORDER BY c.table_name, c.ordinal_position
    """
)
_CASTS = {"text": "text", "character varying": "text", "jsonb": "jsonb", "json": "json", "_text": "text[]"}
_CASTS["_varchar"] = "varchar[]"


def text_columns(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Every sweepable column, by table: (column, the type to cast back to)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for row in session.execute(_COLUMNS):
        if row.table_name not in NOT_SWEPT:
            found.setdefault(row.table_name, []).append((row.column_name, _CASTS[row.kind]))
    return found


_TENANT_TABLES = text(
    "SELECT table_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND column_name = 'tenant_id'"
)


LINKING_COLUMNS = ("lead_id", "enrollment_id", "inbound_message_id", "message_id")
"""A table with one of these names its rows' lead (directly or through another row): those rows
are blanked by the lead's id, so a sweep that is only after stray copies may skip the table."""
_LINKED_TABLES = text(
    "SELECT DISTINCT table_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND column_name IN ('lead_id', 'enrollment_id', 'inbound_message_id',"
    " 'message_id')"
)


def sweep_database(
    session: Session, values: Sequence[str], *, tenant_id: int, linked_tables: bool = True
) -> dict[str, int]:
    """Replace `values` (encoded, longest first) in every swept column; rows changed, by table.

    Only this tenant's rows, and rows that belong to no tenant (a webhook refused before its
    tenant was known): another tenant's lead with the same address is not this one. One UPDATE
    per table (one pass over it), touching only the rows where some column holds a value. Runs
    inside the caller's transaction. Without `linked_tables`, the tables whose rows name a lead
    (`LINKING_COLUMNS`) are skipped: retention anonymises thousands of leads, and a pass over
    every message for each batch would cost minutes, while copies of a lead's values sit mostly
    in raw webhooks, errors and intake answers.
    """
    if not values:
        return {}
    skipped = set() if linked_tables else set(session.scalars(_LINKED_TABLES))
    params = {f"v{i}": value for i, value in enumerate(values)} | {"redacted": REDACTED, "tenant_id": tenant_id}
    tenanted = set(session.scalars(_TENANT_TABLES))
    changed: dict[str, int] = {}
    for table, columns in text_columns(session).items():
        if table in skipped:
            continue
        sql = _sweep_sql(table, columns, len(values))
        if table in tenanted:
            sql += " AND (tenant_id = :tenant_id OR tenant_id IS NULL)"
        count = int(getattr(session.execute(text(sql), params), "rowcount", 0) or 0)
        if count:
            changed[table] = count
    return changed


def _sweep_sql(table: str, columns: Sequence[tuple[str, str]], n: int) -> str:
    """The one UPDATE of a table (identifiers come from the catalogue, values are bound)."""

    def holds(column: str) -> str:
        as_text = f'CAST("{column}" AS text)'
        return "(" + " OR ".join(f"strpos({as_text}, :v{i}) > 0" for i in range(n)) + ")"

    def replaced(column: str, cast: str) -> str:
        inner = f'CAST("{column}" AS text)'
        for i in range(n):
            inner = f"replace({inner}, :v{i}, :redacted)"
        return f'"{column}" = CASE WHEN {holds(column)} THEN CAST({inner} AS {cast}) ELSE "{column}" END'

    sets = ", ".join(replaced(column, cast) for column, cast in columns)
    where = " OR ".join(holds(column) for column, _ in columns)
    return f'UPDATE "{table}" SET {sets} WHERE ({where})'


def sweep_redis(client: Redis, values: Sequence[str]) -> int:
    """Replace `values` in every key of this Redis db (RQ keeps failed jobs' tracebacks
    zlib-compressed); a key whose name, or whose binary value (a pickled job), holds one is
    deleted. Returns the keys changed or deleted."""
    if not values:
        return 0
    needles = [value.encode() for value in values]
    touched = 0
    for name in client.scan_iter(count=1000):
        if _holds(name, needles):
            touched += int(client.delete(name))
        elif _sweep_key(client, name, values, needles):
            touched += 1
    return touched


def _sweep_key(client: Redis, name: bytes, values: Sequence[str], needles: Sequence[bytes]) -> bool:
    kind = client.type(name)
    kind = kind.decode() if isinstance(kind, bytes) else kind
    if kind == "string":
        raw = client.get(name)
        new = _redacted(raw, values, needles) if isinstance(raw, bytes) else None
        if new is None:
            return False
        if new is _DELETE:
            client.delete(name)
        else:
            client.set(name, new, keepttl=True)
        return True
    if kind == "hash":
        fields: dict[bytes, bytes] = client.hgetall(name)  # type: ignore[assignment]
        changes = {field: _redacted(raw, values, needles) for field, raw in fields.items()}
        changes = {field: new for field, new in changes.items() if new is not None}
        if not changes:
            return False
        if any(new is _DELETE for new in changes.values()):
            client.delete(name)
        else:
            client.hset(name, mapping=changes)  # type: ignore[arg-type]
        return True
    members = _members(client, name, kind)
    if any(_holds(member, needles) for member in members):
        client.delete(name)
        return True
    return False


_DELETE = b"\x00delete"


def _redacted(raw: bytes, values: Sequence[str], needles: Sequence[bytes]) -> bytes | None:
    """The value with `values` replaced (recompressed when it was zlib); `_DELETE` when it holds one
    but is not text (a pickle cannot be edited); None when it holds none."""
    compressed = False
    plain = raw
    try:
        plain = zlib.decompress(raw)
        compressed = True
    except zlib.error:
        pass
    if not _holds(plain, needles):
        return None
    try:
        decoded = plain.decode()
    except UnicodeDecodeError:
        return _DELETE
    cleaned = redact(decoded, values).encode()
    return zlib.compress(cleaned) if compressed else cleaned


def _members(client: Redis, name: bytes, kind: str) -> list[bytes]:
    if kind == "list":
        return list(client.lrange(name, 0, -1))  # type: ignore[arg-type]
    if kind == "set":
        return list(client.smembers(name))  # type: ignore[arg-type]
    if kind == "zset":
        return list(client.zrange(name, 0, -1))  # type: ignore[arg-type]
    return []


def _holds(raw: bytes, needles: Sequence[bytes]) -> bool:
    return any(needle in raw for needle in needles)
