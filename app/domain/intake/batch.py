"""Rows of one batch (a file, an API request) that name the same lead become one write.

A row joins the first earlier group that shares its external id, else its email, else its
phone: the same order in which a lead is matched in the database. A group is written as its
rows folded in file order: the external id is the first one given (an identity never flips
half-way through a file), every other field the last one given, attributes merged key by key.
So a file that lists a lead twice makes one lead, and its second line wins, as it would had
the two lines come in two files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from app.domain.intake.fields import LeadValues

_FIELDS = [f.name for f in dataclasses.fields(LeadValues)]


def groups(rows: Sequence[LeadValues]) -> list[int]:
    """For each row, the index of the first row of its group."""
    by_key: tuple[dict[str, int], dict[str, int], dict[str, int]] = ({}, {}, {})
    owner: list[int] = []
    for index, row in enumerate(rows):
        keys = row.identity()
        group = next(
            (found for key, seen in zip(keys, by_key, strict=True) if key and (found := seen.get(key)) is not None),
            index,
        )
        for key, seen in zip(keys, by_key, strict=True):
            if key:
                seen.setdefault(key, group)
        owner.append(group)
    return owner


def fold(rows: Sequence[LeadValues]) -> LeadValues:
    """One lead's rows, in order, as one (see the module)."""
    merged: dict[str, object] = {}
    attributes: dict[str, object] = {}
    for row in rows:
        for name in _FIELDS:
            value = getattr(row, name)
            if name == "attributes":
                attributes.update(value or {})
            elif name == "phone_landline":
                if row.phone is not None:
                    merged[name] = value
            elif value is not None and (name != "external_id" or name not in merged):
                merged[name] = value
    if attributes:
        merged["attributes"] = attributes
    return LeadValues(**merged)  # type: ignore[arg-type]
