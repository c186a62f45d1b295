"""Loads the shipped labelled replies and trains the offline model once per process.

Why here and not in the domain: reading the file is I/O; training on 700 rows takes well under a
second, so shipping the data (reviewable, diffable) beats shipping opaque weights.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from app.domain.triage import NaiveBayes

DATA = Path(__file__).resolve().parents[1] / "domain" / "triage" / "data" / "replies.jsonl"


def examples(path: Path = DATA) -> list[dict[str, str]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not {"text", "intent"} <= row.keys():
            raise ValueError(f"{path.name} line {n}: needs 'text' and 'intent'")
        rows.append(row)
    return rows


@lru_cache(maxsize=1)
def model() -> NaiveBayes:
    return NaiveBayes.train((r["text"], r["intent"]) for r in examples())
