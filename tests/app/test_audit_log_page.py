"""The Audit log page: an owner sees the tenant's entries (not another tenant's) and downloads
them as a formula-safe CSV, and the export is itself logged; a rep has no such page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from app.services import operators
from tests.app import factories
from tests.app.driver import downloaded, open_page, rows, signed_in, truncate

OWNER = "owner@acme.example"
OWNER_PASSWORD = "owner-pass-123"
FORMULA_NAME = '=HYPERLINK("http://x.example","hi")'


@pytest.fixture
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    built = factories.build(engine)
    acme, birch = built.tenants["acme"], built.tenants["birch"]
    with engine.begin() as conn:
        owner = conn.exec_driver_sql(
            "INSERT INTO operators (tenant_id, email, name, role, password_hash) "
            "VALUES (%s, %s, %s, 'owner', %s) RETURNING id",
            (acme, OWNER, FORMULA_NAME, operators.hash_password(OWNER_PASSWORD)),
        ).scalar_one()
        conn.exec_driver_sql(
            "INSERT INTO audit_log (tenant_id, operator_id, action, subject, created_at) VALUES "
            "(%s, %s, 'pause', 'campaign 1', '2026-11-30 10:00+00'), "
            "(%s, NULL, 'kill', 'campaign 4', '2026-11-30 11:00+00')",
            (acme, owner, birch),
        )
    yield built
    truncate(engine)


def test_an_owner_reads_the_log_and_downloads_a_formula_safe_csv(
    world: factories.World, engine: Engine, downloads: dict[str, bytes]
) -> None:
    at = signed_in(OWNER, OWNER_PASSWORD)
    assert "Audit log" in [link.value for link in at.sidebar.page_link]
    at = open_page(at, "pages/audit_log.py")
    shown = at.dataframe[0].value
    assert list(zip(shown["action"], shown["subject"], strict=True)) == [("pause", "campaign 1")], "acme's only"

    at.button(key="audit.prepare").click().run()
    text = downloaded(at, "audit.download", downloads).decode("utf-8")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["at", "operator", "action", "subject", "details"]
    assert table[1][1:] == ["'" + FORMULA_NAME, "pause", "campaign 1", "{}"], "the name opens as text, not a formula"
    assert len(table) == 2
    acme = world.tenants["acme"]
    exported = rows(engine, "SELECT action, subject FROM audit_log WHERE tenant_id = :t ORDER BY id", t=acme)
    assert [tuple(r) for r in exported] == [("pause", "campaign 1"), ("export", "audit log")]


def test_a_rep_has_no_audit_log(world: factories.World) -> None:
    at = signed_in("demo@acme.example", factories.DEMO_PASSWORD)
    assert "Audit log" not in [link.value for link in at.sidebar.page_link]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/audit_log.py")
