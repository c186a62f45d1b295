"""Column-at-a-time helpers: every function takes and returns whole columns.

A million leads leave no room for a Python loop per row (a microsecond per row per column is
already seconds), so values are drawn with numpy and strings are assembled with Arrow's
compute kernels, which run in C++ and release the GIL while COPY streams the previous table.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HOUR = 3600
DAY = 86400

Ints = np.ndarray
Bools = np.ndarray


def zipf(n: int, exponent: float = 0.8, offset: float = 4.0) -> np.ndarray:
    """Weights for a list ordered most common first: frequent heads, a long tail."""
    weights = 1.0 / np.power(np.arange(n) + offset, exponent)
    return np.asarray(weights / weights.sum())


def shares(mapping: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    """Keys and normalised weights of a {value: weight} table."""
    keys = list(mapping)
    weights = np.array([mapping[key] for key in keys], dtype=float)
    return keys, weights / weights.sum()


def pick(rng: np.random.Generator, size: int, weights: np.ndarray) -> Ints:
    """Indices into a weighted list."""
    return rng.choice(len(weights), size=size, p=weights)


def chance(rng: np.random.Generator, probability: float | np.ndarray, size: int) -> Bools:
    return np.asarray(rng.random(size) < probability)


def words(values: Sequence[str], index: Ints) -> pa.Array:
    """values[index] as an Arrow string column."""
    return pa.array(list(values), pa.string()).take(pa.array(index, pa.int64()))


def masked(column: pa.Array, keep: Bools) -> pa.Array:
    """The column with NULL where `keep` is false."""
    return pc.if_else(pa.array(keep), column, pa.scalar(None, column.type))


def join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    """Element-wise concatenation; plain strings repeat on every row."""
    columns = [pa.scalar(part) if isinstance(part, str) else part for part in parts]
    return pc.binary_join_element_wise(*columns, sep)


def digits(values: Ints, width: int) -> pa.Array:
    """Zero-padded decimal strings."""
    return pc.utf8_lpad(pa.array(values, pa.int64()).cast(pa.string()), width, "0")


HEX = np.frombuffer(b"".join(f"{byte:02x}".encode() for byte in range(256)), dtype="S2")


def hex_strings(rng: np.random.Generator, size: int, nbytes: int) -> pa.Array:
    """Random lowercase hex strings of 2*nbytes characters, as providers use for ids."""
    raw = rng.integers(0, 256, size=(size, nbytes), dtype=np.uint8)
    text = np.ascontiguousarray(HEX[raw]).view(f"S{2 * nbytes}").ravel()
    return pa.array(text).cast(pa.string())


def timestamps(seconds: Ints, valid: Bools | None = None) -> pa.Array:
    """UTC timestamps from epoch seconds, NULL where not `valid`."""
    micros = np.asarray(seconds, dtype=np.int64) * 1_000_000
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(micros, pa.timestamp("us", tz="UTC"), mask=mask)


def ordered_hex(sequence: Ints, rng: np.random.Generator, nbytes: int) -> pa.Array:
    """Provider-style random ids whose first 8 hex digits follow `sequence`.

    Unique indexes on these ids then take their keys nearly in order, which halves the cost
    of loading a million events compared with fully random ids.
    """
    prefix = digits_hex(np.asarray(sequence, dtype=np.int64))
    return join(prefix, hex_strings(rng, len(sequence), nbytes - 4))


def digits_hex(values: Ints) -> pa.Array:
    """Eight hex digits per value (the low 32 bits, big-endian), so text order follows value order."""
    raw = np.asarray(values, dtype=">u4").view(np.uint8).reshape(len(values), 4)
    return pa.array(np.ascontiguousarray(HEX[raw]).view("S8").ravel()).cast(pa.string())


def money(values: np.ndarray, valid: Bools | None = None) -> pa.Array:
    """Amounts in cents precision; the COPY encoder writes them exactly as NUMERIC(14,2)."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.round(values, 2), pa.float64(), mask=mask)


def cost(values: np.ndarray) -> pa.Array:
    """Costs to the millionth of a dollar, for NUMERIC(12,6)."""
    return pa.array(np.round(values, 6), pa.float64())


def nullable_ids(values: Ints, valid: Bools) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), pa.int64(), mask=~np.asarray(valid, dtype=bool))


def render(templates: Sequence[str], which: Ints, slots: Mapping[str, pa.Array]) -> pa.Array:
    """Row i gets templates[which[i]] with its {slots} filled from row i of each slot column.

    Rows are grouped by template so each template is one vectorised concatenation; rows whose
    `which` is negative become NULL.
    """
    pieces: list[pa.Array] = []
    rows_of_pieces: list[np.ndarray] = []
    for number, template in enumerate(templates):
        rows = np.flatnonzero(which == number)
        if rows.size:
            pieces.append(_fill(template, rows, slots))
            rows_of_pieces.append(rows)
    missing = np.flatnonzero(which < 0)
    if missing.size:
        pieces.append(pa.nulls(missing.size, pa.string()))
        rows_of_pieces.append(missing)
    if not pieces:
        return pa.array([], pa.string())
    order = np.argsort(np.concatenate(rows_of_pieces), kind="stable")  # back to row order
    return pa.concat_arrays(pieces).take(pa.array(order))


def _fill(template: str, rows: np.ndarray, slots: Mapping[str, pa.Array]) -> pa.Array:
    parts: list[pa.Array | str] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        if literal:
            parts.append(literal)
        if name is not None:
            parts.append(slots[name].take(pa.array(rows)))
    if not any(isinstance(part, pa.Array) for part in parts):
        return pa.array([template] * rows.size, pa.string())
    return join(*parts)


class LocalClock:
    """UTC offsets of a few zones, hour by hour, so local hours come out of array lookups.

    Offsets are sampled at the top of every UTC hour of the seeded period; daylight-saving
    switches happen on whole UTC hours, so the lookup is exact for the zones we use.
    """

    def __init__(self, zones: Sequence[str], first_day: datetime, days: int) -> None:
        self.origin = int(first_day.timestamp()) // DAY * DAY
        self.hours = days * 24
        table = np.zeros((len(zones), self.hours), dtype=np.int64)
        for z, name in enumerate(zones):
            zone = ZoneInfo(name)
            for hour in range(self.hours):
                offset = datetime.fromtimestamp(self.origin + hour * HOUR, zone).utcoffset() or timedelta(0)
                table[z, hour] = int(offset.total_seconds())
        self.table = table

    def offset(self, zone: Ints, utc: Ints) -> Ints:
        hour = np.clip((np.asarray(utc) - self.origin) // HOUR, 0, self.hours - 1)
        return np.asarray(self.table[zone, hour])

    def defer_into_window(self, zone: Ints, utc: Ints, start_hour: Ints, end_hour: Ints) -> Ints:
        """The first moment at or after `utc` inside [start_hour, end_hour) local time."""
        offset = self.offset(zone, utc)
        local = np.asarray(utc) + offset
        midnight = local // DAY * DAY
        hour = (local - midnight) // HOUR
        opens = midnight + start_hour * HOUR
        local = np.where(hour < start_hour, opens, np.where(hour >= end_hour, opens + DAY, local))
        guess = local - offset
        return np.asarray(local - self.offset(zone, guess))  # the offset may differ across a DST switch
