"""Writing checked lead rows: match each to the tenant's lead, then insert or update, set-based.

One engine for every door (`POST /api/leads`, `python -m app import-leads`, the console's
upload). It runs inside the caller's transaction (a helper: it never commits), so a door
decides what is atomic: a file commits whole or not at all, a dry run rolls back the very same
writes and so reports exactly what an import would do.

- **Matching**, within the tenant only: by external id, else by email, else by phone (the
  lowest id when two leads share one). Rows of one batch that name the same lead are first
  folded into one (`app.domain.intake.batch`); groups that turn out to be the same existing
  lead are folded again. A per-tenant advisory lock queues two imports of one tenant, so two
  requests cannot both create the same lead.
- **Insert**: what the row gives, the rest from the defaults: the tenant's time zone, the
  door's source (`api`, `csv`), stage `new`, email consent yes and SMS consent no (the
  columns' own defaults), last activity now. A row with no external id gets one of ours
  (`lre-auto-…`), which a later row with the CRM's id for the same email or phone replaces.
- **Update**: only the fields the row gives (an empty cell never erases); attributes merge key
  by key. A later last activity moves `last_activity_at` forward and resets the silence ladder
  the way an activity does (app/services/activities.py): level 0, and silent, in-recovery,
  control or lost leads are active again; an older one changes nothing.
- **Landlines** (`LeadValues.phone_landline`) get `phone_unreachable` set so the sender never
  texts them; SMS consent stays as given. A new phone clears an old mark; the same phone keeps
  a carrier's mark.

New leads go by COPY straight into `leads`; updates by COPY into a temporary table and one
UPDATE, which skips the leads whose values would not change (a file imported twice rewrites
nothing). So 100,000 rows take seconds (`bench/import.py`).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from psycopg.types.json import Jsonb
from redis import RedisError
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import runtime
from app.domain.intake import batch
from app.domain.intake.dates import DateOrder
from app.domain.intake.fields import FieldError, LeadValues
from app.domain.intake.rows import Rules
from app.services import contacts, erasure, score_requests

GENERATED_PREFIX = "lre-auto-"
LANDLINE = "landline: cannot take texts (libphonenumber: fixed line)"
Status = Literal["created", "updated", "rejected"]
Progress = Callable[[float, str], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowResult:
    """What became of one row: its position in the batch (from 0), the lead's id, or why not."""

    index: int
    status: Status
    id: int | None
    errors: tuple[FieldError, ...] = field(default=())


@dataclass(frozen=True)
class TenantIntake:
    """What intake reads of the tenant: its zone (dates without one, new leads) and phone region."""

    zone: ZoneInfo
    timezone: str
    region: str
    country: str | None

    def rules(self, now: dt.datetime, order: DateOrder = "mdy") -> Rules:
        return Rules(
            now=now,
            zone=self.zone,
            region=self.region,
            phone=contacts.check_phone,
            email=contacts.check_email,
            date_order=order,
        )


def tenant_intake(session: Session, tenant_id: int) -> TenantIntake:
    """The tenant's intake settings; `LookupError` when there is no such tenant."""
    row = session.execute(text("SELECT timezone, country FROM tenants WHERE id = :t"), {"t": tenant_id}).one_or_none()
    if row is None:
        raise LookupError(f"no tenant {tenant_id}")
    return TenantIntake(
        zone=ZoneInfo(row.timezone), timezone=row.timezone, region=contacts.region_of(row.country), country=row.country
    )


def lock_tenant(session: Session, tenant_id: int) -> None:
    """Queue behind any other intake of this tenant until the transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('lre.intake'), CAST(:t AS int))"), {"t": tenant_id})


def upsert(
    session: Session,
    *,
    tenant_id: int,
    rows: Sequence[LeadValues | Sequence[FieldError]],
    tenant: TenantIntake,
    source: str,
    now: dt.datetime,
) -> list[RowResult]:
    """Write the valid rows (see the module) inside the caller's transaction; one result per row, in order."""
    lock_tenant(session, tenant_id)
    valid = [(index, row) for index, row in enumerate(rows) if isinstance(row, LeadValues)]
    owners = batch.groups([row for _, row in valid])
    members: dict[int, list[int]] = defaultdict(list)  # group -> positions in `valid`
    for position, owner in enumerate(owners):
        members[owner].append(position)
    folded = {group: _fold(valid, positions) for group, positions in members.items()}
    matched = _match(session, tenant_id, folded)
    writes = _writes(valid, members, folded, matched)
    lead_ids = _write(session, tenant_id, writes, tenant=tenant, source=source, now=now)
    erasure.suppress_returning(session, tenant_id=tenant_id, lead_ids=list(lead_ids.values()))
    return _results(rows, valid, writes, lead_ids)


@dataclass
class _Write:
    """One lead to write: its existing id (None: new), its rows' positions in `valid`, their fold."""

    lead_id: int | None
    positions: list[int]
    values: LeadValues
    key: str = ""


def _fold(valid: Sequence[tuple[int, LeadValues]], positions: list[int]) -> LeadValues:
    """The rows at these positions as one (a row alone is itself: most rows of a batch are)."""
    return valid[positions[0]][1] if len(positions) == 1 else batch.fold([valid[p][1] for p in positions])


def _writes(
    valid: Sequence[tuple[int, LeadValues]],
    members: dict[int, list[int]],
    folded: dict[int, LeadValues],
    matched: dict[int, int],
) -> list[_Write]:
    """One write per lead: each unmatched group a new lead; the groups matched to one lead, folded in row order."""
    by_lead: dict[int, list[int]] = defaultdict(list)  # lead -> its groups
    writes: list[_Write] = []
    for group, positions in members.items():
        if group in matched:
            by_lead[matched[group]].append(group)
        else:
            writes.append(_Write(None, positions, folded[group]))
    for lead_id, groups in by_lead.items():
        if len(groups) == 1:
            writes.append(_Write(lead_id, members[groups[0]], folded[groups[0]]))
        else:
            ordered = sorted(p for group in groups for p in members[group])
            writes.append(_Write(lead_id, ordered, _fold(valid, ordered)))
    for write in writes:
        write.key = write.values.external_id or f"{GENERATED_PREFIX}{uuid.uuid4().hex}"
    return writes


_BY_EXTERNAL_ID = text(
    """SELECT k.v AS key, l.id FROM unnest(CAST(:keys AS text[])) AS k(v)
       JOIN leads AS l ON l.tenant_id = :t AND l.external_id = k.v"""
)
_BY_EMAIL = text(
    """SELECT k.v AS key, min(l.id) AS id FROM unnest(CAST(:keys AS text[])) AS k(v)
       JOIN leads AS l ON l.tenant_id = :t AND l.email = k.v GROUP BY k.v"""
)
_BY_PHONE = text(
    """SELECT k.v AS key, min(l.id) AS id FROM unnest(CAST(:keys AS text[])) AS k(v)
       JOIN leads AS l ON l.tenant_id = :t AND l.phone = k.v GROUP BY k.v"""
)


def _match(session: Session, tenant_id: int, folded: dict[int, LeadValues]) -> dict[int, int]:
    """Group -> the existing lead it names: by external id, else email, else phone."""
    found: list[dict[str, int]] = []
    for position, statement in enumerate((_BY_EXTERNAL_ID, _BY_EMAIL, _BY_PHONE)):
        keys = sorted({key for values in folded.values() if (key := values.identity()[position])})
        rows = session.execute(statement, {"t": tenant_id, "keys": keys}).all() if keys else []
        found.append({row.key: int(row.id) for row in rows})
    matched: dict[int, int] = {}
    for group, values in folded.items():
        for key, by_key in zip(values.identity(), found, strict=True):
            if key and key in by_key:
                matched[group] = by_key[key]
                break
    return matched


_LEAD_COLUMNS = (
    "tenant_id",
    "external_id",
    "first_name",
    "last_name",
    "company",
    "title",
    "email",
    "phone",
    "phone_unreachable",
    "timezone",
    "source",
    "stage",
    "deal_value",
    "tags",
    "attributes",
    "consent_email",
    "consent_sms",
    "last_activity_at",
)
_STAGE_COLUMNS = ("lead_id", *_LEAD_COLUMNS[2:], "external_id")
_STAGE = text(
    """
    CREATE TEMPORARY TABLE intake_stage (
        lead_id bigint NOT NULL, first_name text, last_name text, company text, title text, email text,
        phone text, phone_unreachable text, timezone text, source text, stage text, deal_value numeric(14, 2),
        tags text[], attributes jsonb, consent_email boolean, consent_sms boolean, last_activity_at timestamptz,
        external_id text
    ) ON COMMIT DROP
    """
)
_NEW_IDS = text(
    """SELECT k.v AS key, l.id FROM unnest(CAST(:keys AS text[])) AS k(v)
       JOIN leads AS l ON l.tenant_id = :t AND l.external_id = k.v"""
)
_NEXT = {
    "external_id": f"CASE WHEN s.external_id IS NOT NULL AND starts_with(l.external_id, '{GENERATED_PREFIX}') "
    "THEN s.external_id ELSE l.external_id END",
    **{c: f"coalesce(s.{c}, l.{c})" for c in ("first_name", "last_name", "company", "title", "email", "phone")},
    "phone_unreachable": "CASE WHEN s.phone IS NULL THEN l.phone_unreachable "
    "WHEN s.phone_unreachable IS NOT NULL THEN s.phone_unreachable "
    "WHEN s.phone IS DISTINCT FROM l.phone THEN NULL ELSE l.phone_unreachable END",
    **{c: f"coalesce(s.{c}, l.{c})" for c in ("timezone", "source", "stage", "deal_value", "tags")},
    "attributes": "l.attributes || coalesce(s.attributes, '{}')",
    **{c: f"coalesce(s.{c}, l.{c})" for c in ("consent_email", "consent_sms")},
    "last_activity_at": "greatest(l.last_activity_at, s.last_activity_at)",
    "silence_level": "CASE WHEN s.last_activity_at > l.last_activity_at THEN 0 ELSE l.silence_level END",
    "recovery_state": "CASE WHEN s.last_activity_at > l.last_activity_at "
    "AND l.recovery_state IN ('silent', 'in_recovery', 'control', 'lost') THEN 'active' ELSE l.recovery_state END",
}
"""Each column's value after an update (see the module), from the staged row `s` and the lead `l`."""
_UPDATE = text(
    f"""
    UPDATE leads AS l SET {", ".join(f"{column} = {value}" for column, value in _NEXT.items())}, updated_at = now()
    FROM intake_stage AS s
    WHERE s.lead_id = l.id AND l.tenant_id = :t
      AND ({", ".join(_NEXT.values())}) IS DISTINCT FROM ({", ".join(f"l.{column}" for column in _NEXT)})
    """
)
"""Rows that change nothing are not rewritten: a file imported twice costs its reads only."""


def _write(
    session: Session, tenant_id: int, writes: Sequence[_Write], *, tenant: TenantIntake, source: str, now: dt.datetime
) -> dict[int, int]:
    """New leads by COPY straight into `leads`, updates through a staged table; the lead id of each
    write, by its position in `writes`."""
    new = [write for write in writes if write.lead_id is None]
    old = [write for write in writes if write.lead_id is not None]
    created: dict[str, int] = {}
    connection = session.connection().connection.driver_connection
    with connection.cursor() as cursor:  # type: ignore[union-attr]
        if new:
            with cursor.copy(f"COPY leads ({', '.join(_LEAD_COLUMNS)}) FROM STDIN") as copy:
                for write in new:
                    copy.write_row(_new_row(tenant_id, write, tenant=tenant, source=source, now=now))
        if old:
            session.execute(_STAGE)
            with cursor.copy(f"COPY intake_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
                for write in old:
                    copy.write_row(_staged(write))
    if new:
        found = session.execute(_NEW_IDS, {"t": tenant_id, "keys": [write.key for write in new]})
        created = {row.key: int(row.id) for row in found}
    if old:
        session.execute(_UPDATE, {"t": tenant_id})
        session.execute(text("DROP TABLE intake_stage"))
    return {
        position: write.lead_id if write.lead_id is not None else created[write.key]
        for position, write in enumerate(writes)
    }


def _new_row(tenant_id: int, write: _Write, *, tenant: TenantIntake, source: str, now: dt.datetime) -> tuple[Any, ...]:
    """A new lead's columns: what its rows gave, else the defaults the module lists."""
    v = write.values
    return (
        tenant_id,
        write.key,
        v.first_name or "",
        v.last_name or "",
        v.company,
        v.title,
        v.email,
        v.phone,
        LANDLINE if v.phone is not None and v.phone_landline else None,
        v.timezone or tenant.timezone,
        v.source or source,
        v.stage or "new",
        v.deal_value if v.deal_value is not None else 0,
        list(v.tags or ()),
        Jsonb(v.attributes or {}),
        v.consent_email if v.consent_email is not None else True,
        v.consent_sms if v.consent_sms is not None else False,
        v.last_activity_at or now,
    )


def _staged(write: _Write) -> tuple[Any, ...]:
    """An update's columns as the rows gave them (None: keep the lead's)."""
    v = write.values
    return (
        write.lead_id,
        v.first_name,
        v.last_name,
        v.company,
        v.title,
        v.email,
        v.phone,
        LANDLINE if v.phone is not None and v.phone_landline else None,
        v.timezone,
        v.source,
        v.stage,
        v.deal_value,
        list(v.tags) if v.tags is not None else None,
        Jsonb(v.attributes) if v.attributes is not None else None,
        v.consent_email,
        v.consent_sms,
        v.last_activity_at,
        v.external_id,
    )


def _results(
    rows: Sequence[LeadValues | Sequence[FieldError]],
    valid: Sequence[tuple[int, LeadValues]],
    writes: Sequence[_Write],
    lead_ids: dict[int, int],
) -> list[RowResult]:
    results: list[RowResult | None] = [
        None if isinstance(row, LeadValues) else RowResult(index, "rejected", None, tuple(row))
        for index, row in enumerate(rows)
    ]
    for position, write in enumerate(writes):
        lead_id = lead_ids[position]
        for nth, member in enumerate(write.positions):
            created = write.lead_id is None and nth == 0
            index = valid[member][0]
            results[index] = RowResult(index, "created" if created else "updated", lead_id)
    return [r for r in results if r is not None]


def request_rescore(tenant_id: int, results: Sequence[RowResult]) -> None:
    """After the commit: ask for the written leads' scores (one batched scorer job per tenant).

    Best effort: the rows are committed, so a Redis outage is logged, not raised (the scorer's
    15-minute sweep rescores everyone anyway, and an error would make an API client retry).
    """
    lead_ids = sorted({r.id for r in results if r.id is not None and r.status != "rejected"})
    if not lead_ids:
        return
    try:
        score_requests.request_rescore(runtime.redis_client(), tenant_id=tenant_id, lead_ids=lead_ids)
    except RedisError as error:
        log.warning("intake of tenant %s committed; rescore not requested: %s", tenant_id, error)
