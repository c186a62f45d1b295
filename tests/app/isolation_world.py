"""Two tenants whose every text carries a marker of its own, for the tenant-isolation sweep.

Through the product's doors: the leads (`POST /api/leads`), their activities
(`POST /api/activities`) and conversions (`POST /api/conversions`), each with the tenant's own
API key (made by `app.services.api_keys`, as the Settings page does), and one inbound text
per tenant (`POST /webhooks/twilio/sms`, signed as Twilio signs). The tables that have no door
of their own are filled in SQL: the tenants and their operators, a campaign, an outbox row
and an agent run per tenant. A draft campaign per tenant is made by the wizard's own service.

The two tenants share a lead's email and phone on purpose: a match across tenants would then
show the other tenant's name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api import create_app
from app.domain.audience import Audience
from app.domain.plan.wizard import MessageText
from app.services import api_keys, campaign_drafts
from app.services.operators import hash_password
from app.web.intake_body import intake_clock
from tests.integration.outbox import make_tenant
from tests.integration.twilio_door import AT, SMS, client_for, post, settings, text_fields

MARK = {"a": "xalphaq", "b": "xbravoq"}
"""Lower case: the sweep reads every rendered text lowered, so a title-cased name still matches."""
PASSWORD = "isolation-pass-123"
SHARED_EMAIL = "shared@example.com"
SHARED_PHONE = "+14155552600"
NUMBER = {"a": "+15557770001", "b": "+15557770002"}
"""Each tenant's own sender number, so an inbound text names its tenant by the number it was sent to."""
CLOCK = AT + dt.timedelta(hours=1)
"""The console's pinned clock: an hour after the webhooks' and the intake's."""


@dataclass
class Side:
    """One tenant's ids and its API key."""

    tenant: int
    operator: str
    key: str
    operator_id: int = 0
    leads: list[int] = field(default_factory=list)
    campaign: int = 0
    draft: int = 0
    external_ids: list[str] = field(default_factory=list)


def build(engine: Engine) -> dict[str, Side]:
    sides = {name: _tenant(engine, name) for name in MARK}
    app = create_app()
    app.dependency_overrides[intake_clock] = lambda: AT
    with TestClient(app) as client:
        for name, side in sides.items():
            _intake(client, name, side)
    with client_for(settings()) as webhooks:
        for name in MARK:
            body = f"Yes please call me, {MARK[name]} here"
            answer = post(webhooks, SMS, text_fields(f"SM{name}1", body, sender=SHARED_PHONE, to=NUMBER[name]))
            assert answer.status_code == 200, answer.text
    for name, side in sides.items():
        _without_a_door(engine, name, side)
        other = sides["b" if name == "a" else "a"]
        _draft(name, side, foreign=other.leads)
    return sides


def _tenant(engine: Engine, name: str) -> Side:
    mark = MARK[name]
    tenant = make_tenant(
        engine,
        slug=f"tenant-{name}",
        name=f"Tenant {mark.title()}",
        sender_name=f"{mark} sales",
        sender_email=f"sales@{mark}.example",
        sender_phone=NUMBER[name],
        timezone="America/New_York",
    )
    email = f"manager@{mark}.example"
    operator_id = sql(
        engine,
        """INSERT INTO operators (tenant_id, email, name, role, password_hash)
           VALUES (:t, :email, :name, 'manager', :hash) RETURNING id""",
        t=tenant,
        email=email,
        name=f"Manager {mark}",
        hash=hash_password(PASSWORD),
    )[0].id
    _, key = api_keys.create_key(tenant_id=tenant, name=f"CRM of {mark}", created_by=None)
    return Side(tenant=tenant, operator=email, key=key, operator_id=operator_id)


def _intake(client: TestClient, name: str, side: Side) -> None:
    mark = MARK[name]
    side.external_ids = [f"crm-{name}-{i}" for i in range(3)]
    leads: list[dict[str, Any]] = [
        {
            "external_id": external,
            "first_name": f"Pat{i} {mark}",
            "last_name": f"{mark}son",
            "company": f"{mark} Holdings",
            "title": f"Head of {mark}",
            "email": SHARED_EMAIL if i == 0 else f"lead{i}@{mark}.example",
            "phone": SHARED_PHONE if i == 0 else f"+1415555{26 if name == 'a' else 27}0{i}",
            "source": f"{mark}-webinar",
            "stage": f"{mark}-stage",
            "deal_value": "2500",
            "tags": [f"{mark}-tag"],
            "attributes": {"plan": f"{mark}-plan"},
            "consent_sms": True,
            "last_activity_at": (AT - dt.timedelta(days=4 + i)).isoformat(),
        }
        for i, external in enumerate(side.external_ids)
    ]
    side.leads = [r["id"] for r in _accepted(client, "/api/leads", side.key, {"leads": leads})]
    activities = [
        {
            "lead_id": lead,
            "kind": "call",
            "occurred_at": (AT - dt.timedelta(days=1)).isoformat(),
            "summary": f"Called {mark}",
        }
        for lead in side.leads
    ]
    _accepted(client, "/api/activities", side.key, {"activities": activities})
    conversion = {
        "lead_id": side.leads[1],
        "value": "900",
        "converted_at": (AT - dt.timedelta(days=2)).isoformat(),
        "note": f"Won by {mark}",
    }
    _accepted(client, "/api/conversions", side.key, {"conversions": [conversion]})


def _accepted(client: TestClient, path: str, key: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    results: list[dict[str, Any]] = answer.json()["results"]
    assert all(r["status"] in ("created", "updated") for r in results), results
    return results


def _without_a_door(engine: Engine, name: str, side: Side) -> None:
    """A running campaign, an outbox row and a failed agent run, in SQL: no route makes them directly."""
    mark = MARK[name]
    side.campaign = sql(
        engine,
        "INSERT INTO campaigns (tenant_id, name, status) VALUES (:t, :n, 'running') RETURNING id",
        t=side.tenant,
        n=f"{mark} win-back",
    )[0].id
    sql(
        engine,
        """INSERT INTO outbound_messages (tenant_id, lead_id, campaign_id, node, channel, to_address, subject, body,
                                          dedupe_key, scheduled_for, status, last_error)
           VALUES (:t, :l, :c, 'rung-1', 'email', :to, :subject, :body, :k, :at, 'failed', :error)""",
        t=side.tenant,
        l=side.leads[2],
        c=side.campaign,
        to=f"lead2@{mark}.example",
        subject=f"Still keen, {mark}?",
        body=f"Hello from {mark}",
        k=f"{mark}:rung-1",
        at=AT,
        error=f"bounced at {mark}",
    )
    sql(
        engine,
        """INSERT INTO agent_runs (tenant_id, job_id, agent, status, error, started_at, finished_at)
           VALUES (:t, :job, 'writer', 'failed', :error, :at, :at)""",
        t=side.tenant,
        job=f"job-{mark}",
        error=f"writer failed for {mark}",
        at=AT,
    )


def _draft(name: str, side: Side, *, foreign: list[int]) -> None:
    """A draft made by the wizard's own service, whose hand-picked audience also names the other
    tenant's leads (as a forged hand-over from the lead map would), with a text that names the lead."""
    ids = {"tenant_id": side.tenant, "operator_id": side.operator_id}
    side.draft = campaign_drafts.create_draft(**ids, name=f"{MARK[name]} spring draft", now=AT)
    drafts = {**ids, "campaign_id": side.draft}
    campaign_drafts.save_channels(**drafts, name=f"{MARK[name]} spring draft", channels=["email"])
    campaign_drafts.save_audience(**drafts, audience=Audience.of_leads([*side.leads, *foreign]))
    text = MessageText("A question, {{first_name}}", "Hi {{first_name}} {{last_name}}, still keen?", "", "check in")
    campaign_drafts.save_message(**drafts, message=text, variant_b=None, weights=(100.0, 0.0))


def sql(engine: Engine, statement: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return list(result.all()) if result.returns_rows else []
