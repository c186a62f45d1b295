"""The campaign wizard's drafts: create one, save each step into the campaign row, read it back.

Every save rebuilds the plan JSON from the wizard's answers (`app/domain/plan/wizard.py`) and
stores it with the step's own columns, in one transaction under a row lock, so two tabs saving
different steps cannot undo each other. A plan with problems is saved all the same (a draft
is work in progress) and comes back with its problems by JSON path; only a launch refuses them.
Only a draft may be edited, and only a campaign the wizard made (`kind = 'sequence'`): the
tenant's recovery campaign runs the plan the Settings page gives it.

What goes where in the row:
- step 1, channels: `name`, `channel` (the one channel, or NULL for email and SMS), the plan;
- step 2, audience: `audience` (`app/domain/audience.py`);
- step 3, message: the texts as templates (`campaign_rows.store_texts`), the brief, the
  variants and their weights in the plan (`variants`, the column, is the A/B test's own:
  its settings and verdict, `app/services/ab_decisions.py`);
- step 4, timing: `starts_at` (NULL: at launch), `quiet_hours`, the zone, window and follow-ups
  in the plan.

Bad input (an unknown channel, a blank name, criteria out of range) raises ValueError naming
the field before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import runtime
from app.domain.audience import Audience
from app.domain.campaign_status import EDITABLE, CampaignStateError
from app.domain.plan import Problem, validate_plan
from app.domain.plan.wizard import FollowUp, MessageText, WizardPlan, build_plan, read_wizard, template_texts
from app.services.campaign_rows import (
    acting_operator,
    locked_campaign,
    read_texts,
    record_event,
    store_texts,
    template_prefix,
)
from db.models import Campaign, Lead, Tenant

KIND = "sequence"
MAX_NAME = 120
CHANNELS = ("email", "sms")
TRIGGERS = ("no_reply", "no_open", "no_click", "wait")


@dataclass(frozen=True)
class CampaignDraft:
    """A wizard campaign as saved: its answers, its plan and what keeps that plan from launching."""

    id: int
    tenant_id: int
    name: str
    status: str
    audience: Audience | None
    wizard: WizardPlan
    starts_at: datetime | None
    plan: dict[str, Any]
    problems: tuple[Problem, ...]

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel the plan may send on, first message first."""
        used = [*self.wizard.channels, *(c for f in self.wizard.follow_ups for c in f.channels)]
        return tuple(dict.fromkeys(used))


def create_draft(
    *, tenant_id: int, operator_id: int, name: str, now: datetime, audience: Audience | None = None
) -> int:
    """A new draft with the tenant's zone and hours (and the lead map's leads, when handed over); its id."""
    clean = _checked_name(name)
    with runtime.session_scope() as session, session.begin():
        acting_operator(session, tenant_id=tenant_id, operator_id=operator_id)
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise LookupError(f"tenant {tenant_id} does not exist")
        wizard = WizardPlan(
            timezone=tenant.timezone,
            send_window=(tenant.send_window_start_hour, tenant.send_window_end_hour),
            quiet_hours=(tenant.quiet_start_hour, tenant.quiet_end_hour),
        )
        audience = _of_tenant(session, tenant_id, audience) if audience is not None else None
        campaign = Campaign(
            tenant_id=tenant_id,
            name=clean,
            kind=KIND,
            status="draft",
            audience=audience.to_json() if audience is not None else {},
            plan={},
            plan_version=2,
        )
        session.add(campaign)
        session.flush()
        _write_plan(session, campaign, wizard)
        record_event(session, campaign, event="created", from_status=None, operator_id=operator_id, at=now)
        return campaign.id


def load_draft(*, tenant_id: int, campaign_id: int) -> CampaignDraft:
    """The campaign as the wizard shows it; LookupError when the tenant has no such campaign."""
    with runtime.session_scope() as session, session.begin():
        campaign = session.execute(
            select(Campaign).where(Campaign.id == campaign_id, Campaign.tenant_id == tenant_id)
        ).scalar_one_or_none()
        if campaign is None:
            raise LookupError(f"campaign {campaign_id} does not exist for this tenant")
        return _draft(session, campaign)


def save_channels(
    *, tenant_id: int, campaign_id: int, operator_id: int, name: str, channels: Sequence[str]
) -> CampaignDraft:
    """Step 1: the campaign's name and its first message's channels, in the order tried."""
    clean, ordered = _checked_name(name), _checked_channels(channels)

    def change(campaign: Campaign, wizard: WizardPlan) -> WizardPlan:
        campaign.name = clean
        campaign.channel = ordered[0] if len(ordered) == 1 else None
        return replace(wizard, channels=ordered)

    return _save(tenant_id, campaign_id, operator_id, change)


def save_audience(*, tenant_id: int, campaign_id: int, operator_id: int, audience: Audience) -> CampaignDraft:
    """Step 2: who the campaign writes to (criteria or hand-picked leads)."""
    problems = audience.problems()
    if problems:
        raise ValueError("; ".join(problems))

    def change(campaign: Campaign, wizard: WizardPlan) -> WizardPlan:
        session = Session.object_session(campaign)
        assert session is not None  # loaded by `_save`'s session
        campaign.audience = _of_tenant(session, tenant_id, audience).to_json()
        return wizard

    return _save(tenant_id, campaign_id, operator_id, change)


def save_message(
    *,
    tenant_id: int,
    campaign_id: int,
    operator_id: int,
    message: MessageText,
    variant_b: MessageText | None,
    weights: tuple[float, float],
) -> CampaignDraft:
    """Step 3: the first message (texts per channel and a brief), and optionally a variant B with the split."""

    def change(campaign: Campaign, wizard: WizardPlan) -> WizardPlan:
        return replace(wizard, message=message, variant_b=variant_b, weights=weights)

    return _save(tenant_id, campaign_id, operator_id, change)


def save_timing(
    *,
    tenant_id: int,
    campaign_id: int,
    operator_id: int,
    starts_at: datetime | None,
    timezone: str,
    send_window: tuple[int, int],
    quiet_hours: tuple[int, int],
    follow_ups: Sequence[FollowUp],
) -> CampaignDraft:
    """Step 4: when it starts (None: at launch), the hours it may send in, and the follow-ups."""
    if starts_at is not None and starts_at.tzinfo is None:
        raise ValueError("Start: a time with its time zone is needed")
    for position, follow_up in enumerate(follow_ups, start=1):
        if follow_up.trigger not in TRIGGERS:
            raise ValueError(f"Follow-up {position}: unknown trigger {follow_up.trigger!r}")
        _checked_channels(follow_up.channels, allow_none=True, what=f"Follow-up {position}")

    def change(campaign: Campaign, wizard: WizardPlan) -> WizardPlan:
        campaign.starts_at = starts_at
        campaign.quiet_hours = {"start": quiet_hours[0], "end": quiet_hours[1]}
        return replace(
            wizard,
            timezone=timezone,
            send_window=send_window,
            quiet_hours=quiet_hours,
            follow_ups=tuple(follow_ups),
        )

    return _save(tenant_id, campaign_id, operator_id, change)


def _of_tenant(session: Session, tenant_id: int, audience: Audience) -> Audience:
    """Hand-picked leads narrowed to the tenant's own: another tenant's lead id (a tampered or
    stale list) is no lead here, so it is neither stored nor counted in the draft's figures."""
    if not audience.lead_ids:
        return audience
    query = select(Lead.id).where(Lead.tenant_id == tenant_id, Lead.id.in_(audience.lead_ids))
    own = list(session.execute(query).scalars())
    if not own:
        raise ValueError("None of the hand-picked leads is a lead of this tenant.")
    return Audience.of_leads(own)


def _save(
    tenant_id: int, campaign_id: int, operator_id: int, change: Callable[[Campaign, WizardPlan], WizardPlan]
) -> CampaignDraft:
    with runtime.session_scope() as session, session.begin():
        acting_operator(session, tenant_id=tenant_id, operator_id=operator_id)
        campaign = editable_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
        wizard = change(campaign, _wizard(session, campaign))
        _write_plan(session, campaign, wizard)
        return _draft(session, campaign)


def editable_campaign(session: Session, *, tenant_id: int, campaign_id: int) -> Campaign:
    """The campaign locked for update, when the wizard may change it."""
    campaign = locked_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
    if campaign.kind != KIND:
        raise CampaignStateError("The recovery campaign follows the Settings page's ladder; it is not edited here.")
    if campaign.status not in EDITABLE:
        raise CampaignStateError(f"Only a draft can be edited; this campaign is {campaign.status}.")
    return campaign


def _write_plan(session: Session, campaign: Campaign, wizard: WizardPlan) -> None:
    prefix = template_prefix(campaign.id)
    store_texts(
        session,
        tenant_id=campaign.tenant_id,
        campaign_id=campaign.id,
        texts=template_texts(wizard, template_prefix=prefix),
    )
    campaign.plan = build_plan(wizard, template_prefix=prefix)
    campaign.plan_version = 2


def _wizard(session: Session, campaign: Campaign) -> WizardPlan:
    return read_wizard(campaign.plan or {}, read_texts(session, tenant_id=campaign.tenant_id, campaign_id=campaign.id))


def _draft(session: Session, campaign: Campaign) -> CampaignDraft:
    try:
        audience = Audience.from_json(campaign.audience)
    except ValueError:
        audience = None
    return CampaignDraft(
        id=campaign.id,
        tenant_id=campaign.tenant_id,
        name=campaign.name,
        status=campaign.status,
        audience=audience,
        wizard=_wizard(session, campaign),
        starts_at=campaign.starts_at,
        plan=dict(campaign.plan or {}),
        problems=tuple(validate_plan(campaign.plan)),
    )


def _checked_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise ValueError("Name: give the campaign a name")
    if len(clean) > MAX_NAME:
        raise ValueError(f"Name: at most {MAX_NAME} characters, got {len(clean)}")
    return clean


def _checked_channels(channels: Sequence[str], *, allow_none: bool = True, what: str = "Channels") -> tuple[str, ...]:
    ordered = tuple(dict.fromkeys(channels))
    unknown = [c for c in ordered if c not in CHANNELS]
    if unknown:
        raise ValueError(f"{what}: unknown channel {unknown[0]!r} (email, sms)")
    if not ordered and not allow_none:
        raise ValueError(f"{what}: pick at least one channel")
    return ordered
