"""Leads & scores: picking a lead shows its score part by part, as the domain computes it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from app.services import scoring
from tests.app import factories
from tests.app.driver import open_page, signed_in, truncate


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[factories.World]:
    truncate(engine)
    yield factories.build(engine)
    truncate(engine)


def test_a_picked_lead_shows_its_score_breakdown(world: factories.World) -> None:
    at = open_page(signed_in("demo@acme.example", "demo"), "pages/lead_scores.py")
    leads = at.dataframe[0].value
    picker = at.selectbox(key="leads.breakdown")
    lead_id = int(leads["id"].iloc[1])
    picker.set_value(lead_id).run()
    assert not at.exception

    expected = scoring.score_breakdown(tenant_id=world.tenants["acme"], lead_id=lead_id)
    parts = at.dataframe[1].value
    assert parts["part"].tolist() == [p.name for p in expected.parts]
    assert parts["why"].tolist() == [p.why for p in expected.parts]
    assert sum(parts["points"]) == expected.total
    assert any(c.value.startswith(f"Score now: {expected.total} of 100") for c in at.caption)
