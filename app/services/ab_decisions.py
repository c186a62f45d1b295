"""A campaign's A/B test: reading where it stands, and recording its verdict once.

The test's settings live in `campaigns.variants['test']` ({"metric": "replied", "confidence":
0.95, "min_per_arm": 100, "max_loss": 0.002, "effect": 0.02}; missing keys take these defaults), the counts come
from the campaign's sent messages (`db/variant_counts.py`: the unit is the sent message, the
success the metric's event on it), and the rule is `app.domain.ab_test.evaluate`. The variants
under test are those the plan's send nodes offer.

`decide` records a final verdict (a winner, or no difference worth waiting for) in one
transaction, under a lock on the campaign's row:

- `campaigns.variants['decision']`: the verdict with the figures it was made on, which the
  console shows on the campaign;
- one `campaign_decisions` row, the audit (unique per campaign, so a second call, or a race
  the lock somehow missed, records nothing);
- for a winner, the plan rewritten so that every send node offering it offers it alone
  (`app.domain.plan.promote`): new sends use the winner with no change to the interpreter.

Deciding again changes nothing: the stored verdict is final, and later counts are only shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app import runtime
from app.domain import roles
from app.domain.ab_test import FINAL_STATES, Arm, Decision, Settings, evaluate
from app.domain.ab_verdict import decision_from_json, decision_to_json
from app.domain.plan.promote import offered_variants, promote_variant
from app.services import acting
from db.models import Campaign, CampaignDecision
from db.variant_counts import VariantCounts, variant_counts

SETTINGS_KEY = "test"
DECISION_KEY = "decision"


@dataclass(frozen=True)
class AbReport:
    """Where a campaign's test stands.

    `counts` has every variant the plan offers (in plan order, zeros before any send) and then
    any other variant the campaign has sent (a loser after promotion, a variant since removed).
    `live` is the rule on today's counts, None when there is no test to run (`problem` says
    why); `recorded` is the verdict stored when the test ended, with `decided_at`.
    """

    campaign_id: int
    campaign_name: str
    offered: tuple[str, ...]
    counts: tuple[VariantCounts, ...]
    settings: Settings | None
    live: Decision | None
    recorded: Decision | None
    decided_at: dt.datetime | None
    problem: str | None


@dataclass(frozen=True)
class AbOutcome:
    report: AbReport
    recorded_now: bool
    """This call recorded the verdict (False: the test is still running, or was decided before)."""


def ab_report(*, tenant_id: int, campaign_id: int) -> AbReport:
    """The campaign's test as it stands; LookupError when the tenant has no such campaign."""
    with runtime.session_scope() as session, session.begin():
        return _report(session, _campaign(session, tenant_id, campaign_id, lock=False))


def decide(*, tenant_id: int, campaign_id: int, now: dt.datetime, operator_id: int | None = None) -> AbOutcome:
    """Run the rule and, when it reaches a final verdict, record it once and promote the winner.

    `operator_id`: the console operator asking (one who may launch this tenant's campaigns,
    checked: a verdict changes the live plan); None for the rollup agent's sweep."""
    with runtime.session_scope() as session, session.begin():
        acting.require_if(session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.LAUNCH)
        campaign = _campaign(session, tenant_id, campaign_id, lock=True)
        report = _report(session, campaign)
        live = report.live
        if DECISION_KEY in campaign.variants or live is None or live.state not in FINAL_STATES:
            return AbOutcome(report, recorded_now=False)
        stored = decision_to_json(live, now)
        new_plan = promote_variant(campaign.plan, live.winner) if live.winner else None
        audit_id = session.execute(
            insert(CampaignDecision)
            .values(
                tenant_id=tenant_id,
                campaign_id=campaign_id,
                outcome="winner" if live.winner else "no_difference",
                winner=live.winner,
                stats=stored,
                rule=live.rule,
                decided_at=now,
                plan_before=campaign.plan if new_plan is not None else None,
            )
            .on_conflict_do_nothing(index_elements=["campaign_id"])
            .returning(CampaignDecision.id)
        ).scalar()
        if audit_id is None:
            return AbOutcome(report, recorded_now=False)
        campaign.variants = {**campaign.variants, DECISION_KEY: stored}
        if new_plan is not None:
            campaign.plan = new_plan
        return AbOutcome(replace(report, recorded=live, decided_at=now), recorded_now=True)


def decide_running(*, tenant_id: int, now: dt.datetime) -> int:
    """`decide` for each of the tenant's running campaigns whose plan offers two variants or more
    (the rollup agent's sweep); how many recorded a verdict now. A campaign whose test cannot run
    (bad settings) is skipped: its page says why."""
    with runtime.session_scope() as session:
        campaigns = session.execute(
            select(Campaign.id, Campaign.plan).where(Campaign.tenant_id == tenant_id, Campaign.status == "running")
        ).all()
    testing = [row.id for row in campaigns if len(offered_variants(row.plan)) >= 2]
    return sum(decide(tenant_id=tenant_id, campaign_id=campaign, now=now).recorded_now for campaign in testing)


def _campaign(session: Session, tenant_id: int, campaign_id: int, *, lock: bool) -> Campaign:
    query = select(Campaign).where(Campaign.id == campaign_id, Campaign.tenant_id == tenant_id)
    campaign = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if campaign is None:
        raise LookupError(f"campaign {campaign_id} does not exist for tenant {tenant_id}")
    return campaign


def _report(session: Session, campaign: Campaign) -> AbReport:
    offered = offered_variants(campaign.plan)
    sent = {c.name: c for c in variant_counts(session.connection(), campaign.tenant_id, campaign.id)}
    names = [*offered, *sorted(name for name in sent if name not in offered)]
    counts = tuple(sent.get(name, VariantCounts(name, 0, 0, 0, 0)) for name in names)
    report = AbReport(campaign.id, campaign.name, offered, counts, None, None, None, None, None)
    if DECISION_KEY in campaign.variants:
        try:
            recorded, decided_at = decision_from_json(campaign.variants[DECISION_KEY])
        except ValueError as error:
            return replace(report, problem=f"The stored verdict (campaigns.variants.decision) is unreadable: {error}")
        report = replace(report, recorded=recorded, decided_at=decided_at)
    try:
        settings = Settings.from_json(campaign.variants.get(SETTINGS_KEY))
    except ValueError as error:
        return replace(report, problem=f"The test's settings (campaigns.variants.test) are invalid: {error}")
    report = replace(report, settings=settings)
    if len(offered) < 2:
        if report.recorded is not None:
            return report  # the winner was promoted: the plan offers it alone
        return replace(report, problem="The plan offers fewer than two variants: there is nothing to test.")
    arms = [Arm(c.name, c.sent, c.successes(settings.metric)) for c in counts if c.name in offered]
    return replace(report, live=evaluate(arms, settings))
