"""The few rows of each demo tenant, inserted with plain INSERTs: tenants, operators,
templates and their versions, campaigns, and a day of agent runs.

Tens of rows, so readability beats speed here; their ids steer the millions of rows that
follow (owners, campaigns, template versions), and `SmallRows.known` lists them so bulk mode
can prove the foreign keys that point at them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, insert

from ..models import AgentRun, Campaign, Operator, Template, TemplateVersion, Tenant
from . import story, tables, world
from .columns import DAY


def insert_small_rows(
    conn: Connection,
    plans: list[world.TenantPlan],
    anchor_s: int,
    seed: int,
    password_hash: str | None,
    counts: dict[str, int],
    agents: Sequence[str] = (),
) -> SmallRows:
    """Tenants, operators, templates, campaigns and runs of `agents`, with plain INSERTs."""
    rng = np.random.default_rng([seed, 10])
    since = _utc(anchor_s - 95 * DAY)
    tenant_ids = (
        conn.execute(
            insert(Tenant).returning(Tenant.id, sort_by_parameter_order=True),
            [{**world.tenant_row(p), "created_at": since, "updated_at": since} for p in plans],
        )
        .scalars()
        .all()
    )
    staff = [
        _insert_operators(conn, p, int(t), since, password_hash, demo_role="superuser" if i == 0 else "owner")
        for i, (p, t) in enumerate(zip(plans, tenant_ids, strict=True))
    ]
    owners = [people[2:] for people in staff]
    versions = np.zeros((len(plans), 4, 2), dtype=np.int64)
    campaign_ids: list[int] = []
    agent_runs = 0
    for number, (plan, tenant_id) in enumerate(zip(plans, tenant_ids, strict=True)):
        versions[number] = _insert_templates(conn, plan, int(tenant_id), anchor_s)
        campaign_ids += _insert_campaigns(conn, plan, int(tenant_id), anchor_s)
        runs = world.agent_run_rows(plan, anchor_s, rng, agents)
        agent_runs += len(runs)
        if runs:
            conn.execute(
                insert(AgentRun), [{**row, "tenant_id": tenant_id, "updated_at": row["created_at"]} for row in runs]
            )
    counts.update(
        tenants=len(plans),
        operators=sum(len(o) + 2 for o in owners),
        templates=6 * len(plans),
        template_versions=12 * len(plans),
        campaigns=sum(len(p.campaigns) + 1 for p in plans),
        agent_runs=agent_runs,
    )
    ids = tables.Ids(np.asarray(tenant_ids, dtype=np.int64), np.asarray(campaign_ids, dtype=np.int64), versions)
    known = {
        "tenants": [int(t) for t in tenant_ids],
        "operators": [i for people in staff for i in people],
        "campaigns": campaign_ids,
        "template_versions": [int(v) for v in versions[:, 1:, :].ravel()],
    }
    return SmallRows(ids, owners, known)


@dataclass
class SmallRows:
    ids: tables.Ids
    owners: list[list[int]]  # rep operator ids per tenant
    known: dict[str, list[int]]  # ids inserted per small parent table


def _insert_operators(
    conn: Connection,
    plan: world.TenantPlan,
    tenant_id: int,
    since: datetime,
    password_hash: str | None,
    *,
    demo_role: str,
) -> list[int]:
    """The demo account (who signs in), a manager, and the reps who own the leads; all their ids.

    The first tenant's demo account is the platform superuser, so the demo shows every tenant
    from one sign-in; each other tenant's demo account is that tenant's owner and sees only it.
    """
    base = {"tenant_id": tenant_id, "created_at": since, "updated_at": since, "password_hash": None}
    manager_first = plan.sender_name.split(",")[0]
    people = [
        {**base, "email": plan.demo_email, "name": "Demo Owner", "role": demo_role, "password_hash": password_hash},
        {**base, "email": f"manager@{plan.slug}.example", "name": f"{manager_first}", "role": "manager"},
    ]
    people += [{**base, "email": email, "name": name, "role": "rep"} for name, email in plan.reps]
    ids = conn.execute(insert(Operator).returning(Operator.id, sort_by_parameter_order=True), people).scalars().all()
    return [int(i) for i in ids]


def _insert_templates(conn: Connection, plan: world.TenantPlan, tenant_id: int, anchor_s: int) -> np.ndarray:
    """Returns the current version id per [rung, channel]."""
    current = np.zeros((4, 2), dtype=np.int64)
    for spec in world.template_rows(plan, anchor_s):
        created = spec["versions"][0]["created_at"]
        template_id = conn.execute(
            insert(Template).returning(Template.id),
            {
                "tenant_id": tenant_id,
                "name": spec["name"],
                "channel": spec["channel"],
                "current_version": spec["current_version"],
                "created_at": created,
                "updated_at": spec["versions"][-1]["created_at"],
            },
        ).scalar_one()
        rows = [
            {**v, "tenant_id": tenant_id, "template_id": template_id, "updated_at": v["created_at"]}
            for v in spec["versions"]
        ]
        version_ids = (
            conn.execute(insert(TemplateVersion).returning(TemplateVersion.id, sort_by_parameter_order=True), rows)
            .scalars()
            .all()
        )
        current[spec["rung"], story.CHANNELS.index(spec["channel"])] = version_ids[-1]
    return current


def _insert_campaigns(conn: Connection, plan: world.TenantPlan, tenant_id: int, anchor_s: int) -> list[int]:
    """The plan's campaigns in order (the generator indexes them), then a draft for the wizard."""
    rows = [world.campaign_row(plan, c) for c in plan.campaigns] + [world.draft_campaign_row(plan, anchor_s)]
    for row in rows:
        row.update(tenant_id=tenant_id, updated_at=row["created_at"])
    ids = conn.execute(insert(Campaign).returning(Campaign.id, sort_by_parameter_order=True), rows).scalars().all()
    return [int(i) for i in ids[: len(plan.campaigns)]]


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
