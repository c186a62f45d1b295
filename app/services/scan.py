"""Step 1 of the loop (docs/pipeline.md): start an episode for the leads that went silent.

A tenant's scan is a constant handful of set-based statements, never a loop of queries per
lead: one statement picks the eligible leads (`SCAN`), the plan interpreter starts their
episodes (`campaign_run.enroll_in_session`: one step per class of leads, one statement that
writes the enrollments, the rung-1 sends, the wait timers, the audit and the climb), and one
statement marks the held-out leads. The ladder's later rungs are the plan's (its wait timers,
fired by the planner agent), not the scan's. The work grows with the leads enrolled, not with
round trips (bench/scan.py measures it against the per-lead loops it replaces).

Who is eligible, precisely (`_ELIGIBLE`):
- *first threshold crossed, no episode yet*: `silence_level = 0` and `last_activity_at <= now -
  ladder[1]`; the episode sets `silence_level` (to the rung its message climbs to), so the
  lead is not picked again until new activity resets it (`app/services/activities.py`) and
  its silence crosses the threshold once more: the next episode, whose keys carry its number;
- *open*: `recovery_state` is active, silent, in_recovery or control; replied, recovered and
  lost leads belong to a person now;
- *reachable*: at least one channel has an address, consent and no suppression for that
  address (email compared as stored and lower-cased, as the sender does). A lead whose every
  channel is suppressed or unconsented is left alone; the plan picks the first channel of the
  rung that reaches the lead;
- *free*: no `active`/`waiting` enrollment in any campaign;
- *rested*: not contacted within the tenant's cool-down (`last_contacted_at`);
- *present*: not snoozed ("not now") and not away (an out-of-office reply's return date,
  `resume_at`) past the scan's moment, and not flagged as the wrong person.

At most `tenants.scan_cap` of them are taken per run, highest `intent_score × deal_value`
first (then longest silent). Of those, the holdout bucket (`app/domain/holdout.py`, the same
md5 formula in SQL) decides the control group: a control lead gets an enrollment with status
`control`, `recovery_state = 'control'` and no send, so it is never contacted and is not
picked again each run. Everyone else starts an episode of the recovery campaign's plan.

Every scan of a tenant, and every "Recover now", first takes a transaction-level advisory
lock on the tenant: two cron processes (RQ's cron has no lock) or a click during a scan then
run one after the other, and the second sees the first's enrollments instead of racing it.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger

from app import queue, runtime
from app.domain import roles
from app.domain.holdout import HOLDOUT_SQL
from app.domain.recovery_plan import rung_node
from app.services import acting, audit, campaign_run
from app.services.recovery_campaign import ensure_recovery_campaign

RECOVER_NOW_SOURCE = "recover now"
"""How a send asked for by a person is marked (its action's payload `source` starts with it)."""

MAX_RECOVER_SELECTION = 10_000
OPEN_STATES = ("active", "silent", "in_recovery", "control")
"""Lead states the scan looks at; `ix_leads_silence_rung` is partial on exactly this list."""
OPEN_STATES_SQL = "(" + ", ".join(f"'{state}'" for state in OPEN_STATES) + ")"

# The tenant's scan lock, and no JIT for this transaction: the planner cannot know the ladder's
# length, guesses a costly plan, and PostgreSQL would spend most of a second compiling a
# statement that runs in milliseconds (measured with bench/scan.py).
_LOCK = text(
    "SELECT set_config('jit', 'off', true), "
    "pg_advisory_xact_lock(hashtext('lre.scan'), hashtext(CAST(:tenant_id AS text)))"
)

_CLOCK_AND_RULES = """
tenant AS (
    SELECT t.id, t.silence_ladder_hours AS ladder, t.cooldown_hours, t.holdout_percent, t.scan_cap,
           CAST(:now AS timestamptz) AS at
    FROM tenants AS t WHERE t.id = :tenant_id
)"""

_IS_CONTROL = HOLDOUT_SQL.format(tenant="l.tenant_id", lead="l.id") + " < t.holdout_percent"

_REACHABLE = """(
    (coalesce(l.email, '') <> '' AND l.consent_email
        AND NOT EXISTS (SELECT 1 FROM suppressions AS s
                        WHERE s.tenant_id = t.id AND s.channel = 'email' AND s.address = l.email)
        AND NOT EXISTS (SELECT 1 FROM suppressions AS s
                        WHERE s.tenant_id = t.id AND s.channel = 'email' AND s.address = lower(l.email)))
    OR (coalesce(l.phone, '') <> '' AND l.consent_sms AND NOT EXISTS (
        SELECT 1 FROM suppressions AS s
        WHERE s.tenant_id = t.id AND s.channel = 'sms' AND s.address = l.phone))
)"""

_BUSY = """EXISTS (
    SELECT 1 FROM enrollments AS busy WHERE busy.lead_id = l.id AND busy.status IN ('active', 'waiting')
)"""

# Leads whose silence crossed the ladder's first threshold and who are not in an episode
# already (`silence_level = 0`: the enrollment raises it, new activity resets it): one range of
# ix_leads_silence_rung (`OFFSET 0` keeps it a parameterised index range instead of a scan of
# the whole tenant). The holdout hash is computed for the picked leads only.
_ELIGIBLE = f"""
eligible AS MATERIALIZED (
    SELECT l.id AS lead_id, l.intent_score * l.deal_value AS worth, l.last_activity_at
    FROM tenant AS t
    JOIN leads AS l ON l.tenant_id = t.id
    WHERE l.silence_level = 0
      AND l.recovery_state IN {OPEN_STATES_SQL}
      AND l.last_activity_at <= t.at - make_interval(hours => t.ladder[1])
      AND (l.snoozed_until IS NULL OR l.snoozed_until <= t.at) AND NOT l.wrong_person
      AND (l.resume_at IS NULL OR l.resume_at <= t.at)
      AND (l.last_contacted_at IS NULL OR l.last_contacted_at <= t.at - make_interval(hours => t.cooldown_hours))
      AND {_REACHABLE}
      AND NOT {_BUSY}
    OFFSET 0
),
picked AS (
    SELECT e.lead_id, {HOLDOUT_SQL.format(tenant="t.id", lead="e.lead_id")} < t.holdout_percent AS is_control
    FROM (SELECT * FROM eligible ORDER BY worth DESC, last_activity_at, lead_id
          LIMIT (SELECT scan_cap FROM tenant)) AS e
    CROSS JOIN tenant AS t
)"""

# The leads a person asked for, each with the first rule that stops it ('ok' when none does).
_REQUESTED = f"""
requested AS (
    SELECT DISTINCT x.lead_id FROM unnest(CAST(:lead_ids AS bigint[])) AS x(lead_id)
),
verdicts AS (
    SELECT r.lead_id, {_IS_CONTROL} AS is_control, l.silence_level + 1 AS rung,
           CASE WHEN l.id IS NULL THEN 'not_found'
                WHEN {_BUSY} THEN 'already_in_recovery'
                WHEN l.recovery_state = 'recovered' THEN 'recovered'
                WHEN NOT {_REACHABLE} THEN 'suppressed'
                WHEN l.silence_level >= cardinality(t.ladder) THEN 'ladder_complete'
                WHEN {_IS_CONTROL} AND l.recovery_state = 'control' THEN 'control'
                ELSE 'ok' END AS verdict
    FROM requested AS r
    CROSS JOIN tenant AS t
    LEFT JOIN leads AS l ON l.id = r.lead_id AND l.tenant_id = t.id
)"""

SCAN = text(
    f"""
    WITH {_CLOCK_AND_RULES}, {_ELIGIBLE}
    SELECT (SELECT count(*) FROM eligible) AS eligible,
           coalesce(array_agg(p.lead_id ORDER BY p.lead_id), '{{}}') AS picked,
           coalesce(array_agg(p.lead_id ORDER BY p.lead_id) FILTER (WHERE p.is_control), '{{}}') AS control
    FROM picked AS p
    """
)

RECOVER = text(
    f"""
    WITH {_CLOCK_AND_RULES}, {_REQUESTED}
    SELECT v.lead_id, v.verdict, v.is_control, v.rung FROM verdicts AS v ORDER BY v.lead_id
    """
).bindparams(bindparam("lead_ids", type_=ARRAY(BigInteger)))

# Every lead that entered an episode (or the holdout) stands on the ladder's first rung at least,
# so the scan does not pick it again until new activity resets its silence; the held-out ones are
# marked `control` and never contacted. A lead its first message already climbed is left as it is
# (a second version of the row would cost every index of leads again).
_ENTERED = text(
    """
    WITH entered AS (
        SELECT l.id, CASE WHEN l.id = ANY(CAST(:control AS bigint[])) THEN 'control'
                          WHEN l.recovery_state IN ('active', 'silent') THEN 'in_recovery'
                          ELSE l.recovery_state END AS state
        FROM leads AS l
        WHERE l.tenant_id = :tenant_id AND l.id = ANY(CAST(:lead_ids AS bigint[]))
    )
    UPDATE leads AS l
    SET silence_level = greatest(l.silence_level, 1), recovery_state = e.state, updated_at = now()
    FROM entered AS e
    WHERE l.id = e.id AND (l.silence_level < 1 OR l.recovery_state <> e.state)
    """
)


@dataclass(frozen=True)
class ScanResult:
    """What one scan of one tenant did; `counts()` is what the agent writes to `agent_runs`."""

    tenant_id: int
    campaign_id: int
    eligible: int
    enrolled: int
    control: int
    scheduled: int
    capped: int

    def counts(self) -> dict[str, int]:
        return {
            "eligible": self.eligible,
            "enrolled": self.enrolled,
            "control": self.control,
            "capped": self.capped,
            "scheduled": self.scheduled,
        }

    def summary(self) -> str:
        counts = ", ".join(f"{key} {value}" for key, value in self.counts().items())
        return f"tenant {self.tenant_id}: {counts}"


class RecoverOutcome(enum.StrEnum):
    """What "Recover now" did with one lead."""

    ENROLLED = "enrolled"
    """A new episode of the recovery plan started at the lead's next rung; its message is scheduled."""
    CONTROL = "control"
    """In the holdout group: recorded, never contacted."""
    ALREADY_IN_RECOVERY = "already_in_recovery"
    """It has an active enrollment (a second click lands here)."""
    SUPPRESSED = "suppressed"
    """No channel with an address, consent and no suppression."""
    LADDER_COMPLETE = "ladder_complete"
    """It already had every rung of the tenant's ladder."""
    RECOVERED = "recovered"
    """Already won back."""
    NOT_FOUND = "not_found"
    """No such lead in this tenant."""


@dataclass(frozen=True)
class RecoverResult:
    """Per lead, what "Recover now" did, for the console to say."""

    tenant_id: int
    campaign_id: int | None
    outcomes: dict[int, RecoverOutcome] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return dict(Counter(outcome.value for outcome in self.outcomes.values()))

    @property
    def enrolled(self) -> list[int]:
        return [lead for lead, outcome in self.outcomes.items() if outcome is RecoverOutcome.ENROLLED]


def scan_tenant(*, tenant_id: int, now: datetime | None = None) -> ScanResult:
    """Enroll the tenant's newly silent leads (within its cap), and commit.

    `now` is the clock the ladder and cool-down are measured against (the machine's by default).
    The caller wakes the writer (`request_writes`) when something was scheduled.
    """
    with runtime.session_scope() as session, session.begin():
        return run_scan(session, tenant_id=tenant_id, now=now)


def run_scan(session: Session, *, tenant_id: int, now: datetime | None = None) -> ScanResult:
    """The scan inside the caller's transaction, which the caller commits (or, in bench/, rolls back)."""
    at = now or datetime.now(UTC)
    campaign_id = _lock_and_find_campaign(session, tenant_id)
    row = session.execute(SCAN, {"tenant_id": tenant_id, "now": at}).one()
    picked, control = list(row.picked), frozenset(row.control)
    enrolled = campaign_run.enroll_in_session(
        session,
        tenant_id=tenant_id,
        campaign_id=campaign_id,
        lead_ids=picked,
        now=at,
        source="silence scan",
        control_ids=control,
    )
    _mark_entered(session, tenant_id, enrolled)
    return ScanResult(
        tenant_id=tenant_id,
        campaign_id=campaign_id,
        eligible=row.eligible,
        enrolled=len(enrolled.enrolled),
        control=len(enrolled.control),
        scheduled=enrolled.counts["sends"],
        capped=row.eligible - len(picked),
    )


def recover_now(*, tenant_id: int, lead_ids: Sequence[int], operator_id: int | None) -> RecoverResult:
    """The console's "Recover now": start these leads on the recovery plan at once, then wake the writer.

    The silence threshold, the cool-down and the cap are waived (a person decided), but not
    suppression, consent, an active enrollment or the holdout. A double click is harmless:
    the first click leaves an active enrollment, so the second reports `already_in_recovery`;
    the unique enrollment and dedupe keys refuse a second row even if two clicks race.
    `operator_id` is who clicked (a rep or above of the tenant, checked before anything is
    written); None is the host's own code.
    """
    if len(lead_ids) > MAX_RECOVER_SELECTION:
        raise ValueError(f"select at most {MAX_RECOVER_SELECTION} leads per recovery, not {len(lead_ids)}")
    if not lead_ids:
        return RecoverResult(tenant_id=tenant_id, campaign_id=None)
    source = RECOVER_NOW_SOURCE + (f" by operator {operator_id}" if operator_id is not None else "")
    at = datetime.now(UTC)
    with runtime.session_scope() as session, session.begin():
        acting.require_if(session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.RECOVER)
        campaign_id = _lock_and_find_campaign(session, tenant_id)
        verdicts = session.execute(RECOVER, {"tenant_id": tenant_id, "now": at, "lead_ids": list(lead_ids)}).all()
        ok = [v.lead_id for v in verdicts if v.verdict == "ok"]
        control = frozenset(v.lead_id for v in verdicts if v.verdict == "ok" and v.is_control)
        starts = {v.lead_id: rung_node(v.rung) for v in verdicts if v.verdict == "ok"}
        enrolled = campaign_run.enroll_in_session(
            session,
            tenant_id=tenant_id,
            campaign_id=campaign_id,
            lead_ids=ok,
            now=at,
            source=source,
            control_ids=control,
            start_nodes=starts,
        )
        _mark_entered(session, tenant_id, enrolled)
        if operator_id is not None:
            audit.record(
                session,
                tenant_id=tenant_id,
                operator_id=operator_id,
                action="recover",
                subject=f"{len(enrolled.enrolled)} lead(s)",
                details={"asked": len(lead_ids), "enrolled": sorted(enrolled.enrolled)[:100]},
            )
    outcomes = {v.lead_id: RecoverOutcome(v.verdict) for v in verdicts if v.verdict != "ok"}
    outcomes |= dict.fromkeys(enrolled.enrolled, RecoverOutcome.ENROLLED)
    outcomes |= dict.fromkeys(enrolled.control, RecoverOutcome.CONTROL)
    outcomes |= dict.fromkeys(enrolled.busy, RecoverOutcome.ALREADY_IN_RECOVERY)
    result = RecoverResult(tenant_id, campaign_id, dict(sorted(outcomes.items())))
    if enrolled.counts["sends"]:
        request_writes(tenant_id)
    return result


def _mark_entered(session: Session, tenant_id: int, enrolled: campaign_run.Enrollment) -> None:
    entered = enrolled.enrolled + enrolled.control
    if entered:
        params = {"tenant_id": tenant_id, "lead_ids": entered, "control": enrolled.control}
        session.execute(_ENTERED, params)


def request_writes(tenant_id: int) -> str:
    """Wake the writer for this tenant (after a commit, so it sees the new sends)."""
    return queue.enqueue(runtime.redis_client(), "write_due", tenant_id=tenant_id)


def scan_all() -> int:
    """Enqueue one `scan_tenant` job per tenant (so tenants scan in parallel on the workers)."""
    ids = tenant_ids()
    connection = runtime.redis_client()
    for tenant_id in ids:
        queue.enqueue(connection, "scan_tenant", tenant_id=tenant_id)
    return len(ids)


def tenant_ids(slug: str | None = None) -> list[int]:
    """Every tenant's id, or the one with this slug (an unknown slug is an error)."""
    where = "" if slug is None else "WHERE slug = :slug"
    with runtime.session_scope() as session:
        ids = list(session.execute(text(f"SELECT id FROM tenants {where} ORDER BY id"), {"slug": slug}).scalars())
    if slug is not None and not ids:
        raise ValueError(f"no tenant with slug {slug!r}")
    return ids


def _lock_and_find_campaign(session: Session, tenant_id: int) -> int:
    session.execute(_LOCK, {"tenant_id": tenant_id})
    return ensure_recovery_campaign(session, tenant_id)
