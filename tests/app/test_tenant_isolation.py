"""No tenant sees another's rows: a manager of tenant A walks every page of the console and
calls every route of the api, and nothing of tenant B shows.

The two tenants (tests/app/isolation_world.py) carry a marker string in every text they own:
names, companies, tags, notes, replies, campaigns, outbox, agent-run errors, API key names.
The console sweep opens every page registered in the navigation (`streamlit_app.PAGES`, so a
new page is swept as soon as it is registered) and reads every element of every tab and
expander (AppTest renders them all, reply threads included); it opens the lead drawer, each
step of the campaign wizard, and the picks a forged session could carry (B's lead in the
drawer, B's campaign in the list and the wizard, B's leads handed to a campaign). The api
sweep takes its routes from the app itself (a walk of its routes, checked against its
OpenAPI), so a new route is called as soon as it is mounted, with bodies naming B's rows by
id. Each sweep also finds A's marker where A's rows are shown, so a page that drew nothing
fails rather than passes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import redis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.routing import BaseRoute, Route
from streamlit.testing.v1 import AppTest

import streamlit_app
from app.api import create_app
from app.domain.unsubscribe import make_token
from app.web.intake_body import intake_clock
from app.web.unsubscribe import clock as unsubscribe_clock
from app.web.unsubscribe import signing_secret
from pages import session
from pages.campaigns import state as campaign_state
from pages.campaigns.listing import PICK
from pages.leads import picks
from tests.app import isolation_world as world
from tests.app.driver import open_page, signed_in, truncate
from tests.integration.twilio_door import AT

A, B = world.MARK["a"], world.MARK["b"]
SECRET = "isolation-unsubscribe-secret"
ROW_TABLES = ("leads", "activities", "conversions", "inbound_messages", "outbound_messages", "suppressions")


@pytest.fixture(scope="module")
def sides(engine: Engine, redis_url: str) -> Iterator[dict[str, world.Side]]:
    """Built once for the module: the console and the api sweeps read the same two tenants."""
    redis.Redis.from_url(redis_url).flushdb()
    truncate(engine)
    yield world.build(engine)
    truncate(engine)
    redis.Redis.from_url(redis_url).flushdb()


def rendered(at: AppTest) -> str:
    """Every element of the last run, lowered: its protobuf holds labels, values, options,
    table cells (Arrow bytes keep text as UTF-8) and chart data alike."""
    return "\n".join(str(node.proto) for node in at._tree if getattr(node, "proto", None) is not None).lower()


def console(side: world.Side) -> AppTest:
    at = signed_in(side.operator, world.PASSWORD)
    at.session_state[session.CLOCK] = world.CLOCK
    return at


def test_every_page_tab_and_drawer_shows_tenant_a_and_nothing_of_tenant_b(sides: dict[str, world.Side]) -> None:
    a, b = sides["a"], sides["b"]
    at = console(a)
    seen: dict[str, str] = {}
    for spec in streamlit_app.PAGES:
        seen[spec.path] = rendered(open_page(at, spec.path))
    at.session_state[picks.DRAWER] = a.leads[0]
    seen["lead drawer"] = rendered(open_page(at, "pages/lead_scores.py"))
    at.session_state[picks.DRAWER] = b.leads[0]  # B's lead id, as a forged pick would carry it
    seen["lead drawer on B's lead"] = rendered(open_page(at, "pages/lead_scores.py"))
    drawer_after_b_pick = at.session_state.get(picks.DRAWER, None)
    at.session_state[PICK] = b.campaign
    seen["campaign picked by B's id"] = rendered(open_page(at, "pages/campaign_list.py"))
    for number, name in enumerate(campaign_state.STEPS, start=1):
        campaign_state_open(at, a.draft, number)
        seen[f"wizard step {name}"] = rendered(open_page(at, "pages/campaign_list.py"))
    campaign_state_open(at, b.draft, 1)
    seen["wizard on B's draft"] = rendered(open_page(at, "pages/campaign_list.py"))
    at.session_state[campaign_state.HANDOFF] = campaign_state.LeadHandoff(a.tenant, tuple(b.leads))
    seen["B's leads handed to a campaign"] = rendered(open_page(at, "pages/campaign_list.py"))

    leaks = {where: _around(text, B) for where, text in seen.items() if B in text}
    assert leaks == {}, "tenant B's marker is shown to tenant A's manager"
    # A's own rows are on screen where they belong, so the sweep is reading real pages:
    for where in ("pages/recovery.py", "pages/lead_scores.py", "pages/campaign_list.py", "pages/reply_inbox.py"):
        assert A in seen[where], f"{where} shows none of tenant A's rows"
    assert f"pat0 {A}" in seen["lead drawer"]
    assert f"called {A}" in seen["lead drawer"]
    assert all(f"{A} spring draft" in seen[f"wizard step {name}"] for name in campaign_state.STEPS)
    # The draft's audience names B's leads too (a forged hand-over): its sample and preview keep A's.
    assert f"pat0 {A} {A}son" in seen["wizard step Audience"]
    assert f"pat0 {A} {A}son" in seen["wizard step Message"]
    assert f"yes please call me, {A} here" in seen["pages/reply_inbox.py"]  # the reply and its thread
    assert f"crm of {A}" in seen["pages/tenant_settings.py"]
    assert f"writer failed for {A}" in seen["pages/agent_activity.py"]
    assert drawer_after_b_pick is None, "B's lead id opened a drawer"


def campaign_state_open(at: AppTest, campaign: int, step: int) -> None:
    """What `pages.campaigns.state.open_campaign` leaves in the session, set from outside the page."""
    at.session_state[campaign_state.OPEN] = campaign
    at.session_state[campaign_state.STEP] = step
    at.session_state[campaign_state.SEEDED] = None


def test_what_tenant_a_left_in_the_caches_never_reaches_tenant_b(sides: dict[str, world.Side]) -> None:
    """The mirror, in one process: A's manager fills every page's `st.cache_data` entries first,
    then B's manager opens the same pages and finds B's rows and none of A's (a cached reader
    keyed on anything but the tenant would serve A's figures here)."""
    warm = console(sides["a"])
    for spec in streamlit_app.PAGES:
        open_page(warm, spec.path)
    at = console(sides["b"])
    shown = {spec.path: rendered(open_page(at, spec.path)) for spec in streamlit_app.PAGES}
    assert {path: _around(text, A) for path, text in shown.items() if A in text} == {}
    for path in ("pages/lead_scores.py", "pages/reply_inbox.py", "pages/agent_activity.py"):
        assert B in shown[path], path


def api_routes() -> list[tuple[str, str]]:
    """(method, path) of every route the api serves: its OpenAPI operations, plus every route
    found by walking the app's routes (a route left out of the schema is still called)."""
    app = create_app()
    in_schema = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    walked = {(m, path) for path, methods in _walk(app.routes, "") for m in methods if m != "HEAD"}
    assert in_schema <= walked, f"the walk misses routes (has FastAPI changed?): {in_schema - walked}"
    return sorted(walked)


def _walk(routes: Sequence[BaseRoute], prefix: str) -> Iterator[tuple[str, set[str]]]:
    """Plain routes, and the routes of included routers (FastAPI keeps an included router whole,
    under `original_router`, with its include prefix)."""
    for route in routes:
        if isinstance(route, Route | APIRoute) and route.methods:
            yield prefix + route.path, set(route.methods)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + str(getattr(context, "prefix", "") or ""))


def path_values(a: world.Side) -> dict[str, str]:
    """What A's caller puts in each path parameter; a new parameter name must be added here."""
    token = make_token(
        SECRET,
        tenant_id=a.tenant,
        channel="email",
        lead_id=a.leads[1],
        address="lead1@" + A + ".example",
        issued=AT.date(),
    )
    return {"token": token, "secret": "not-the-inbound-secret"}


def probes(b: world.Side) -> list[dict[str, Any]]:
    """Bodies that name B's rows by B's ids (never by B's marker, so an echo is no false alarm)."""
    when = (AT - dt.timedelta(hours=2)).isoformat()
    return [
        {},
        {"leads": [{"external_id": b.external_ids[1]}]},
        {"activities": [{"lead_id": b.leads[1], "kind": "call", "occurred_at": when}]},
        {"activities": [{"external_id": b.external_ids[2], "kind": "form", "occurred_at": when}]},
        {"conversions": [{"lead_id": b.leads[2], "value": "1"}]},
        {"conversions": [{"lead_external_id": b.external_ids[2], "value": "1"}]},
    ]


def b_rows(engine: Engine, tenant: int) -> dict[str, list[Any]]:
    return {
        t: [tuple(r) for r in world.sql(engine, f"SELECT * FROM {t} WHERE tenant_id = :t ORDER BY id", t=tenant)]
        for t in ROW_TABLES
    }


def crossed(engine: Engine) -> list[tuple[str, int]]:
    """Every table with a `tenant_id` and a `lead_id` (read from the catalog, so a new table is
    checked too), with how many of its rows name a lead of another tenant."""
    tables = world.sql(
        engine,
        """SELECT c.table_name FROM information_schema.columns c
           JOIN information_schema.columns t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
           JOIN information_schema.tables k ON k.table_schema = c.table_schema AND k.table_name = c.table_name
           WHERE c.table_schema = current_schema() AND c.column_name = 'lead_id' AND t.column_name = 'tenant_id'
             AND k.table_type = 'BASE TABLE'
           ORDER BY 1""",
    )
    assert {"activities", "conversions", "inbound_messages"} <= {r.table_name for r in tables}
    found = []
    for (table,) in tables:
        sql = f"SELECT count(*) FROM {table} x JOIN leads l ON l.id = x.lead_id WHERE l.tenant_id <> x.tenant_id"
        n = world.sql(engine, sql)[0][0]
        if n:
            found.append((table, n))
    return found


@pytest.fixture
def api() -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[intake_clock] = lambda: AT
    app.dependency_overrides[signing_secret] = lambda: SECRET
    app.dependency_overrides[unsubscribe_clock] = lambda: AT
    with TestClient(app) as client:
        yield client


def test_every_api_route_called_with_tenant_a_key_names_nothing_of_tenant_b(
    sides: dict[str, world.Side], api: TestClient, engine: Engine
) -> None:
    a, b = sides["a"], sides["b"]
    before = b_rows(engine, b.tenant)
    values = path_values(a)
    auth = {"Authorization": f"Bearer {a.key}"}
    answers: dict[str, str] = {}
    for method, path in api_routes():
        names = re.findall(r"{(\w+)}", path)
        assert set(names) <= values.keys(), f"{path}: say what tenant A's caller puts in {names}"
        url = path.format(**values)
        bodies = probes(b) if method in ("POST", "PUT", "PATCH") else [None]
        for n, body in enumerate(bodies):
            answer = api.request(method, url, json=body, headers=auth)
            assert answer.status_code < 500, (method, path, answer.text)
            answers[f"{method} {path} #{n}"] = (answer.text + str(answer.headers)).lower()

    leaks = {call: _around(text, B) for call, text in answers.items() if B in text}
    assert leaks == {}, "an api answer to tenant A's key names tenant B's rows"
    assert b_rows(engine, b.tenant) == before, "tenant A's key changed tenant B's rows"
    assert crossed(engine) == [], "a row of one tenant points at another tenant's lead"
    # A's caller reaches A's own rows: A's unsubscribe page names A's business.
    assert A in answers["GET /unsubscribe/{token} #0"]
    # And the probes name real rows: with B's own key, the same bodies land in B.
    for body in probes(b)[2:]:
        answer = api.post(f"/api/{next(iter(body))}", json=body, headers={"Authorization": f"Bearer {b.key}"})
        assert answer.json()["results"][0]["status"] == "created", answer.text


def _around(text: str, marker: str, width: int = 120) -> list[str]:
    """The first few places `marker` shows, with some context, for the failure message."""
    return [text[max(0, m.start() - width) : m.end() + width] for m in re.finditer(marker, text)][:3]
