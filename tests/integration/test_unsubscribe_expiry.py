"""Unsubscribe links carry the day they were issued: through the api (TestClient, pinned clock)
on real PostgreSQL, a link works for at least 60 days whatever the tenant set, stops after the
tenant's period (365 days by default), and a link from before links carried a day still works."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.domain.unsubscribe import address_digest
from tests.integration.unsubscribe_world import (  # the api, its clock and the world
    AT,
    FORM,
    SECRET,
    World,
    client,
    db,
    snapshot,
    url,
    world,
)

__all__ = ["client", "db", "world"]  # fixtures, used by name
TODAY = AT.date()


def set_period(engine: Engine, tenant_id: int, days: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE tenants SET unsubscribe_link_days = :d WHERE id = :t"), {"d": days, "t": tenant_id}
        )


def suppressed(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT address FROM suppressions ORDER BY address")).scalars())


@pytest.mark.parametrize(
    ("period", "age", "works"),
    [
        (365, 365, True),  # the default period, to the day
        (365, 366, False),
        (60, 60, True),  # the shortest period a tenant may set
        (60, 61, False),
        (3650, 3000, True),
    ],
)
def test_a_link_works_for_its_tenants_period_and_no_longer(
    db: Engine, client: TestClient, world: World, period: int, age: int, works: bool
) -> None:
    set_period(db, world.acme, period)
    token = world.token(issued=TODAY - timedelta(days=age))
    page = client.get(url(token))
    if not works:
        before = snapshot(db)
        assert page.status_code == 404
        assert client.post(url(token), headers=FORM, content=b"").status_code == 404
        assert snapshot(db) == before
        return
    assert page.status_code == 200
    assert client.post(url(token), headers=FORM, content=b"").status_code == 200
    assert suppressed(db) == ["lead1@example.com"]


def test_the_database_keeps_the_period_between_60_days_and_ten_years(db: Engine, world: World) -> None:
    for days in (59, 3651):
        with pytest.raises(sa.exc.IntegrityError):
            set_period(db, world.acme, days)
    with db.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT unsubscribe_link_days FROM tenants WHERE id = :t"), {"t": world.acme}).scalar()
            == 365
        )


def legacy_token(world: World) -> str:
    """A token as links were made before they carried a day (`<tenant>.<channel>.<lead>.<digest>.<sig>`),
    signed here by the HMAC-SHA256 scheme of that format, worked out independently of the module."""
    digest = address_digest(SECRET, "email", "lead1@example.com")
    payload = f"{world.acme}.email.{world.lead}.{digest}"
    mac = hmac.new(SECRET.encode(), f"unsubscribe:{payload}".encode(), hashlib.sha256).digest()[:18]
    return f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def test_a_link_from_before_links_carried_a_day_still_unsubscribes(
    db: Engine, client: TestClient, world: World
) -> None:
    """Its day is unknown: refusing it could keep mailing someone who asked to stop last week."""
    set_period(db, world.acme, 60)
    token = legacy_token(world)
    assert len(token.split(".")) == 5
    assert client.get(url(token)).status_code == 200
    assert client.post(url(token), headers=FORM, content=b"").status_code == 200
    assert suppressed(db) == ["lead1@example.com"]
