"""A/B variants in a stored plan's JSON: which ones it offers, and the plan with a winner promoted.

Promotion rewrites the plan rather than teaching the interpreter about tests: every send node
that offers the winning variant keeps that variant alone, with weight 1, so `machine.step`
picks it for every later send as it picks any single variant. The losing variants are removed,
not given weight 0, because a plan may not carry a weight of zero (`nodes.py` refuses it).
Enrollments already under way keep what they were sent; only sends from now on change.

Both plan versions keep a send node's variants as `variants: [{name, weight, ...}]`, and a
plan's `nodes` may be a list or a map by id (`app/services/write.py` reads both), so this
works on the JSON as stored, whatever its version.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any


def offered_variants(plan: Any) -> tuple[str, ...]:
    """The variant names the plan's send nodes offer, each once, in the order they first appear."""
    names: dict[str, None] = {}
    for node in _send_nodes(plan):
        for variant in node.get("variants") or ():
            if isinstance(variant, Mapping) and isinstance(variant.get("name"), str) and variant["name"]:
                names.setdefault(variant["name"], None)
    return tuple(names)


def promote_variant(plan: Mapping[str, Any], winner: str) -> dict[str, Any]:
    """A copy of the plan where every send node offering `winner` offers it alone, at weight 1.

    Nodes that do not offer it are left as they are. ValueError when no node offers it: the
    verdict would change nothing, and saying so beats recording a promotion that is not.
    """
    promoted = copy.deepcopy(dict(plan))
    changed = 0
    for node in _send_nodes(promoted):
        kept = [v for v in node.get("variants") or () if isinstance(v, Mapping) and v.get("name") == winner]
        if kept:
            node["variants"] = [{**kept[0], "weight": 1}]
            changed += 1
    if not changed:
        raise ValueError(f"no send node of this plan offers variant '{winner}'")
    return promoted


def _send_nodes(plan: Any) -> Iterator[dict[str, Any]]:
    nodes = plan.get("nodes") if isinstance(plan, Mapping) else None
    items = nodes.values() if isinstance(nodes, Mapping) else nodes if isinstance(nodes, list) else ()
    for node in items:
        if isinstance(node, dict) and node.get("kind") == "send" and isinstance(node.get("variants"), list):
            yield node
