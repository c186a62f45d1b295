"""The plan as a graph: targets that do not exist, nodes no enrollment can reach, loops that never wait.

A loop is safe when something on it takes time: a wait node, or a timer transition
(`no_open`/`no_click`/`no_reply` after a duration). A loop of sends and branches alone would
move an enrollment round it for ever in one step, and one made of event transitions alone
would answer each event with a lap; both are refused. Loops are found as the strongly
connected components of the edges that do not wait (Tarjan's algorithm, iterative so a long
plan cannot exhaust the stack), so the check is linear in the plan's size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from app.domain.plan.model import Problem


@dataclass(frozen=True)
class Edge:
    """A way out of `source`: `waits` when taking it needs time to pass (out of a wait, or a timer)."""

    source: str
    target: str
    path: str
    waits: bool


def graph_problems(start: str | None, node_paths: Mapping[str, str], edges: list[Edge]) -> list[Problem]:
    """Unknown targets, an unknown start, nodes it cannot reach, and loops without a wait.

    `start` is None when the plan has no usable one (its reader reported that): then nothing
    can be said about reachability.
    """
    problems = [Problem(e.path, f"unknown node '{e.target}'") for e in edges if e.target not in node_paths]
    known = [e for e in edges if e.target in node_paths]
    if start is not None and start not in node_paths:
        problems.append(Problem("$.start", f"unknown node '{start}'"))
    elif start is not None:
        problems += _unreachable(start, node_paths, known)
    problems += _loops_without_wait(node_paths, [e for e in known if not e.waits])
    return problems


def _successors(edges: list[Edge]) -> dict[str, list[str]]:
    successors: dict[str, list[str]] = {}
    for edge in edges:
        successors.setdefault(edge.source, []).append(edge.target)
    return successors


def _unreachable(start: str, node_paths: Mapping[str, str], edges: list[Edge]) -> list[Problem]:
    successors = _successors(edges)
    seen = {start}
    queue = deque([start])
    while queue:
        for target in successors.get(queue.popleft(), ()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return [
        Problem(path, f"node '{node}' cannot be reached from start '{start}'")
        for node, path in node_paths.items()
        if node not in seen
    ]


def _loops_without_wait(node_paths: Mapping[str, str], edges: list[Edge]) -> list[Problem]:
    successors = _successors(edges)
    order = {node: position for position, node in enumerate(node_paths)}
    problems = []
    for component in _components(list(node_paths), successors):
        looping = len(component) > 1 or component[0] in successors.get(component[0], ())
        if looping:
            ordered = sorted(component, key=order.__getitem__)
            names = " → ".join(f"'{node}'" for node in [*ordered, ordered[0]])
            problems.append(
                Problem(node_paths[ordered[0]], f"loop with no wait node and no timer on it: {names} would never stop")
            )
    return problems


def _components(nodes: list[str], successors: dict[str, list[str]]) -> Iterator[list[str]]:
    """Tarjan's strongly connected components, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(successors.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                yield _pop_component(node, stack, on_stack)


def _pop_component(root: str, stack: list[str], on_stack: set[str]) -> list[str]:
    component = []
    while True:
        node = stack.pop()
        on_stack.discard(node)
        component.append(node)
        if node == root:
            return component
