"""What the campaign services share: who may act, the campaign row under a lock, its audit rows, and
the message texts it keeps as templates.

Helpers only: each runs in the caller's transaction and never commits.

Who may act on a campaign is read from the database, never taken from the caller: an active
operator of the campaign's tenant (or an admin of any tenant) whose role is not `viewer`.

A wizard campaign's texts are rows of `templates` (one per name and channel, the text in
versions), named `campaign-<id>/<node>/<variant>` (`app/domain/plan/wizard.py`); the plan's send
nodes name them. Saving a text that changed adds a version; a text emptied or a variant dropped
deletes its row: only a draft's texts change, and a draft has sent nothing that could point at them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from app.domain import roles
from app.domain.plan.wizard import MessageText
from app.services import acting, audit
from db.models import Campaign, CampaignEvent, Operator, Template, TemplateVersion

CHANNELS = ("email", "sms")


def template_prefix(campaign_id: int) -> str:
    return f"campaign-{campaign_id}"


def acting_operator(
    session: Session, *, tenant_id: int, operator_id: int, action: roles.Action = roles.Action.CAMPAIGN_EDIT
) -> Operator:
    """The operator, when they may do `action` (drafting, unless said) to this tenant's campaigns;
    `roles.RoleRefused` (a PermissionError) otherwise."""
    return acting.require(session, operator_id=operator_id, tenant_id=tenant_id, action=action)


def locked_campaign(session: Session, *, tenant_id: int, campaign_id: int) -> Campaign:
    """The tenant's campaign, locked for update; LookupError when the tenant has no such campaign."""
    campaign = session.execute(
        select(Campaign).where(Campaign.id == campaign_id, Campaign.tenant_id == tenant_id).with_for_update()
    ).scalar_one_or_none()
    if campaign is None:
        raise LookupError(f"campaign {campaign_id} does not exist for this tenant")
    return campaign


_AUDITED = {"launched": "launch", "paused": "pause", "resumed": "resume", "killed": "kill"}


def record_event(
    session: Session,
    campaign: Campaign,
    *,
    event: str,
    from_status: str | None,
    operator_id: int | None,
    at: datetime,
    details: Mapping[str, Any] | None = None,
) -> None:
    """The campaign's own event row; a launch, pause, resume or kill by an operator is also audited."""
    action = _AUDITED.get(event)
    if action is not None and operator_id is not None:
        audit.record(
            session,
            tenant_id=campaign.tenant_id,
            operator_id=operator_id,
            action=action,
            subject=f"campaign {campaign.id}",
            details={"from": from_status, "to": campaign.status, **(details or {})},
            at=at,
        )
    session.execute(
        insert(CampaignEvent).values(
            tenant_id=campaign.tenant_id,
            campaign_id=campaign.id,
            operator_id=operator_id,
            event=event,
            from_status=from_status,
            to_status=campaign.status,
            details=dict(details or {}),
            at=at,
        )
    )


_TEXTS = text(
    """
    SELECT t.name, t.channel, v.subject, v.body
    FROM templates AS t
    JOIN template_versions AS v ON v.template_id = t.id AND v.version = t.current_version
    WHERE t.tenant_id = :tenant_id AND starts_with(t.name, :prefix)
    """
)


def read_texts(session: Session, *, tenant_id: int, campaign_id: int) -> dict[str, MessageText]:
    """The campaign's texts by template name (the brief lives in the plan, not here)."""
    found: dict[str, dict[str, str]] = {}
    params = {"tenant_id": tenant_id, "prefix": template_prefix(campaign_id) + "/"}
    for row in session.execute(_TEXTS, params):
        fields = found.setdefault(row.name, {})
        if row.channel == "email":
            fields.update(email_subject=row.subject or "", email_body=row.body)
        else:
            fields["sms_body"] = row.body
    return {name: MessageText(**fields) for name, fields in found.items()}


def store_texts(session: Session, *, tenant_id: int, campaign_id: int, texts: Mapping[str, MessageText]) -> None:
    """Make the campaign's templates exactly `texts`: a new version where a text changed, no row where none is left."""
    prefix = template_prefix(campaign_id) + "/"
    existing = {
        (t.name, t.channel): t
        for t in session.execute(
            select(Template).where(Template.tenant_id == tenant_id, Template.name.startswith(prefix, autoescape=True))
        ).scalars()
    }
    wanted = {
        (name, channel): message.for_channel(channel)
        for name, message in texts.items()
        for channel in CHANNELS
        if message.for_channel(channel)[1] or (channel == "email" and message.email_subject.strip())
    }
    gone = [t.id for key, t in existing.items() if key not in wanted]
    if gone:
        session.execute(delete(Template).where(Template.id.in_(gone)))
    for (name, channel), (subject, body) in wanted.items():
        _store_text(session, tenant_id, existing.get((name, channel)), name, channel, subject, body)


def _store_text(
    session: Session, tenant_id: int, template: Template | None, name: str, channel: str, subject: str | None, body: str
) -> None:
    if template is None:
        template = Template(tenant_id=tenant_id, name=name, channel=channel, current_version=1)
        session.add(template)
        session.flush()
        session.add(
            TemplateVersion(tenant_id=tenant_id, template_id=template.id, version=1, subject=subject, body=body)
        )
        return
    current = session.execute(
        select(TemplateVersion).where(
            TemplateVersion.template_id == template.id, TemplateVersion.version == template.current_version
        )
    ).scalar_one_or_none()
    if current is not None and (current.subject, current.body) == (subject, body):
        return
    template.current_version += 1
    session.add(
        TemplateVersion(
            tenant_id=tenant_id, template_id=template.id, version=template.current_version, subject=subject, body=body
        )
    )
