"""The Leads & scores map: every lead a WebGL point (a fixed sample above the limit), and a
box or lasso selection that becomes "Recover N selected", run once however often it is pressed."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services import demo, operators
from app.services.scan import RecoverOutcome
from components import charts
from db import queries
from db.models import LEAD_STATES
from pages import lead_map, session
from pages.recovery_actions import RecoverReport, RecoverRequest, should_submit
from tests.app import factories
from tests.app.driver import open_page, rows, signed_in, truncate, value


@pytest.fixture
def seeded(engine: Engine) -> Iterator[int]:
    truncate(engine)
    demo.seed(tenants=1, leads=300, seed=7)
    yield int(value(engine, "SELECT id FROM tenants ORDER BY id LIMIT 1"))
    truncate(engine)


@pytest.fixture
def world(engine: Engine, redis_conn: redis.Redis) -> Iterator[factories.World]:
    truncate(engine)
    built = factories.build(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE tenants SET holdout_percent = 0 WHERE id = %s", (built.tenants["acme"],))
    yield built
    truncate(engine)


def scatter_spec(at: AppTest) -> dict[str, Any]:
    charts_shown = [e for e in at.get("plotly_chart") if "scattergl" in e.proto.spec]
    assert len(charts_shown) == 1
    return dict(json.loads(charts_shown[0].proto.spec))


def decoded(value: Any) -> Any:
    """Plotly sends NumPy arrays as typed arrays ({"dtype", "bdata", "shape"}); here as lists again."""
    if not (isinstance(value, dict) and "bdata" in value):
        return value
    array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    if "shape" in value:
        array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
    return array.tolist()


def shown_points(at: AppTest) -> dict[int, tuple[str, float, int, float]]:
    """Each point of the map by lead id: (its trace, days silent, intent score, deal value)."""
    points: dict[int, tuple[str, float, int, float]] = {}
    for trace in scatter_spec(at)["data"]:
        xs, ys, custom = decoded(trace["x"]), decoded(trace["y"]), decoded(trace["customdata"])
        for x, y, (lead_id, deal) in zip(xs, ys, custom, strict=True):
            points[int(lead_id)] = (trace["name"], float(x), int(y), float(deal))
    return points


def test_the_map_shows_every_demo_lead_as_a_webgl_point(seeded: int, engine: Engine) -> None:
    clock = dt.datetime.now(dt.UTC).replace(microsecond=0)
    email = value(engine, "SELECT email FROM operators WHERE tenant_id = :t AND email LIKE 'demo@%'", t=seeded)
    at = signed_in(email, operators.DEMO_PASSWORD)
    at.session_state[session.CLOCK] = clock
    at = open_page(at, "pages/lead_scores.py")
    spec = scatter_spec(at)
    assert {trace["type"] for trace in spec["data"]} == {"scattergl"}
    expected = rows(
        engine,
        """SELECT id, replace(recovery_state, '_', ' ') AS state, intent_score, deal_value::float8 AS deal,
                  extract(epoch FROM CAST(:now AS timestamptz) - last_activity_at)::float8 / 86400 AS days
           FROM leads WHERE tenant_id = :t ORDER BY id""",
        t=seeded,
        now=clock,
    )
    assert len(expected) == 300  # the demo seeded 300 leads: under the sampling bound, each one a point
    points = shown_points(at)
    assert sorted(points) == [r.id for r in expected]
    for r in expected:
        state, days, score, deal = points[r.id]
        assert (state, score, deal) == (r.state, r.intent_score, r.deal), r.id
        assert abs(days - r.days) <= 0.05 + 1e-9, r.id  # days silent at the pinned clock, to one decimal
    assert any(c.value.startswith("Showing 300 of 300 leads on the map") for c in at.caption)


def test_sampling_is_exactly_the_limit_and_the_same_every_call(seeded: int, engine: Engine) -> None:
    total = int(value(engine, "SELECT count(*) FROM leads WHERE tenant_id = :t", t=seeded))
    first, first_total = queries.lead_scatter(engine, seeded, limit=100, all_up_to=50)
    second, second_total = queries.lead_scatter(engine, seeded, limit=100, all_up_to=50)
    assert first_total == second_total == total > 100
    assert len(first) == 100
    assert first["id"].tolist() == second["id"].tolist()
    assert first["id"].is_unique
    assert first["id"].is_monotonic_increasing
    assert list(first.columns) == ["id", "name", "days_silent", "intent_score", "deal_value", "recovery_state"]
    everything, _ = queries.lead_scatter(engine, seeded)
    assert len(everything) == total
    assert set(first["id"]) < set(everything["id"])
    below_the_bound, _ = queries.lead_scatter(engine, seeded, limit=100, all_up_to=total)
    assert below_the_bound["id"].tolist() == everything["id"].tolist(), "up to the bound, every lead is a point"


def test_a_selection_payload_becomes_lead_ids() -> None:
    event = {
        "selection": {
            "points": [
                {"curve_number": 0, "point_index": 3, "x": 1.0, "y": 50, "customdata": [17, 1200.0]},
                {"curve_number": 1, "point_index": 0, "x": 2.0, "y": 40, "customdata": [5, 0.0]},
                {"curve_number": 1, "point_index": 0, "x": 2.0, "y": 40, "customdata": [17, 1200.0]},
                {"curve_number": 2, "point_index": 1, "x": 3.0, "y": 10},
            ],
            "point_indices": [3, 0, 1],
            "box": [],
            "lasso": [],
        }
    }
    assert charts.selected_ids(event) == [17, 5]
    assert charts.selected_ids({"selection": {"points": []}}) == []
    assert charts.selected_ids(None) == []


def test_marker_sizes_grow_with_value_within_bounds() -> None:
    sizes = charts.marker_sizes(pd.Series([0.0, 2500.0, 10_000.0]))
    assert sizes == [4.0, 11.0, 18.0]
    fig = charts.lead_scatter_figure(
        pd.DataFrame(
            {
                "id": [1, 2],
                "name": ["A B", "C D"],
                "days_silent": [1.0, 9.5],
                "intent_score": [80, 20],
                "deal_value": [100.0, 400.0],
                "recovery_state": ["silent", "active"],
            }
        ),
        states=LEAD_STATES,
        title="t",
    )
    assert [t.name for t in fig.data] == ["active", "silent"]
    assert all(t.type == "scattergl" for t in fig.data)


def select_on_map(at: AppTest, ids: list[int]) -> AppTest:
    round_ = at.session_state.get(lead_map.SCATTER_ROUND, 0)
    key = lead_map.scatter_key(round_)
    points = [{"curve_number": 0, "point_index": i, "customdata": [lead_id, 0.0]} for i, lead_id in enumerate(ids)]
    at.session_state[key] = {"selection": {"points": points, "point_indices": [], "box": [], "lasso": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_recover_the_selection_once_however_often_pressed(world: factories.World, engine: Engine) -> None:
    acme = world.tenants["acme"]
    silent = [
        r.id
        for r in rows(
            engine,
            "SELECT id FROM leads WHERE tenant_id = :t AND recovery_state IN ('active', 'silent') ORDER BY id LIMIT 2",
            t=acme,
        )
    ]
    assert len(silent) == 2
    with engine.begin() as conn:  # reachable by email and at the foot of the ladder: each enrolls at rung 1
        conn.execute(
            sa.text("UPDATE leads SET silence_level = 0, consent_email = true WHERE id = ANY(:ids)"), {"ids": silent}
        )
    at = open_page(signed_in("demo@acme.example", factories.DEMO_PASSWORD), "pages/lead_scores.py")
    at = select_on_map(at, silent)
    button = at.button(key="leads.recover_selected")
    assert button.label == "Recover 2 selected"
    assert not button.disabled
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [m.value for m in at.success] == ["Recover now: 2 enrolled."]
    enrolled_sql = """SELECT lead_id, rung, is_control, status FROM enrollments
                      WHERE lead_id = ANY(:ids) ORDER BY lead_id"""
    enrolled = [tuple(r) for r in rows(engine, enrolled_sql, ids=silent)]
    assert enrolled == [(silent[0], 1, False, "active"), (silent[1], 1, False, "active")]
    states = rows(engine, "SELECT recovery_state, silence_level FROM leads WHERE id = ANY(:ids)", ids=silent)
    assert {tuple(r) for r in states} == {("in_recovery", 1)}
    # The round moved on: the selection is cleared, and the button waits for a new one.
    assert at.button(key="leads.recover_selected").label == "Recover selected"
    assert at.button(key="leads.recover_selected").disabled
    # Selecting the same leads again and pressing enrolls nobody twice.
    at = select_on_map(at, silent)
    at.button(key="leads.recover_selected").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [m.value for m in at.info if m.value.startswith("Recover now")] == ["Recover now: 2 already in recovery."]
    assert not at.success
    assert [tuple(r) for r in rows(engine, enrolled_sql, ids=silent)] == enrolled


def test_the_second_press_of_a_double_click_starts_nothing() -> None:
    """Both presses of a double click carry the request the button was drawn with (same ids, same
    round): once the first is reported, the second starts nothing; the next round's press does."""
    first = RecoverRequest(tenant_id=1, lead_ids=(5, 17), round=0)
    report = RecoverReport(first, {5: RecoverOutcome.ENROLLED, 17: RecoverOutcome.ENROLLED})
    assert should_submit(first, None, None)
    assert not should_submit(first, None, report)
    assert not should_submit(RecoverRequest(tenant_id=1, lead_ids=(5, 17), round=1), first, report), "one at a time"
    assert should_submit(RecoverRequest(tenant_id=1, lead_ids=(5, 17), round=1), None, report)
    assert not should_submit(RecoverRequest(tenant_id=1, lead_ids=(), round=1), None, report)
