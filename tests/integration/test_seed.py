"""The demo seed on a real database: deterministic, realistic, consistent with the product's rules."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from app.services import demo
from db.demo import integrity
from db.models import Base
from db.seed import seed_demo
from tests.integration.seed_world import ANCHOR, rows, scalar
from tests.support import truncate_all

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Key columns of the generated content, ordered, excluding anything the database or a random
# salt decides (ids aside, which the dumps keep: on a reset database they must repeat too).
DUMPS = {
    "leads": """SELECT md5(string_agg(concat_ws('|', id, tenant_id, external_id, first_name, last_name, company, title,
                    email, phone, timezone, source, owner_id, stage, deal_value, intent_score, last_activity_at,
                    last_contacted_at, silence_level, recovery_state, tags::text, attributes::text, consent_email,
                    consent_sms, recovered_at, recovered_value), E'\\n' ORDER BY id)) FROM leads""",
    "messages": """SELECT md5(string_agg(concat_ws('|', id, lead_id, dedupe_key, channel, to_address, subject, body,
                    source, status, provider_message_id, sent_at, delivered_at, cost_usd), E'\\n' ORDER BY id))
                    FROM outbound_messages""",
    "events": """SELECT md5(string_agg(concat_ws('|', message_id, event_type, occurred_at, natural_key),
                    E'\\n' ORDER BY natural_key)) FROM message_events""",
    "enrollments": """SELECT md5(string_agg(concat_ws('|', id, campaign_id, lead_id, status, is_control, rung,
                    current_node, next_action_at), E'\\n' ORDER BY id)) FROM enrollments""",
    "activities": """SELECT md5(string_agg(concat_ws('|', lead_id, kind, occurred_at, summary),
                    E'\\n' ORDER BY lead_id, occurred_at, kind, summary)) FROM activities""",
}


def dump(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {name: conn.execute(sa.text(sql)).scalar_one() for name, sql in DUMPS.items()}


# --- determinism -------------------------------------------------------------------------------


def test_the_same_seed_and_anchor_give_the_same_rows_and_another_seed_does_not(clean_db: Engine) -> None:
    demo.seed(tenants=2, leads=1_500, seed=11, anchor=ANCHOR)
    first = dump(clean_db)

    demo.seed(tenants=2, leads=1_500, seed=11, anchor=ANCHOR, replace=True)
    assert dump(clean_db) == first

    demo.seed(tenants=2, leads=1_500, seed=12, anchor=ANCHOR, replace=True)
    other = dump(clean_db)
    assert all(other[name] != first[name] for name in DUMPS)


def test_bulk_mode_loads_exactly_what_the_checked_mode_loads(clean_db: Engine) -> None:
    seed_demo(clean_db, tenants=3, leads=2_000, seed=5, anchor=ANCHOR, bulk=False)
    checked = dump(clean_db)
    truncate_all(clean_db)

    counts = seed_demo(clean_db, tenants=3, leads=2_000, seed=5, anchor=ANCHOR, bulk=True)

    assert dump(clean_db) == checked
    assert counts["leads"] == 2_000
    with clean_db.connect() as conn:
        present = set(conn.execute(sa.text("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")).scalars())
        role = conn.execute(sa.text("SHOW session_replication_role")).scalar_one()
    declared = {str(index.name) for table in Base.metadata.sorted_tables for index in table.indexes}
    assert declared <= present, "bulk mode must rebuild every index it dropped"
    assert role == "origin"


def test_a_failing_bulk_lane_leaves_nothing_behind(clean_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the provider log is unreadable")

    monkeypatch.setattr("db.demo.messages.events_table", broken)
    with pytest.raises(RuntimeError, match="unreadable"):
        seed_demo(clean_db, tenants=2, leads=1_000, seed=5, anchor=ANCHOR, bulk=True)

    assert scalar(clean_db, "SELECT count(*) FROM tenants") == 0
    assert scalar(clean_db, "SELECT count(*) FROM leads") == 0
    with clean_db.connect() as conn:
        present = set(conn.execute(sa.text("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")).scalars())
    assert {str(index.name) for table in Base.metadata.sorted_tables for index in table.indexes} <= present


def test_the_bulk_proof_rejects_a_dangling_foreign_key(clean_db: Engine) -> None:
    demo.seed(tenants=1, leads=50, seed=1, anchor=ANCHOR)
    tenant_id, lead_id = rows(clean_db, "SELECT tenant_id, min(id) FROM leads GROUP BY tenant_id")[0]
    with clean_db.connect() as conn, conn.begin():
        assert integrity.bypass_foreign_key_triggers(conn)
        conn.execute(
            sa.text("INSERT INTO activities (tenant_id, lead_id, kind, occurred_at) VALUES (:t, :l, 'note', now())"),
            {"t": tenant_id, "l": 10**12},
        )
        integrity.restore_triggers(conn)
        with pytest.raises(ValueError, match=r"activities has dangling references \(lead_id -> leads"):
            integrity.verify_foreign_keys(conn, ["activities"], {"leads": (lead_id, 50)}, {}, {"tenants": [tenant_id]})
        conn.rollback()


# --- replace, errors, CLI ----------------------------------------------------------------------


def test_seeding_over_an_existing_demo_needs_replace(clean_db: Engine) -> None:
    assert demo.is_empty()
    result = demo.seed(tenants=2, leads=300, seed=3, anchor=ANCHOR)
    assert not demo.is_empty()
    assert result.rows["leads"] == 300
    assert "seeded 2 tenants, 300 leads" in result.summary()

    with pytest.raises(ValueError, match=r"already has the demo tenants .*--replace"):
        demo.seed(tenants=2, leads=300, seed=3, anchor=ANCHOR)

    again = demo.seed(tenants=2, leads=400, seed=3, anchor=ANCHOR, replace=True)
    assert scalar(clean_db, "SELECT count(*) FROM tenants") == 2
    assert scalar(clean_db, "SELECT count(*) FROM leads") == 400 == again.rows["leads"]


def test_replace_leaves_other_tenants_alone(clean_db: Engine) -> None:
    with clean_db.begin() as conn:
        conn.execute(sa.text("INSERT INTO tenants (slug, name) VALUES ('acme-live', 'Acme (a real customer)')"))
    demo.seed(tenants=1, leads=200, seed=3, anchor=ANCHOR)
    demo.seed(tenants=1, leads=100, seed=3, anchor=ANCHOR, replace=True)
    assert [r[0] for r in rows(clean_db, "SELECT slug FROM tenants ORDER BY slug")] == ["acme-live", "sunridge-solar"]
    assert scalar(clean_db, "SELECT count(*) FROM leads") == 100


def test_impossible_arguments_are_refused_with_a_reason(clean_db: Engine) -> None:
    with pytest.raises(ValueError, match="at least one"):
        demo.seed(tenants=3, leads=2, seed=1, anchor=ANCHOR)
    with pytest.raises(ValueError, match="timezone-aware"):
        demo.seed(tenants=1, leads=10, seed=1, anchor=datetime(2026, 11, 20, 15, 30))
    assert demo.is_empty()


def test_the_cli_seeds_the_database_it_is_given(clean_db: Engine, database_url: str, redis_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    command = [sys.executable, "-m", "app", "seed", "--tenants", "2", "--leads", "500", "--seed", "3", "--quiet"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "seeded 2 tenants, 500 leads" in done.stdout
    assert scalar(clean_db, "SELECT count(*) FROM leads") == 500
    demo_sql = "SELECT email, role, password_hash FROM operators WHERE email LIKE 'demo@%' ORDER BY tenant_id"
    admins = rows(clean_db, demo_sql)
    # the first tenant's demo account is the platform superuser (sees every tenant), the next its owner
    assert [(a[0], a[1]) for a in admins] == [
        ("demo@sunridge-solar.example", "superuser"),
        ("demo@brightsmile-dental.example", "owner"),
    ]
    assert all(str(a[2]).startswith("scrypt$") for a in admins)
    [sign_in] = re.findall(r"^sign in to the console as (\S+) / demo$", done.stdout, re.MULTILINE)
    assert sign_in in [a[0] for a in admins]  # a real operator, not demo@<tenant>.example
