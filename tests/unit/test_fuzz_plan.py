"""The plan validator fuzzed with hypothesis: valid plans (tests/unit/plan_strategies.py) broken at
random places (a value replaced by any JSON, a key removed, a key added), and any JSON at all.
`parse_plan` never raises; it gives a plan or problems, each at a JSON path that leads into the
document given (up to the missing key it names) with a message."""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.plan import Plan, parse_plan, validate_plan
from tests.fuzz_tally import examples, tried
from tests.unit.plan_strategies import plans

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["PT24H", "P1W", "email", "sms", "stop", "send", "wait", "branch", "America/New_York", "$"])
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
TOKEN = re.compile(r'\.([^.\[\]]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def locations(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the document: the paths of its containers' members."""
    found = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += locations(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += locations(value, (*path, index))
    return found


@st.composite
def broken_plans(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(plans()))
    for _ in range(draw(st.integers(1, 3))):
        places = [p for p in locations(doc) if p]
        if not places:
            return draw(ANY_JSON)
        where = draw(st.sampled_from(places))
        parent = doc
        for step in where[:-1]:
            parent = parent[step]
        how = draw(st.sampled_from(["replace", "remove", "add"]))
        if how == "replace":
            parent[where[-1]] = draw(ANY_JSON)
        elif how == "remove":
            del parent[where[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(ANY_JSON)
        else:
            parent.append(draw(ANY_JSON))
    return doc


def leads_into(doc: Any, path: str) -> bool:
    """The path starts at `$` and each step exists in the document, but perhaps the last (a missing key)."""
    if not path.startswith("$"):
        return False
    steps = TOKEN.findall(path[1:])
    if "".join(f".{key}" if key else f"[{index or quoted}]" for key, index, quoted in steps) != path[1:]:
        return False
    node = doc
    for number, (name, index, quoted) in enumerate(steps):
        last = number == len(steps) - 1
        key = json.loads(quoted) if quoted else name
        if key and isinstance(node, dict) and key in node:
            node = node[key]
        elif index and isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
        else:
            return last
    return True


def same_json(a: Any, b: Any) -> bool:
    """Equality that takes NaN as itself: the validator must not change what it reads."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@given(doc=st.one_of(broken_plans(), broken_plans(), broken_plans(), ANY_JSON))
@settings(max_examples=examples(800), derandomize=True, suppress_health_check=list(HealthCheck), database=None)
def test_any_plan_json_gives_a_plan_or_problems_at_json_paths(doc: Any) -> None:
    tried("plan_validator")
    given_doc = copy.deepcopy(doc)
    result = parse_plan(doc)
    assert same_json(doc, given_doc)  # read, never changed
    if isinstance(result, Plan):
        assert validate_plan(doc) == []
        return
    assert result, "an invalid plan comes with its problems"
    for problem in result:
        assert problem.message.strip(), problem
        assert leads_into(doc, problem.path), problem
    assert validate_plan(doc) == result


def test_an_unknown_key_that_is_not_a_name_is_quoted_in_its_path() -> None:
    """Found by the fuzz: `{"": 1}` was reported at `$.`, and `a.b` at `$.a.b`, a path to nowhere."""
    paths = [p.path for p in validate_plan({"version": 2, "": 1, "a.b": 2, "ok_name": 3, 'say "hi"': 4})]
    assert '$[""]' in paths
    assert '$["a.b"]' in paths
    assert "$.ok_name" in paths
    assert '$["say \\"hi\\""]' in paths


def test_a_null_start_is_a_problem_not_a_silent_refusal() -> None:
    """Found by the fuzz: `"start": null` gave no plan and no problem, so `validate_plan` said []
    (may launch) of a plan `parse_plan` refused."""
    plan = {
        "version": 2,
        "timezone": "UTC",
        "quiet_hours": {"start": 0, "end": 0},
        "send_window": {"start": 0, "end": 1},
        "start": None,
        "nodes": [
            {"id": "n0", "kind": "send", "channels": ["email"], "template": "t-n0", "next": "s0"},
            {"id": "s0", "kind": "stop", "result": "completed"},
        ],
    }
    assert [str(p) for p in validate_plan(plan)] == ["$.start: missing: the id of the node every enrollment begins at"]
    assert isinstance(parse_plan({**plan, "start": "n0"}), Plan)
