"""The Agents page's run tables and heartbeat card, on the console's pinned clock: a run that
raised nothing has an empty Error cell (not a grey None), and a stale heartbeat reads as bad."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from pages import session
from tests.app.driver import acme_with_operator, add_operator, open_page, signed_in, truncate

EMAIL, PASSWORD = "ops@acme.example", "agents-page-pass"
ADMIN_EMAIL = "root@acme.example"
HEARTBEAT_AT = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def acme(engine: Engine) -> Iterator[int]:
    """One tenant, its operator, and two runs that both succeeded: the heartbeat and a scan."""
    truncate(engine)
    with engine.begin() as conn:
        tenant = acme_with_operator(conn, email=EMAIL, password=PASSWORD, role="manager")
        add_operator(  # runs the installation
            conn, tenant, email=ADMIN_EMAIL, password=PASSWORD, role="superuser", name="Root"
        )
        conn.execute(
            sa.text(
                """INSERT INTO agent_runs (job_id, agent, tenant_id, status, counts, started_at, finished_at, host)
                   VALUES ('beat-1', 'heartbeat', NULL, 'succeeded', '{"tenants": 1}', :at, :at, 'w1'),
                          ('scan-1', 'scanner', :t, 'succeeded', '{"enrolled": 4}',
                           :at - interval '5 minutes', :at - interval '4 minutes', 'w1')"""
            ),
            {"t": tenant, "at": HEARTBEAT_AT},
        )
    yield tenant
    truncate(engine)


def agents_page_at(clock: dt.datetime, email: str = EMAIL) -> AppTest:
    at = signed_in(email, PASSWORD)
    at.session_state[session.CLOCK] = clock
    return open_page(at, "pages/agent_activity.py")


def heartbeat_card(at: AppTest) -> MetricProto:
    [card] = [m.proto for m in at.metric if m.label == "Cron heartbeat"]
    return card


def run_tables(at: AppTest) -> list[list[dict[str, object]]]:
    """The two run tables (latest per agent, recent runs): the only ones with an error and a host."""
    return [d.value.to_dict("records") for d in at.dataframe if {"error", "host"} <= set(d.value.columns)]


def test_runs_of_no_tenant_are_shown_to_the_superuser_only(acme: int) -> None:
    manager = run_tables(agents_page_at(HEARTBEAT_AT + dt.timedelta(minutes=1)))
    assert [[row["agent"] for row in rows] for rows in manager] == [["scanner"], ["scanner"]]


def test_runs_without_an_error_show_an_empty_error_cell(acme: int) -> None:
    at = agents_page_at(HEARTBEAT_AT + dt.timedelta(minutes=1), ADMIN_EMAIL)

    tables = run_tables(at)
    assert len(tables) == 2
    for rows in tables:
        assert [row["agent"] for row in rows] == ["heartbeat", "scanner"]  # by name, and newest first
        assert [row["error"] for row in rows] == ["", ""]


def test_a_fresh_heartbeat_has_no_warning(acme: int) -> None:
    at = agents_page_at(HEARTBEAT_AT + dt.timedelta(minutes=2))

    card = heartbeat_card(at)
    assert (card.body, card.delta) == ("2 min ago", "")


def test_a_stale_heartbeat_reads_as_bad_not_as_a_green_rise(acme: int) -> None:
    # Stale after 10 min (HEARTBEAT_STALE); 11 min after the beat it is, and reads "11 min ago".
    at = agents_page_at(HEARTBEAT_AT + dt.timedelta(minutes=11))

    card = heartbeat_card(at)
    assert (card.body, card.delta) == ("11 min ago", "stale")
    assert card.color == MetricProto.MetricColor.RED
    assert card.direction == MetricProto.MetricDirection.NONE
