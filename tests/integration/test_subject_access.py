"""`python -m app export-lead`: one JSON document with everything held about the lead, and nothing
about anyone else; only an owner or an admin of the tenant may export from the console."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from app import cli
from app.services import subject_access
from tests.integration.privacy_world import EMAIL, NEIGHBOUR_EMAIL, PHONE, REPLY, build, one, sql


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis) -> Engine:
    return clean_db


def test_export_lead_writes_every_row_that_names_the_lead(db: Engine, tmp_path: Path) -> None:
    world = build(db, namesake=True)
    path = tmp_path / "lead.json"

    assert cli.main(["export-lead", "--lead-id", str(world.lead), "--output", str(path)]) == 0

    document = json.loads(path.read_text(encoding="utf-8"))
    assert (document["lead_id"], document["tenant_id"]) == (world.lead, world.acme)
    assert (document["lead"]["email"], document["lead"]["phone"]) == (EMAIL, PHONE)
    records = document["records"]
    tables = [
        r[0]
        for r in sql(
            db,
            "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND column_name = 'lead_id' ORDER BY 1",
        )
    ]
    for table in tables:
        expected = one(db, f"SELECT count(*) FROM {table} WHERE lead_id = :l", l=world.lead)
        assert len(records[table]) == expected, table
    assert len(records["outbound_messages"]) == 2
    assert [r["text"] for r in records["reply_labels"]] == [REPLY]
    assert [r["reason"] for r in records["campaign_transitions"]] == ["silent 3 days"]
    assert [(r["channel"], r["reason"]) for r in records["suppressions"]] == [("email", "unsubscribe")]
    # The text they sent, raw; not the SendGrid batch that also holds the neighbour's events.
    assert [r["endpoint"] for r in records["webhook_deliveries"]] == ["twilio/sms"]
    text = path.read_text(encoding="utf-8")
    assert NEIGHBOUR_EMAIL not in text
    assert f'"tenant_id": {world.birch}' not in text


def test_only_an_owner_or_admin_of_the_tenant_may_export(db: Engine) -> None:
    world = build(db)
    rep, admin = (
        one(
            db,
            "INSERT INTO operators (tenant_id, email, name, role) VALUES (:t, :e, 'X', :r) RETURNING id",
            t=world.acme,
            e=f"{role}@acme.example",
            r=role,
        )
        for role in ("rep", "admin")
    )

    with pytest.raises(PermissionError, match="owner or an admin"):
        subject_access.export_lead(tenant_id=world.acme, lead_id=world.lead, operator_id=rep)
    document = subject_access.export_lead(tenant_id=world.acme, lead_id=world.lead, operator_id=admin)

    assert document["lead"]["email"] == EMAIL
