"""Per-tenant bearer keys of the intake API: made, listed, revoked, and checked on every request.

A key is `lre_` plus 43 url-safe characters (256 random bits). Only its SHA-256 is stored, with
a short display prefix so a list can tell keys apart; the key itself is shown once, when made.
A random 256-bit secret needs no slow hash (nobody can guess one to test against a digest), and
a plain digest lets each request find its key with one probe of the unique `key_hash` index.

Who may make or revoke a key from the console is who may change the tenant's rules (an admin, or
a manager of that tenant), checked here against the operator's row; the command line
(`python -m app api-key ...`) runs with the shell's trust and names no operator.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app import runtime
from app.services.tenant_settings import editable_tenant
from db.models import ApiKey, Tenant

KEY_PREFIX = "lre_"
SHOWN_CHARS = 8  # random characters kept after `lre_` to tell keys apart in a list
MAX_NAME = 80
KEY_PATTERN = re.compile(r"^lre_[A-Za-z0-9_-]{43}$")
LAST_USED_STEP = dt.timedelta(minutes=1)
"""`last_used_at` is written at most once a minute per key: a busy key is not rewritten on every request."""


@dataclass(frozen=True)
class KeyInfo:
    """A key as a list shows it: never the key, only its prefix."""

    id: int
    tenant_id: int
    name: str
    prefix: str
    created_at: dt.datetime
    created_by: int | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_key() -> str:
    """A fresh key: `lre_` + 43 url-safe characters (`secrets.token_urlsafe(32)`)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def display_prefix(key: str) -> str:
    return key[: len(KEY_PREFIX) + SHOWN_CHARS]


def _checked_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValueError("Key name: give the key a name, e.g. the system that will use it")
    if len(cleaned) > MAX_NAME:
        raise ValueError(f"Key name: at most {MAX_NAME} characters")
    if "\x00" in cleaned:  # PostgreSQL's text cannot store it: refused here, by name, not by the database
        raise ValueError("Key name: remove the invisible NUL character, which cannot be stored")
    return cleaned


def _check_operator(session: Session, *, tenant_id: int, operator_id: int | None) -> None:
    """`PermissionError` unless the operator may manage this tenant's keys; the CLI passes None."""
    if operator_id is not None:
        editable_tenant(session, tenant_id=tenant_id, operator_id=operator_id, what="API keys")
    elif session.get(Tenant, tenant_id) is None:
        raise LookupError(f"tenant {tenant_id} does not exist")


def create_key(*, tenant_id: int, name: str, created_by: int | None) -> tuple[int, str]:
    """Make a key for the tenant; returns (its id, the key). The key is not stored: show it once.

    `created_by` is the operator asking (checked: an admin, or a manager of this tenant), or None
    from the command line. Raises `ValueError` on a bad name, `PermissionError`, `LookupError`.
    """
    cleaned = _checked_name(name)
    key = new_key()
    with runtime.session_scope() as session, session.begin():
        _check_operator(session, tenant_id=tenant_id, operator_id=created_by)
        row = ApiKey(
            tenant_id=tenant_id, name=cleaned, prefix=display_prefix(key), key_hash=digest(key), created_by=created_by
        )
        session.add(row)
        session.flush()
        return row.id, key


def revoke_key(*, key_id: int, tenant_id: int | None = None, operator_id: int | None = None) -> bool:
    """Revoke a key for good; True when this call revoked it, False when it already was.

    From the console pass the tenant and the operator (checked like `create_key`): a key of
    another tenant is `LookupError`, as is an unknown id.
    """
    with runtime.session_scope() as session, session.begin():
        row = session.get(ApiKey, key_id, with_for_update=True)
        if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
            raise LookupError(f"no API key {key_id}" + (f" in tenant {tenant_id}" if tenant_id is not None else ""))
        _check_operator(session, tenant_id=row.tenant_id, operator_id=operator_id)
        if row.revoked_at is not None:
            return False
        row.revoked_at = dt.datetime.now(dt.UTC)
        return True


def list_keys(*, tenant_id: int) -> list[KeyInfo]:
    """The tenant's keys, newest first, revoked ones included (they say when)."""
    query = select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    with runtime.session_scope() as session, session.begin():
        return [
            KeyInfo(
                id=k.id,
                tenant_id=k.tenant_id,
                name=k.name,
                prefix=k.prefix,
                created_at=k.created_at,
                created_by=k.created_by,
                last_used_at=k.last_used_at,
                revoked_at=k.revoked_at,
            )
            for k in session.scalars(query)
        ]


def tenant_id_of(slug: str) -> int:
    """The id of the tenant `slug`; `ValueError` naming it when there is none (the CLI's lookup)."""
    with runtime.session_scope() as session, session.begin():
        found = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    if found is None:
        raise ValueError(f"no tenant with slug {slug!r}")
    return int(found)


# One probe of the unique key_hash index finds the key; the same statement stamps last_used_at
# when the stamp is over a minute old, so a key used 20,000 times a second is written once a minute.
_AUTHENTICATE = text(
    """
    WITH k AS (
        SELECT id, tenant_id, last_used_at FROM api_keys WHERE key_hash = :key_hash AND revoked_at IS NULL
    ), touched AS (
        UPDATE api_keys AS a SET last_used_at = :now
        FROM k WHERE a.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < CAST(:stale AS timestamptz))
    )
    SELECT tenant_id FROM k
    """
)


def authenticate(bearer: str | None, *, now: dt.datetime | None = None) -> int | None:
    """The tenant of an active key, or None for a missing, malformed, unknown or revoked one."""
    if not bearer or not KEY_PATTERN.match(bearer):
        return None
    at = now or dt.datetime.now(dt.UTC)
    params = {"key_hash": digest(bearer), "now": at, "stale": at - LAST_USED_STEP}
    with runtime.engine().begin() as conn:
        found = conn.execute(_AUTHENTICATE, params).scalar()
    return None if found is None else int(found)
