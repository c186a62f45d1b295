"""A run whose worker was killed does not stay `running` in the ledger forever."""

from __future__ import annotations

import sqlalchemy as sa

from agents.sender import reconcile_sending
from app.services import agent_runs


def test_old_running_rows_are_failed_and_fresh_ones_kept(clean_db: sa.Engine) -> None:
    agent_runs.start_run(job_id="dead", agent="writer")
    agent_runs.start_run(job_id="alive", agent="writer")
    with clean_db.begin() as conn:
        conn.execute(sa.text("UPDATE agent_runs SET started_at = now() - interval '2 hours' WHERE job_id = 'dead'"))

    counts = reconcile_sending()

    assert counts["abandoned_runs"] == 1
    with clean_db.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT job_id, status FROM agent_runs WHERE agent = 'writer'")).all())
        error = conn.execute(sa.text("SELECT error FROM agent_runs WHERE job_id = 'dead'")).scalar_one()
    assert rows == {"dead": "failed", "alive": "running"}
    assert "abandoned" in error


def test_a_rerun_of_an_abandoned_job_takes_its_row_back(clean_db: sa.Engine) -> None:
    agent_runs.start_run(job_id="j1", agent="scanner")
    with clean_db.begin() as conn:
        conn.execute(sa.text("UPDATE agent_runs SET started_at = now() - interval '2 hours'"))
    assert agent_runs.fail_abandoned() == 1

    agent_runs.start_run(job_id="j1", agent="scanner")

    with clean_db.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM agent_runs WHERE job_id = 'j1'")).scalar_one() == "running"
