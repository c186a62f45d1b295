"""Reads replies: the shipped labelled set trains the offline model once per process.

Why here and not in the domain: reading the file is I/O; training on 700 rows takes well under a
second, so shipping the data (reviewable, diffable) beats shipping opaque weights.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from app.ai.triage import ClaudeTriage
from app.domain.triage import NaiveBayes, Triage, classify

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


def read(
    text: str,
    *,
    channel: str,
    today: date,
    first_name: str | None = None,
    business: str = "our team",
    claude: ClaudeTriage | None = None,
) -> Triage:
    """The offline reading, improved by Claude when a reader is configured and answers validly."""
    offline = classify(text, model=model(), today=today, first_name=first_name, business=business)
    if claude is None:
        return offline
    return claude.classify(text, channel=channel, first_name=first_name, business=business, offline=offline)


def classify_lines(lines: Iterable[str], out: TextIO, *, today: date, claude: ClaudeTriage | None = None) -> int:
    """JSON lines in, the same lines with intent/sentiment/priority out; returns the bad-line count.

    A bad line is not dropped: it comes out as `{"line", "error", "raw"}` in its place.
    """
    bad = 0
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError('needs a JSON object with a "text" string')
            channel = row.get("channel", "sms")
            if channel not in ("sms", "email"):
                raise ValueError(f'"channel" must be "sms" or "email", got {channel!r}')
        except ValueError as error:
            bad += 1
            out.write(json.dumps({"line": n, "error": str(error), "raw": line.rstrip("\n")}) + "\n")
            continue
        got = read(row["text"], channel=channel, today=today, claude=claude)
        row.update(intent=got.intent.value, sentiment=got.sentiment, priority=got.priority)
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return bad
