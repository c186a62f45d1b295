"""API keys on real PostgreSQL: made and shown once, stored as SHA-256, checked with one probe,
revoked for good, managed only by an admin or the tenant's manager; the command line; and the
bearer dependency every intake route uses (401 with `WWW-Authenticate: Bearer`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import cli
from app.services import api_keys
from app.web.auth import Tenant
from db.models import Operator
from db.models import Tenant as TenantRow

KEY = re.compile(r"^lre_[A-Za-z0-9_-]{43}$")  # `lre_` + token_urlsafe(32): 32 bytes → 43 base64url characters
AT = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)


def insert(engine: Engine, model: type, **values: object) -> int:
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(model).values(**values).returning(model.id)).scalar_one())  # type: ignore[attr-defined]


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


@pytest.fixture
def world(clean_db: Engine) -> dict[str, int]:
    ids = {
        "acme": insert(clean_db, TenantRow, slug="acme", name="Acme"),
        "birch": insert(clean_db, TenantRow, slug="birch", name="Birch"),
    }
    for tenant, role in (("acme", "manager"), ("acme", "rep"), ("acme", "viewer"), ("birch", "manager")):
        ids[f"{tenant}-{role}"] = insert(
            clean_db, Operator, tenant_id=ids[tenant], email=f"{role}@{tenant}.example", name=role, role=role
        )
    ids["birch-admin"] = insert(
        clean_db, Operator, tenant_id=ids["birch"], email="root@birch.example", name="Root", role="superuser"
    )
    return ids


def stored(engine: Engine, key_id: int) -> sa.Row[Any]:
    return sql(
        engine,
        "SELECT tenant_id, name, prefix, key_hash, created_by, last_used_at, revoked_at FROM api_keys WHERE id = :k",
        k=key_id,
    )[0]


def test_a_key_is_shown_once_and_only_its_digest_is_kept(clean_db: Engine, world: dict[str, int]) -> None:
    key_id, key = api_keys.create_key(tenant_id=world["acme"], name="  CRM   sync ", created_by=world["acme-manager"])
    assert KEY.match(key)
    row = stored(clean_db, key_id)
    assert row.tenant_id == world["acme"]
    assert row.name == "CRM sync"
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.prefix == key[:12]  # "lre_" and 8 random characters, enough to tell keys apart
    assert row.created_by == world["acme-manager"]
    everything = " ".join(str(v) for r in sql(clean_db, "SELECT * FROM api_keys") for v in r)
    assert key not in everything
    assert key[12:] not in everything

    other_id, other = api_keys.create_key(tenant_id=world["acme"], name="Zapier", created_by=None)
    assert other != key
    listed = api_keys.list_keys(tenant_id=world["acme"])
    newest_first = [(other_id, other[:12], "Zapier"), (key_id, key[:12], "CRM sync")]
    assert [(k.id, k.prefix, k.name) for k in listed] == newest_first
    assert api_keys.list_keys(tenant_id=world["birch"]) == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "CRM\x00sync"])  # NUL: found by fuzzing, text refused it
def test_a_key_needs_a_short_name(clean_db: Engine, world: dict[str, int], name: str) -> None:
    with pytest.raises(ValueError, match="Key name"):
        api_keys.create_key(tenant_id=world["acme"], name=name, created_by=world["acme-manager"])
    assert sql(clean_db, "SELECT count(*) FROM api_keys")[0][0] == 0


@pytest.mark.parametrize("who", ["acme-rep", "acme-viewer", "birch-manager"])
def test_only_an_admin_or_the_tenants_manager_manages_keys(clean_db: Engine, world: dict[str, int], who: str) -> None:
    with pytest.raises(PermissionError):
        api_keys.create_key(tenant_id=world["acme"], name="CRM", created_by=world[who])
    key_id, key = api_keys.create_key(tenant_id=world["acme"], name="CRM", created_by=world["birch-admin"])
    with pytest.raises(PermissionError):
        api_keys.revoke_key(key_id=key_id, tenant_id=world["acme"], operator_id=world[who])
    assert stored(clean_db, key_id).revoked_at is None
    assert api_keys.authenticate(key, now=AT) == world["acme"]


def test_authenticate_finds_the_tenant_and_stamps_use_at_most_once_a_minute(
    clean_db: Engine, world: dict[str, int]
) -> None:
    key_id, key = api_keys.create_key(tenant_id=world["acme"], name="CRM", created_by=None)
    assert stored(clean_db, key_id).last_used_at is None
    assert api_keys.authenticate(key, now=AT) == world["acme"]
    assert stored(clean_db, key_id).last_used_at == AT
    assert api_keys.authenticate(key, now=AT + dt.timedelta(seconds=59)) == world["acme"]
    assert stored(clean_db, key_id).last_used_at == AT, "not rewritten within the minute"
    assert api_keys.authenticate(key, now=AT + dt.timedelta(seconds=61)) == world["acme"]
    assert stored(clean_db, key_id).last_used_at == AT + dt.timedelta(seconds=61)


def test_wrong_malformed_and_revoked_keys_are_refused(clean_db: Engine, world: dict[str, int]) -> None:
    key_id, key = api_keys.create_key(tenant_id=world["acme"], name="CRM", created_by=None)
    flipped = key[:-1] + ("A" if key[-1] != "A" else "B")
    for bad in (None, "", flipped, key + "x", key[4:], "lre_" + "!" * 43, key.upper() if key != key.upper() else "x"):
        assert api_keys.authenticate(bad, now=AT) is None, bad
    assert stored(clean_db, key_id).last_used_at is None

    with pytest.raises(LookupError):
        api_keys.revoke_key(key_id=key_id, tenant_id=world["birch"], operator_id=world["birch-admin"])
    assert api_keys.revoke_key(key_id=key_id, tenant_id=world["acme"], operator_id=world["acme-manager"]) is True
    assert stored(clean_db, key_id).revoked_at is not None
    assert api_keys.authenticate(key, now=AT) is None
    assert api_keys.revoke_key(key_id=key_id) is False, "revoking twice says it already was"
    with pytest.raises(LookupError):
        api_keys.revoke_key(key_id=key_id + 1000)


def test_the_command_line_prints_the_key_once_and_lists_prefixes(
    clean_db: Engine, world: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["api-key", "create", "--tenant", "acme", "--name", "Warehouse"]) == 0
    printed = capsys.readouterr().out
    keys = [word for word in printed.split() if KEY.match(word)]
    assert len(keys) == 1
    (key,) = keys
    (row,) = sql(clean_db, "SELECT id, tenant_id, name, key_hash, created_by FROM api_keys")
    assert (row.tenant_id, row.name, row.created_by) == (world["acme"], "Warehouse", None)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()

    assert cli.main(["api-key", "list", "--tenant", "acme"]) == 0
    listed = capsys.readouterr().out
    assert key[:12] in listed
    assert "Warehouse" in listed
    assert "active" in listed
    assert key not in listed

    assert cli.main(["api-key", "revoke", "--id", str(row.id)]) == 0
    assert "revoked" in capsys.readouterr().out
    assert sql(clean_db, "SELECT revoked_at IS NOT NULL FROM api_keys")[0][0] is True
    assert cli.main(["api-key", "list", "--tenant", "acme"]) == 0
    assert "revoked" in capsys.readouterr().out

    assert cli.main(["api-key", "create", "--tenant", "nobody"]) == 2
    assert "no tenant with slug 'nobody'" in capsys.readouterr().err
    assert cli.main(["api-key", "revoke", "--id", "999"]) == 2
    assert sql(clean_db, "SELECT count(*) FROM api_keys")[0][0] == 1


# --- the bearer dependency -------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A tiny app with one route behind `require_tenant`, the dependency the intake routes use."""
    api = FastAPI()

    @api.get("/whoami")
    def whoami(tenant_id: Tenant) -> dict[str, int]:
        return {"tenant_id": tenant_id}

    with TestClient(api) as test_client:
        yield test_client


def test_the_bearer_dependency_lets_an_active_key_through_and_nothing_else(
    clean_db: Engine, world: dict[str, int], client: TestClient
) -> None:
    key_id, key = api_keys.create_key(tenant_id=world["birch"], name="CRM", created_by=None)
    ok = client.get("/whoami", headers={"Authorization": f"Bearer {key}"})
    assert (ok.status_code, ok.json()) == (200, {"tenant_id": world["birch"]})
    assert client.get("/whoami", headers={"Authorization": f"bearer {key}"}).status_code == 200

    refused = [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {key}"},
        {"Authorization": f"Token {key}"},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": f"Bearer {key[:-2]}xx"},
    ]
    for headers in refused:
        answer = client.get("/whoami", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["WWW-Authenticate"] == "Bearer", headers
        assert "tenant_id" not in answer.text

    api_keys.revoke_key(key_id=key_id)
    revoked = client.get("/whoami", headers={"Authorization": f"Bearer {key}"})
    assert revoked.status_code == 401
    assert revoked.headers["WWW-Authenticate"] == "Bearer"
