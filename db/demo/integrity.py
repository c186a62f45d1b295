"""Bulk mode: how a large seed keeps every constraint while loading at COPY speed.

Measured on the 2-core machine for one million leads: per-row foreign-key triggers (each an
SPI query taking a row lock on the parent) cost more than everything else in the COPY put
together, about 5-8 µs per key per row, ~20 M checks for a million leads with their history,
and maintaining the secondary indexes row by row costs about twice rebuilding them. So each
lane of a large seed (db/seed.py), inside its transaction:

1. drops the *secondary* (non-unique) indexes of the tables it loads and rebuilds them from
   the models after the load (sorted builds, parallel workers); primary keys, unique
   constraints and CHECKs stay in force for every row;
2. switches off the foreign-key *triggers for its own session only*
   (`session_replication_role = replica`, needs a role allowed to set it) while COPY runs,
   then proves every foreign key of every loaded row with one set-based scan per table
   before either lane commits. The constraints themselves stay declared and enforced for
   every other session throughout; a violation raises and the whole seed rolls back, as a
   trigger would have made it. Without the privilege, the load runs with the triggers on.

The proof: each reference into a table whose ids this seed reserved must fall inside the
reserved range, and that range must be complete in the parent (its count of ids equals its
length); each reference into a small parent (tenants, operators, campaigns, template
versions) must be one of the ids this seed inserted there. Only rows written by this
transaction (`xmin`) are scanned. A lane proves the completeness of the ranges it loaded and
the bounds of every reference it wrote, so the two lanes' proofs together cover every key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Connection, Index, text
from sqlalchemy.schema import CreateIndex, DropIndex

from ..models import Base

INDEX_MEMORY = "512MB"
# Secondary indexes kept live during a bulk load: the generator writes their rows in key order
# (by lead, message or enrollment id), so each insert lands on the rightmost leaf and costs
# less than a rebuild would; measured, rebuilding these took ~4 s of a million-lead seed.
KEPT_LIVE = frozenset(
    {
        "ix_activities_lead_time",
        "ix_outbound_messages_lead",
        "ix_outbound_messages_provider_id",
        "ix_message_events_message",
        "ix_enrollments_lead",
        "ix_enrollments_open_lead",
        "ix_enrollments_tenant_status",
        "ix_campaign_transitions_enrollment",
        "ix_inbound_messages_inbox",
        "ix_inbound_messages_lead",
        "ix_conversions_lead",
        "ix_conversions_tenant_time",
    }
)


def secondary_indexes(tables: Iterable[str]) -> list[Index]:
    """The non-unique indexes of these tables worth rebuilding after a load, as the models (and
    so the migrations, which a test keeps in agreement) define them."""
    found = []
    for name in tables:
        indexes = Base.metadata.tables[name].indexes
        found += sorted((i for i in indexes if not i.unique and i.name not in KEPT_LIVE), key=lambda i: str(i.name))
    return found


def drop_indexes(conn: Connection, indexes: Sequence[Index]) -> None:
    for index in indexes:
        conn.execute(DropIndex(index, if_exists=True))


def create_indexes(conn: Connection, indexes: Sequence[Index]) -> None:
    conn.execute(text(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'"))
    for index in indexes:
        conn.execute(CreateIndex(index))


def bypass_foreign_key_triggers(conn: Connection) -> bool:
    """Skip RI triggers for this session until `restore_triggers`; False when not allowed."""
    allowed = conn.execute(text("SELECT has_parameter_privilege('session_replication_role', 'SET')")).scalar_one()
    if allowed:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
    return bool(allowed)


def restore_triggers(conn: Connection) -> None:
    conn.execute(text("SET LOCAL session_replication_role = origin"))


def verify_foreign_keys(
    conn: Connection,
    tables: Iterable[str],
    ranges: Mapping[str, tuple[int, int]],
    complete: Mapping[str, tuple[int, int]],
    known: Mapping[str, Sequence[int]],
) -> None:
    """Raise ValueError unless every foreign key of every row this transaction loaded holds.

    `ranges[parent] = (first id, count)` reserved by this seed, of which this transaction
    loaded the `complete` ones (the other lane proves the rest); `known[parent]` = ids the
    seed inserted into a small parent. Both lanes' proofs together cover every key.
    """
    for parent, (first, count) in complete.items():
        present = conn.execute(
            text(f'SELECT count(*) FROM "{parent}" WHERE id BETWEEN :a AND :b'), {"a": first, "b": first + count - 1}
        ).scalar_one()
        if present != count:
            raise ValueError(f"seed integrity: {parent} has {present} of its {count} reserved ids")
    xid = conn.execute(text("SELECT pg_current_xact_id()::text::bigint % 4294967296")).scalar_one()
    for table in tables:
        _verify_table(conn, table, ranges, known, int(xid))


def _verify_table(
    conn: Connection, table: str, ranges: Mapping[str, tuple[int, int]], known: Mapping[str, Sequence[int]], xid: int
) -> None:
    tests: list[tuple[str, str]] = []
    params: dict[str, object] = {"xid": str(xid)}
    for fk in Base.metadata.tables[table].foreign_key_constraints:
        column = fk.column_keys[0]
        parent = fk.referred_table.name
        if parent in ranges:
            first, count = ranges[parent]
            outside = f"{column} NOT BETWEEN {first} AND {first + count - 1}"
        elif parent in known:
            params[f"ids_{column}"] = list(known[parent])
            outside = f"{column} <> ALL(CAST(:ids_{column} AS bigint[]))"
        else:
            outside = f'NOT EXISTS (SELECT 1 FROM "{parent}" p WHERE p.id = "{table}".{column})'
        tests.append((f"{column} -> {parent}", f"count(*) FILTER (WHERE {column} IS NOT NULL AND {outside})"))
    if not tests:
        return
    selects = ", ".join(expression for _, expression in tests)
    sql = f'SELECT {selects} FROM "{table}" WHERE xmin = CAST(:xid AS xid)'
    counts = conn.execute(text(sql), params).one()
    broken = [f"{label}: {bad} rows" for (label, _), bad in zip(tests, counts, strict=True) if bad]
    if broken:
        raise ValueError(f"seed integrity: {table} has dangling references ({'; '.join(broken)})")
