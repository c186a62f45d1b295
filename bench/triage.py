"""`python -m bench.triage`: how well and how fast the offline reply triage reads replies.

Target (issue 11, "Reply triage"): under 10 ms per reply, and per-class precision and recall on
a held-out split. The split is by phrasing (`group` in the shipped set), stratified by intent
with a fixed seed: a fifth of each intent's phrasings, with all their SMS/email/typo variants,
is held out, so the model is never scored on a variant of a sentence it trained on. The
baseline, measured in the same run on the same rows, is the rules alone (`model=None`).
Results go to bench/results/triage.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app.domain.triage import Intent, NaiveBayes, classify
from app.services.triage_model import examples
from bench.seed import machine_info

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "triage.json"
TARGET_MS = 10.0
TODAY = date(2026, 12, 6)


def split(rows: list[dict[str, str]], seed: int, held: float) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["group"] not in groups[r["intent"]]:
            groups[r["intent"]].append(r["group"])
    rng = random.Random(seed)
    test_groups: set[str] = set()
    for intent in sorted(groups):
        names = sorted(groups[intent])
        rng.shuffle(names)
        test_groups.update(names[: max(1, round(len(names) * held))])
    return [r for r in rows if r["group"] not in test_groups], [r for r in rows if r["group"] in test_groups]


def score(rows: list[dict[str, str]], model: NaiveBayes | None) -> dict[str, Any]:
    latencies: list[float] = []
    predicted: list[str] = []
    for r in rows:
        start = time.perf_counter()
        got = classify(r["text"], model=model, today=TODAY, first_name="Ann", business="Acme")
        latencies.append((time.perf_counter() - start) * 1000)
        predicted.append(got.intent.value)
    per_class = {}
    for intent in Intent:
        tp = sum(1 for r, p in zip(rows, predicted, strict=True) if p == intent and r["intent"] == intent)
        said = sum(1 for p in predicted if p == intent)
        real = sum(1 for r in rows if r["intent"] == intent)
        per_class[intent.value] = {
            "precision": round(tp / said, 3) if said else None,
            "recall": round(tp / real, 3) if real else None,
            "support": real,
        }
    correct = sum(1 for r, p in zip(rows, predicted, strict=True) if p == r["intent"])
    ordered = sorted(latencies)
    return {
        "accuracy": round(correct / len(rows), 3),
        "per_class": per_class,
        "latency_ms": {
            "median": round(statistics.median(ordered), 4),
            "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 4),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.triage", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--held-out", type=float, default=0.2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    rows = examples()
    train, test = split(rows, args.seed, args.held_out)
    start = time.perf_counter()
    model = NaiveBayes.train((r["text"], r["intent"]) for r in train)
    train_ms = (time.perf_counter() - start) * 1000
    for r in test[:20]:  # warm-up: regex compilation and first-call costs are not per-reply costs
        classify(r["text"], model=model, today=TODAY)
    offline = score(test, model)
    rules_only = score(test, None)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples": len(rows),
        "train_rows": len(train),
        "held_out_rows": len(test),
        "split": f"by phrasing group, stratified by intent, {args.held_out:.0%} held out, seed {args.seed}",
        "train_ms": round(train_ms, 1),
        "target_ms_per_reply": TARGET_MS,
        "rules_and_model": offline,
        "baseline_rules_only": rules_only,
        "accuracy_gain_vs_baseline": round(offline["accuracy"] - rules_only["accuracy"], 3),
        "meets_target": offline["latency_ms"]["p99"] < TARGET_MS,
        "machine": machine_info(load_before),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("held_out_rows", "accuracy_gain_vs_baseline", "meets_target")}))
    print(
        "offline", offline["accuracy"], offline["latency_ms"], "rules", rules_only["accuracy"], rules_only["latency_ms"]
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
