"""Migrations go up and down on a real database, and the models match what they build."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app import runtime
from db import migrate
from db.engine import make_engine
from db.models import Base
from tests.conftest import _with_database


@pytest.fixture
def scratch_url(server_urls: runtime.ServiceUrls) -> Iterator[str]:
    name = f"lre_mig_{uuid.uuid4().hex[:10]}"
    admin = make_engine(server_urls.database_url, null_pool=True).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield _with_database(server_urls.database_url, name)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url, null_pool=True)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_downgrade_removes_them(scratch_url: str) -> None:
    migrate.upgrade(scratch_url)
    assert _tables(scratch_url) == set(Base.metadata.tables)

    migrate.downgrade(scratch_url, "base")
    assert _tables(scratch_url) == set()

    migrate.upgrade(scratch_url)
    assert _tables(scratch_url) == set(Base.metadata.tables)


def test_models_and_migrations_agree(scratch_url: str) -> None:
    migrate.upgrade(scratch_url)
    engine = make_engine(scratch_url, null_pool=True)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_database_refuses_a_second_send_with_the_same_dedupe_key(clean_db: sa.Engine) -> None:
    with clean_db.begin() as conn:
        tenant = conn.execute(sa.text("INSERT INTO tenants (slug, name) VALUES ('t', 'T') RETURNING id")).scalar_one()
        lead = conn.execute(
            sa.text(
                "INSERT INTO leads (tenant_id, external_id, first_name, last_activity_at) "
                "VALUES (:t, 'x1', 'Ana', now()) RETURNING id"
            ),
            {"t": tenant},
        ).scalar_one()
    insert = sa.text(
        "INSERT INTO outbound_messages (tenant_id, lead_id, channel, to_address, body, dedupe_key) "
        "VALUES (:t, :l, 'email', 'ana@example.com', 'hi', 'k1')"
    )
    with clean_db.begin() as conn:
        conn.execute(insert, {"t": tenant, "l": lead})
    with pytest.raises(sa.exc.IntegrityError), clean_db.begin() as conn:
        conn.execute(insert, {"t": tenant, "l": lead})


@pytest.mark.parametrize(
    ("column", "value"),
    [("phone", "5551234"), ("recovery_state", "sleeping"), ("intent_score", "101")],
)
def test_database_checks_lead_columns(clean_db: sa.Engine, column: str, value: str) -> None:
    with clean_db.begin() as conn:
        tenant = conn.execute(sa.text("INSERT INTO tenants (slug, name) VALUES ('t', 'T') RETURNING id")).scalar_one()
    statement = sa.text(
        f"INSERT INTO leads (tenant_id, external_id, first_name, last_activity_at, {column}) "
        f"VALUES (:t, 'x1', 'Ana', now(), CAST(:v AS {'smallint' if column == 'intent_score' else 'text'}))"
    )
    with pytest.raises(sa.exc.IntegrityError), clean_db.begin() as conn:
        conn.execute(statement, {"t": tenant, "v": value})
