"""What a failed statement leaves behind: the engine hides bound parameters from every error
message, and `agent_runs.error` keeps the error's class and the schema names involved, never a
value PostgreSQL quoted (a lead's email in a DETAIL line, or in `invalid input syntax`)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from app import runtime
from app.services import agent_runs

EMAIL = "ann.private@lead.example"


def test_a_failed_statement_never_shows_its_parameters(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(sa.exc.DataError) as failed:
        conn.execute(sa.text("SELECT CAST(:email AS integer)"), {"email": EMAIL})
    text = str(failed.value)
    assert "[SQL parameters hidden due to hide_parameters=True]" in text
    assert "'email':" not in text


def duplicate_tenant_slug(slug: str) -> None:
    with runtime.engine().begin() as conn:
        conn.execute(sa.text("INSERT INTO tenants (name, slug) VALUES (:n, :s)"), {"n": "Ann", "s": slug})


def test_a_failed_run_stores_names_not_values(clean_db: Engine) -> None:
    duplicate_tenant_slug(EMAIL)
    with (
        pytest.raises(sa.exc.IntegrityError),
        agent_runs.tracked_run(agent="scanner", job_id="job-duplicate"),
    ):
        duplicate_tenant_slug(EMAIL)  # DETAIL: Key (slug)=(ann.private@lead.example) already exists.
    with (
        pytest.raises(sa.exc.DataError),
        agent_runs.tracked_run(agent="scanner", job_id="job-cast"),
        runtime.engine().connect() as conn,
    ):
        conn.execute(sa.text("SELECT CAST(:email AS integer)"), {"email": EMAIL})
    with clean_db.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT job_id, error FROM agent_runs WHERE status = 'failed'")).all())
    assert stored == {
        "job-duplicate": "IntegrityError (UniqueViolation, SQLSTATE 23505, table tenants, constraint uq_tenants_slug)",
        "job-cast": "DataError (InvalidTextRepresentation, SQLSTATE 22P02)",
    }
