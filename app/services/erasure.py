"""Erasing a lead: its personal data goes, its numbers stay, and it is never contacted again.

A lead asks to be forgotten (`python -m app erase-lead`, or Settings → Privacy). Deleting the
row would cascade into conversions and sends, and the ROI pages would lose revenue and counts
that are not personal data. So the lead is anonymised in place, in one transaction:

- the lead row loses names, email, phone, company, title, tags, attributes and its CRM id
  (`erased-<id>`), gets `erased_at`, and an open lead becomes `lost` so no scan picks it up;
- the rows that belong to it lose their free text and addresses (timeline, outbox, provider
  events, replies, AI generations, plan state and payloads); rep-labelled examples of its
  replies are deleted; pending sends and plan work are cancelled;
- every other text, JSON or array column of the database is swept for its email, phone, full
  name and reply texts (`app.services.erasure_sweep`), and so is Redis, after the commit;
- its addresses are kept only as keyed digests in `suppressions` (reason `erased`), which the
  intake turns back into a plain suppression when the same address is imported again
  (`suppress_returning`): the person is not written to again.

Retention (`app.services.retention`) anonymises the same way, without the suppression: a lead
kept past its tenant's period has not objected to being contacted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from redis import RedisError
from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger

from app import runtime
from app.domain import roles
from app.domain.privacy import DIGEST_SQL, ERASED_FIRST_NAME, contact_digest, digest_key, normalise, sweep_values
from app.services import acting, audit, erasure_sweep
from app.settings import get_settings

ERASED_KEY_SUFFIX = ":erased"
"""Appended to an erased lead's AI generations' request keys: the response cache never serves them."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeadFacts:
    """What must be found and removed: the lead's own values and the texts it wrote."""

    id: int
    tenant_id: int
    email: str | None
    phone: str | None
    first_name: str
    last_name: str
    replies: tuple[str, ...] = ()

    def sweep(self) -> list[str | None]:
        """The values searched for in rows that are not the lead's (names alone are too common)."""
        full_name = f"{self.first_name} {self.last_name}".strip()
        return [self.email, self.phone, full_name if " " in full_name else None, *self.replies]


@dataclass
class Report:
    """What an erasure (or a retention run) changed."""

    leads: list[int]
    rows: dict[str, int] = field(default_factory=dict)
    swept: dict[str, int] = field(default_factory=dict)
    redis_keys: int = 0

    def summary(self) -> str:
        linked = sum(self.rows.values())
        swept = sum(self.swept.values())
        return (
            f"erased {len(self.leads)} lead(s): {linked:,} of their rows blanked, {swept:,} other rows and "
            f"{self.redis_keys:,} Redis keys swept"
        )


def may_erase(*, role: str, operator_tenant_id: int, tenant_id: int) -> bool:
    """An owner or an admin of this tenant, or the superuser."""
    return roles.may(role, roles.Action.ERASE, own_tenant=operator_tenant_id == tenant_id)


def check_eraser(session: Session, *, operator_id: int, tenant_id: int) -> None:
    """`PermissionError` unless the operator, as read from the database now, may erase here."""
    acting.require(session, operator_id=operator_id, tenant_id=tenant_id, action=roles.Action.ERASE)


def tenant_of(*, lead_id: int) -> int:
    """The tenant of a lead (the command line names a lead by id alone); `LookupError` when none."""
    with runtime.session_scope() as session:
        tenant_id = session.scalar(text("SELECT tenant_id FROM leads WHERE id = :id"), {"id": lead_id})
    if tenant_id is None:
        raise LookupError(f"no lead {lead_id}")
    return int(tenant_id)


def erase_lead(*, tenant_id: int, lead_id: int, operator_id: int | None, now: dt.datetime | None = None) -> Report:
    """Erase one lead of one tenant (see the module). `operator_id` None: the command line.

    `LookupError` when the tenant has no such lead; erasing an erased lead again changes nothing.
    """
    now = now or dt.datetime.now(dt.UTC)
    with runtime.session_scope() as session, session.begin():
        if operator_id is not None:
            check_eraser(session, operator_id=operator_id, tenant_id=tenant_id)
        facts = lead_facts(session, tenant_id=tenant_id, lead_ids=[lead_id])
        if not facts:
            raise LookupError(f"tenant {tenant_id} has no lead {lead_id}")
        report = anonymise(session, facts, suppress=True, now=now)
        audit.record(session, tenant_id=tenant_id, operator_id=operator_id, action="erase", subject=f"lead {lead_id}")
    report.redis_keys = sweep_redis_values(facts)
    log.info("erased lead %s of tenant %s: %s", lead_id, tenant_id, report.summary())
    return report


_FACTS = text(
    """
    SELECT l.id, l.tenant_id, l.email, l.phone, l.first_name, l.last_name,
           coalesce(array_agg(i.body) FILTER (WHERE i.body <> ''), '{}') AS replies
    FROM leads AS l
    LEFT JOIN inbound_messages AS i ON i.lead_id = l.id
    WHERE l.tenant_id = :tenant_id AND l.id = ANY(:ids)
    GROUP BY l.id
    ORDER BY l.id
    """
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))


def lead_facts(session: Session, *, tenant_id: int, lead_ids: Sequence[int]) -> list[LeadFacts]:
    """The leads of this tenant among `lead_ids`, with their values, locked by the updates that follow."""
    rows = session.execute(_FACTS, {"tenant_id": tenant_id, "ids": list(lead_ids)})
    return [
        LeadFacts(r.id, r.tenant_id, r.email, r.phone, r.first_name, r.last_name, tuple(r.replies or ())) for r in rows
    ]


def anonymise(session: Session, facts: Sequence[LeadFacts], *, suppress: bool, now: dt.datetime) -> Report:
    """Blank the leads and their rows, sweep the rest of the database; inside the caller's transaction.

    `suppress` is an erasure request: digests kept, and every table swept. Without it (retention),
    the tables whose rows name a lead are not swept again (`erasure_sweep.sweep_database`).
    """
    report = Report(leads=[f.id for f in facts])
    if not facts:
        return report
    tenant_ids = {f.tenant_id for f in facts}
    if len(tenant_ids) != 1:
        raise ValueError("anonymise one tenant's leads at a time")
    tenant_id = tenant_ids.pop()
    params = {"tenant_id": tenant_id, "ids": [f.id for f in facts], "now": now}
    if suppress:
        _suppress_digests(session, facts)
    _delete_plain_suppressions(session, facts)
    for table, statement in _BLANK:
        count = int(getattr(session.execute(statement, params), "rowcount", 0) or 0)
        if count:
            report.rows[table] = report.rows.get(table, 0) + count
    blanked = _blank_single_lead_deliveries(session, facts, tenant_id=tenant_id)
    if blanked:
        report.rows["webhook_deliveries"] = blanked
    values = sweep_values(_all_sweep(facts))
    report.swept = erasure_sweep.sweep_database(session, values, tenant_id=tenant_id, linked_tables=suppress)
    if suppress:
        _suppress_namesakes(session, facts)
    return report


SINGLE_LEAD_ENDPOINTS = ("sendgrid/inbound", "twilio/sms", "twilio/status")
"""Webhooks whose body is about one message of one person (an email or a text they sent, a text's
status): one naming the lead is the lead's and is blanked whole (a reply quotes our message, names
and all). A SendGrid event batch holds many leads' events and is swept instead."""

_BLANK_DELIVERIES = text(
    """
    UPDATE webhook_deliveries SET body = '', headers = '{}'
    WHERE (tenant_id = :tenant_id OR tenant_id IS NULL) AND endpoint = ANY(:endpoints) AND result <> 'received'
      AND body <> '' AND EXISTS (SELECT 1 FROM unnest(CAST(:needles AS text[])) AS n WHERE strpos(body, n) > 0)
    """
)


def _blank_single_lead_deliveries(session: Session, facts: Sequence[LeadFacts], *, tenant_id: int) -> int:
    """Blank the applied single-person webhooks that name the leads' email or phone; how many."""
    needles = sweep_values(value for f in facts for value in (f.email, f.phone))
    if not needles:
        return 0
    params = {"tenant_id": tenant_id, "endpoints": list(SINGLE_LEAD_ENDPOINTS), "needles": needles}
    return int(getattr(session.execute(_BLANK_DELIVERIES, params), "rowcount", 0) or 0)


def sweep_redis_values(facts: Iterable[LeadFacts]) -> int:
    """Sweep Redis for the leads' values; a Redis that is down is logged (the database is the truth)."""
    values = sweep_values(_all_sweep(facts))
    try:
        return erasure_sweep.sweep_redis(runtime.redis_client(), values)
    except RedisError as error:
        log.warning("Redis could not be swept after an erasure (%s): run the erasure again", type(error).__name__)
        return 0


def _all_sweep(facts: Iterable[LeadFacts]) -> list[str | None]:
    return [value for f in facts for value in f.sweep()]


def _digests(facts: Iterable[LeadFacts]) -> list[tuple[int, str, str]]:
    key = digest_key(get_settings().secret_key.get_secret_value())
    found = []
    for f in facts:
        if f.email:
            found.append((f.tenant_id, "email", contact_digest(key, "email", f.email)))
        if f.phone:
            found.append((f.tenant_id, "sms", contact_digest(key, "sms", f.phone)))
    return found


def _suppress_digests(session: Session, facts: Sequence[LeadFacts]) -> None:
    rows = _digests(facts)
    if not rows:
        return
    session.execute(
        text(
            """
            INSERT INTO suppressions (tenant_id, channel, address, reason, note)
            SELECT t, c, a, 'erased', 'erasure request' FROM unnest(CAST(:t AS bigint[]), CAST(:c AS text[]),
                                                                  CAST(:a AS text[])) AS d(t, c, a)
            ON CONFLICT (tenant_id, channel, address) DO NOTHING
            """
        ),
        {"t": [r[0] for r in rows], "c": [r[1] for r in rows], "a": [r[2] for r in rows]},
    )


def _delete_plain_suppressions(session: Session, facts: Sequence[LeadFacts]) -> None:
    """The lead's readable suppressions go (the digests above, when asked, replace them)."""
    addresses = [(f.tenant_id, "email", a) for f in facts if f.email for a in {f.email, normalise("email", f.email)}]
    addresses += [(f.tenant_id, "sms", f.phone) for f in facts if f.phone]
    if not addresses:
        return
    session.execute(
        text(
            """
            DELETE FROM suppressions AS s
            USING unnest(CAST(:t AS bigint[]), CAST(:c AS text[]), CAST(:a AS text[])) AS d(t, c, a)
            WHERE s.tenant_id = d.t AND s.channel = d.c AND s.address = d.a
            """
        ),
        {"t": [a[0] for a in addresses], "c": [a[1] for a in addresses], "a": [a[2] for a in addresses]},
    )


def _suppress_namesakes(session: Session, facts: Sequence[LeadFacts]) -> None:
    """Other leads of the tenant with an erased address are the same person: suppress that address."""
    emails = [normalise("email", f.email) for f in facts if f.email]
    phones = [f.phone for f in facts if f.phone]
    tenant_id = facts[0].tenant_id
    others = session.scalars(
        text(
            """SELECT id FROM leads WHERE tenant_id = :tenant_id AND erased_at IS NULL
                 AND (lower(email) = ANY(CAST(:emails AS text[])) OR phone = ANY(CAST(:phones AS text[])))"""
        ),
        {"tenant_id": tenant_id, "emails": emails, "phones": phones},
    ).all()
    suppress_returning(session, tenant_id=tenant_id, lead_ids=list(others))


def _blank(sql: str, **values: object) -> TextClause:
    return text(sql).bindparams(bindparam("ids", type_=ARRAY(BigInteger)), **values)


_BLANK = [
    (
        "reply_labels",
        _blank(
            """DELETE FROM reply_labels WHERE tenant_id = :tenant_id AND inbound_message_id IN (
                   SELECT id FROM inbound_messages WHERE tenant_id = :tenant_id AND lead_id = ANY(:ids))"""
        ),
    ),
    (
        "inbound_messages",
        _blank(
            """UPDATE inbound_messages SET from_address = '', body = '', suggested_reply = NULL,
                   triage_reason = NULL, updated_at = :now
               WHERE tenant_id = :tenant_id AND lead_id = ANY(:ids)"""
        ),
    ),
    (
        "outbound_messages",
        _blank(
            """UPDATE outbound_messages SET to_address = '', subject = NULL, body = '',
                   status = CASE WHEN status = 'pending' THEN 'canceled' ELSE status END,
                   last_error = CASE WHEN status = 'pending' THEN 'lead erased' ELSE NULL END, updated_at = :now
               WHERE tenant_id = :tenant_id AND lead_id = ANY(:ids)"""
        ),
    ),
    (
        "message_events",
        _blank(
            """UPDATE message_events SET url = NULL, payload = '{}'
               WHERE tenant_id = :tenant_id AND lead_id = ANY(:ids) AND (url IS NOT NULL OR payload <> '{}')"""
        ),
    ),
    (
        "activities",
        _blank(
            """UPDATE activities SET summary = '', details = '{}'
               WHERE tenant_id = :tenant_id AND lead_id = ANY(:ids) AND (summary <> '' OR details <> '{}')"""
        ),
    ),
    (
        "ai_generations",
        # No longer servable by the cache either: no request key ends in ERASED_KEY_SUFFIX.
        _blank(
            """UPDATE ai_generations SET output = '', prompt_hash = prompt_hash || :suffix
               WHERE tenant_id = :tenant_id AND lead_id = ANY(:ids) AND output <> ''""",
            suffix=ERASED_KEY_SUFFIX,
        ),
    ),
    (
        "scheduled_actions",
        _blank(
            """UPDATE scheduled_actions SET payload = '{}',
                   status = CASE WHEN status = 'pending' THEN 'canceled' ELSE status END, updated_at = :now
               WHERE tenant_id = :tenant_id AND lead_id = ANY(:ids) AND (payload <> '{}' OR status = 'pending')"""
        ),
    ),
    (
        "enrollments",
        _blank(
            """UPDATE enrollments SET state = '{}',
                   status = CASE WHEN status IN ('active', 'waiting') THEN 'stopped' ELSE status END,
                   completed_at = CASE WHEN status IN ('active', 'waiting') THEN :now ELSE completed_at END,
                   next_action_at = NULL, updated_at = :now
               WHERE tenant_id = :tenant_id AND lead_id = ANY(:ids)
                 AND (state <> '{}' OR status IN ('active', 'waiting'))"""
        ),
    ),
    (
        "leads",
        _blank(
            """UPDATE leads SET first_name = :erased_name, last_name = '', company = NULL, title = NULL,
                   email = NULL, phone = NULL, external_id = 'erased-' || id, tags = '{}', attributes = '{}',
                   consent_email = false, consent_sms = false, phone_unreachable = NULL,
                   recovery_state = CASE WHEN recovery_state IN ('active', 'silent', 'in_recovery') THEN 'lost'
                                         ELSE recovery_state END,
                   erased_at = coalesce(erased_at, :now), updated_at = :now
               WHERE tenant_id = :tenant_id AND id = ANY(:ids)""",
            erased_name=ERASED_FIRST_NAME,
        ),
    ),
]


_RE_SUPPRESS = text(
    f"""
    INSERT INTO suppressions (tenant_id, channel, address, reason, note)
    SELECT l.tenant_id, c.channel, c.address, 'erased', 'erased earlier; imported again'
    FROM leads AS l
    CROSS JOIN LATERAL (VALUES ('email', lower(btrim(l.email))), ('sms', btrim(l.phone))) AS c(channel, address)
    WHERE l.tenant_id = :tenant_id AND l.id = ANY(:ids) AND c.address IS NOT NULL
      AND EXISTS (SELECT 1 FROM suppressions AS s
                  WHERE s.tenant_id = l.tenant_id AND s.channel = c.channel AND s.reason = 'erased'
                    AND s.address = {DIGEST_SQL.format(channel="c.channel", address="c.address")})
    ON CONFLICT (tenant_id, channel, address) DO NOTHING
    RETURNING address
    """
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))


_ANY_ERASED = text(
    "SELECT EXISTS (SELECT 1 FROM suppressions WHERE tenant_id = :tenant_id AND address LIKE 'sha256:%')"
)


def suppress_returning(session: Session, *, tenant_id: int, lead_ids: Sequence[int]) -> int:
    """Suppress, by their readable address, the addresses of these leads that an erased lead had.

    The intake calls it after every write (a helper: inside its transaction): the tenant holds
    the address again, so the plain suppression every sender, scan and page already checks
    stands in for the digest. Returns the addresses suppressed.
    """
    if not lead_ids or not session.scalar(_ANY_ERASED, {"tenant_id": tenant_id}):
        return 0  # most tenants never erased anyone: an import pays one probe
    key = digest_key(get_settings().secret_key.get_secret_value())
    rows = session.execute(_RE_SUPPRESS, {"tenant_id": tenant_id, "ids": list(lead_ids), "digest_key": key}).all()
    return len(rows)
