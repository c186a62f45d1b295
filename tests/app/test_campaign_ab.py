"""The campaign's A/B section (`pages.campaign_ab.render_ab`) in AppTest: per-variant rates with
their intervals, where the rule stands and its sentence, "Check for a winner" recording the verdict
once, and what a viewer, a single-variant plan and a missing campaign show. The rows are inserted
here and every figure expected is worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app import runtime
from app.domain.identity import OperatorIdentity
from components import format as fmt
from pages import session
from tests.integration.outbox import make_leads, make_tenant

AT = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC)
TIMEOUT = 60


def _plan(*names: str) -> dict[str, Any]:
    return {
        "version": 2,
        "timezone": "UTC",
        "quiet_hours": {"start": 21, "end": 8},
        "send_window": {"start": 8, "end": 20},
        "start": "rung-1",
        "nodes": [
            {
                "id": "rung-1",
                "kind": "send",
                "channels": ["email"],
                "brief": "a gentle check-in",
                "variants": [{"name": name, "weight": 1} for name in names],
                "next": "done",
            },
            {"id": "done", "kind": "stop"},
        ],
    }


def _sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []


def _campaign(engine: Engine, tenant: int, plan: dict[str, Any], test: dict[str, Any]) -> int:
    return int(
        _sql(
            engine,
            """INSERT INTO campaigns (tenant_id, name, status, plan, variants)
               VALUES (:t, 'Win-back', 'running', CAST(:plan AS jsonb), CAST(:variants AS jsonb)) RETURNING id""",
            t=tenant,
            plan=json.dumps(plan),
            variants=json.dumps({"test": test}),
        )[0].id
    )


def _sends(engine: Engine, tenant: int, campaign: int, leads: list[int], variant: str, replies: int) -> None:
    """One sent email per lead of this variant; the first `replies` of them replied to."""
    ids = [
        r.id
        for r in _sql(
            engine,
            """INSERT INTO outbound_messages (tenant_id, campaign_id, lead_id, node, channel, to_address, body,
                                              dedupe_key, variant, status, sent_at)
               SELECT :t, :c, l, 'rung-1', 'email', 'lead@example.com', 'Hi', 'ab:' || :v || ':' || l, :v,
                      'sent', CAST(:at AS timestamptz)
               FROM unnest(CAST(:leads AS bigint[])) AS l RETURNING id""",
            t=tenant,
            c=campaign,
            leads=leads,
            v=variant,
            at=AT - dt.timedelta(days=2),
        )
    ]
    _sql(
        engine,
        """INSERT INTO message_events (tenant_id, message_id, lead_id, channel, event_type, occurred_at, natural_key)
           SELECT tenant_id, id, lead_id, 'email', 'reply', :at, 'ab-reply:' || id
           FROM outbound_messages WHERE id = ANY(:ids)""",
        ids=sorted(ids)[:replies],
        at=AT - dt.timedelta(days=1),
    )


def _section(campaign_id: int, tenant_id: int) -> None:
    from pages.campaign_ab import render_ab

    render_ab(campaign_id, tenant_id)


def _operator(tenant: int, role: str) -> int:
    """A real operator of the tenant with `role` (the service re-reads the role from the database)."""
    email = f"{role}@acme.example"
    with runtime.engine().begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO operators (tenant_id, email, name, role) VALUES (:t, :e, initcap(:r), :r) "
                "ON CONFLICT (tenant_id, email) DO NOTHING"
            ),
            {"t": tenant, "e": email, "r": role},
        )
        query = "SELECT id FROM operators WHERE tenant_id = :t AND email = :e"
        return int(conn.execute(sa.text(query), {"t": tenant, "e": email}).scalar_one())


def _run(campaign: int, tenant: int, role: str | None = "manager") -> AppTest:
    at = AppTest.from_function(_section, args=(campaign, tenant), default_timeout=TIMEOUT)
    at.session_state[session.CLOCK] = AT
    if role is not None:
        operator_id = _operator(tenant, role)
        email = f"{role}@acme.example"
        at.session_state[session.IDENTITY] = OperatorIdentity(operator_id, tenant, email, role.title(), role)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def world(clean_db: Engine) -> tuple[Engine, int, int]:
    """1,000 sends each: A replied 100 times (10 %), B 150 times (15 %); 500 sends each before a verdict."""
    tenant = make_tenant(clean_db)
    leads = make_leads(clean_db, tenant, 2000)
    campaign = _campaign(clean_db, tenant, _plan("A", "B"), {"metric": "replied", "min_per_arm": 500})
    _sends(clean_db, tenant, campaign, leads[:1000], "A", replies=100)
    _sends(clean_db, tenant, campaign, leads[1000:], "B", replies=150)
    return clean_db, tenant, campaign


def test_rates_and_the_rule_then_a_winner_recorded_once(world: tuple[Engine, int, int]) -> None:
    engine, tenant, campaign = world
    at = _run(campaign, tenant)

    assert [s.value for s in at.subheader] == ["A/B test"]
    table = at.dataframe[0].value
    # Wilson at 95 % (z² = 3.84146, n = 1,000; z/(1 + z²/n) = 1.95246): 100/1000 → centre
    # 0.101921/1.003841 = 0.101531 ± 1.95246 · √(0.00009 + 0.00000096) = ± 0.018621 → 8.3 % to 12.0 %;
    # 150/1000 → 0.151921/1.003841 = 0.151339 ± 1.95246 · √(0.0001275 + 0.00000096) = ± 0.022129 → 12.9 % to 17.3 %.
    # Evidence: the mSPRT ratio 23.908 (tests/unit/test_msprt.py); P(B best) ≈ Φ(3.39) = 0.99965.
    assert table[["variant", "sent", "successes", "rate", "interval", "evidence", "p_best"]].values.tolist() == [
        ["A", 1000, 100, "10.0%", "8.3% – 12.0%", fmt.MISSING, "0.0%"],
        ["B", 1000, 150, "15.0%", "12.9% – 17.3%", "23.9×", "100.0%"],
    ]
    [state] = [i.value for i in at.info]
    assert state == fmt.plain(
        "Winner found, not yet recorded: Variant B wins: 15.0% reply rate, with evidence of 23.9× "
        "against 10.0% for A (a winner needs 20.0×)."
    )
    [rule] = [c.value for c in at.caption]
    assert rule.startswith(fmt.plain("Rule: Sequential test (mSPRT) of the reply rate"))
    assert fmt.plain("has 500 sends") in rule
    assert _sql(engine, "SELECT count(*) AS n FROM campaign_decisions")[0].n == 0  # reading records nothing

    at.button(key=f"campaigns.ab.{campaign}.decide").click().run()
    assert not at.exception, [e.value for e in at.exception]

    successes = [s.value for s in at.success]
    assert successes[0].startswith(fmt.plain("Verdict recorded: Variant B wins"))
    assert successes[1].startswith(fmt.plain("Winner: variant B, decided 2026-12-08 09:00 UTC."))
    assert fmt.plain("New sends use variant B alone: the plan was rewritten then.") in [c.value for c in at.caption]
    assert not [b for b in at.button if b.key == f"campaigns.ab.{campaign}.decide"]
    [audit] = _sql(engine, "SELECT winner, decided_at FROM campaign_decisions WHERE campaign_id = :c", c=campaign)
    assert (audit.winner, audit.decided_at) == ("B", AT)
    plan = _sql(engine, "SELECT plan FROM campaigns WHERE id = :c", c=campaign)[0].plan
    assert plan["nodes"][0]["variants"] == [{"name": "B", "weight": 1}]

    # Opened afresh, the section shows the stored verdict, the figures it was made on, and both variants.
    again = _run(campaign, tenant)
    assert [s.value[:30] for s in again.success] == [fmt.plain("Winner: variant B, decided 2026-12-08")[:30]]
    assert [e.label for e in again.expander] == ["Figures the verdict was made on"]
    assert again.dataframe[-1].value["variant"].tolist() == ["B", "A"]  # the plan offers B alone now
    assert _sql(engine, "SELECT count(*) AS n FROM campaign_decisions")[0].n == 1


def test_a_viewer_or_a_rep_reads_but_cannot_check(world: tuple[Engine, int, int]) -> None:
    _, tenant, campaign = world
    for role in ("viewer", "rep", None):
        at = _run(campaign, tenant, role=role)
        assert len(at.dataframe) == 1
        assert not [b for b in at.button if b.key == f"campaigns.ab.{campaign}.decide"]


def test_a_single_variant_and_a_missing_campaign_say_so(clean_db: Engine) -> None:
    tenant = make_tenant(clean_db)
    campaign = _campaign(clean_db, tenant, _plan("A"), {})
    at = _run(campaign, tenant)
    nothing = "The plan offers fewer than two variants: there is nothing to test."
    assert [i.value for i in at.info] == [fmt.plain(nothing)]
    assert at.dataframe[0].value[["variant", "sent", "rate"]].values.tolist() == [["A", 0, fmt.MISSING]]

    other = make_tenant(clean_db, slug="other")
    missing = _run(campaign, other)
    assert [w.value for w in missing.warning] == ["This campaign no longer exists."]
