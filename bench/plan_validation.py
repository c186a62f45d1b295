"""`python -m bench.plan_validation`: how long `parse_plan` takes to read and validate a 200-node plan.

Target (issue 10, "Campaigns"): validating a 200-node plan takes under 50 ms. The plan is
built here, not drawn at random, to look like a long real campaign: 33 stages of six nodes
(a two-variant email with open/reply timers and event routes, a wait, a branch on deal value
and stage, a re-check wait that loops back to the branch, an SMS follow-up, a gate wait to
the next stage) plus a completed and a stopped end: 200 nodes, 33 loops through a wait,
528 edges. Each run parses the JSON from scratch (types, durations, conditions, zone,
hours, targets, reachability, loops); the median of many runs is the figure. The same plan
with three mistakes is timed too, since a draft under edit is validated after every change.
Results go to bench/results/plan_validation.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain.plan import Plan, parse_plan
from bench.seed import machine_info

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "plan_validation.json"
TARGET_MS = 50.0
STAGES = 33


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plan_validation", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    plan = long_plan(STAGES)
    parsed = parse_plan(plan)
    if not isinstance(parsed, Plan):
        raise SystemExit(f"the bench plan is invalid: {parsed[:3]}")
    broken = with_mistakes(plan)
    problems = parse_plan(broken)
    if isinstance(problems, Plan):
        raise SystemExit("the broken bench plan validated")
    valid_ms = timings(plan, args.runs, args.warmup)
    broken_ms = timings(broken, args.runs, args.warmup)
    median = statistics.median(valid_ms)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nodes": len(plan["nodes"]),
        "edges": edge_count(plan),
        "runs": args.runs,
        "method": "time.perf_counter around parse_plan(json) (parse and every check), after warm-up runs",
        "valid_plan": summary(valid_ms),
        "plan_with_3_problems": {**summary(broken_ms), "problems": [str(p) for p in problems]},
        "target": {"median_ms_below": TARGET_MS},
        "met": median < TARGET_MS,
        "machine": machine_info(load_before),
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2))
    return 0


def timings(plan: dict[str, Any], runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        parse_plan(plan)
    elapsed = []
    for _ in range(runs):
        started = time.perf_counter()
        parse_plan(plan)
        elapsed.append((time.perf_counter() - started) * 1000)
    return elapsed


def summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "min_ms": round(ordered[0], 3),
        "max_ms": round(ordered[-1], 3),
    }


def long_plan(stages: int) -> dict[str, Any]:
    """A valid plan of `stages` six-node stages and two ends."""
    nodes: list[dict[str, Any]] = []
    for k in range(stages):
        following = f"send-{k + 1}" if k + 1 < stages else "done"
        nodes += stage(k, following)
    nodes += [{"id": "done", "kind": "stop"}, {"id": "stop", "kind": "stop", "result": "stopped"}]
    return {
        "version": 2,
        "timezone": "America/Chicago",
        "quiet_hours": {"start": 21, "end": 8},
        "send_window": {"start": 8, "end": 20},
        "start": "send-0",
        "nodes": nodes,
    }


def stage(k: int, following: str) -> list[dict[str, Any]]:
    ends = [{"on": "replied", "to": "stop"}, {"on": "unsubscribed", "to": "stop"}]
    return [
        {
            "id": f"send-{k}",
            "kind": "send",
            "channels": ["email", "sms"],
            "brief": f"stage {k}: a short check-in",
            "variants": [{"name": "A", "weight": 1}, {"name": "B", "weight": 1, "template": f"tpl-{k}-b"}],
            "transitions": [
                {"on": "opened", "to": f"branch-{k}", "within": "PT24H"},
                {"on": "clicked", "to": following},
                *ends,
                {"on": "no_open", "to": f"wait-{k}", "after": "P2D"},
                {"on": "no_reply", "to": f"branch-{k}", "after": "P5D"},
            ],
        },
        {"id": f"wait-{k}", "kind": "wait", "duration": "P1D", "next": f"branch-{k}", "transitions": ends},
        {
            "id": f"branch-{k}",
            "kind": "branch",
            "cases": [
                {"if": {"field": "deal_value", "op": ">=", "value": 5000}, "to": f"sms-{k}"},
                {"if": {"field": "stage", "op": "in", "value": ["new", "contacted"]}, "to": f"recheck-{k}"},
            ],
            "else": f"gate-{k}",
        },
        {"id": f"recheck-{k}", "kind": "wait", "duration": "PT6H", "next": f"branch-{k}"},
        {
            "id": f"sms-{k}",
            "kind": "send",
            "channels": ["sms", "email"],
            "template": f"tpl-{k}-sms",
            "next": f"gate-{k}",
        },
        {
            "id": f"gate-{k}",
            "kind": "wait",
            "duration": "PT12H",
            "next": following,
            "transitions": [{"on": "replied", "to": "stop"}],
        },
    ]


def with_mistakes(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan with an unknown target, a month-long wait and a loop of sends without a wait."""
    broken = copy.deepcopy(plan)
    nodes = broken["nodes"]
    nodes[6 * 10]["transitions"][1]["to"] = "send-99"
    nodes[6 * 20 + 1]["duration"] = "P1M"
    nodes[6 * 30 + 4]["next"] = f"branch-{30}"
    return broken


def edge_count(plan: dict[str, Any]) -> int:
    count = 0
    for node in plan["nodes"]:
        count += sum(1 for key in ("next", "else") if key in node)
        count += len(node.get("cases", [])) + len(node.get("transitions", []))
    return count


if __name__ == "__main__":
    raise SystemExit(main())
