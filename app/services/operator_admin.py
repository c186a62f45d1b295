"""Managing a tenant's operators from the console: invite, change a role, deactivate.

Owners and admins of the tenant (and the superuser) may; `app/domain/roles.py` says which role
each may give (only an owner makes or unmakes owners; nobody makes a superuser here). An
invitation is a one-time link: its token is 256 random bits, only the SHA-256 is stored (as API
keys are), it works once and expires after `INVITE_VALID_FOR`. Nobody changes or deactivates
themselves, so a tenant cannot lose its last owner by a slip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import runtime
from app.domain import roles
from app.domain.identity import OperatorIdentity
from app.services import acting, audit
from app.services.operators import hash_password, normalise_email
from db.models import Operator, OperatorInvite

INVITE_VALID_FOR = dt.timedelta(days=7)
MIN_PASSWORD = 12


@dataclass(frozen=True)
class OperatorRow:
    """An operator as the Operators page lists them (never the password hash)."""

    id: int
    name: str
    email: str
    role: str
    is_active: bool


def list_operators(*, tenant_id: int) -> list[OperatorRow]:
    """The tenant's operators, active first, then by name."""
    query = (
        sa.select(Operator.id, Operator.name, Operator.email, Operator.role, Operator.is_active)
        .where(Operator.tenant_id == tenant_id)
        .order_by(Operator.is_active.desc(), Operator.name, Operator.id)
    )
    with runtime.session_scope() as session:
        return [OperatorRow(*row) for row in session.execute(query)]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite(*, tenant_id: int, actor_id: int, email: str, role: str, now: dt.datetime) -> str:
    """Record an invitation and return its token (shown once, in the link; only its digest is kept)."""
    address = normalise_email(email)
    if "@" not in address or len(address) > 254:
        raise ValueError(f"Email: not an email address: {email!r}")
    with runtime.session_scope() as session, session.begin():
        actor = acting.require(session, operator_id=actor_id, tenant_id=tenant_id, action=roles.Action.OPERATORS)
        if not roles.may_assign(actor.role, current=roles.VIEWER, new=role):
            raise roles.RoleRefused(f"Role: you ({actor.role}) may not invite a {role}.")
        if _operator_with(session, tenant_id, address) is not None:
            raise ValueError(f"Email: {address} is already an operator of this tenant")
        token = secrets.token_urlsafe(32)
        session.add(
            OperatorInvite(
                tenant_id=tenant_id,
                email=address,
                role=role,
                token_hash=token_digest(token),
                expires_at=now + INVITE_VALID_FOR,
                created_by=actor_id,
                created_at=now,
            )
        )
        audit.record(session, tenant_id=tenant_id, operator_id=actor_id, action="invite", details={"role": role})
        return token


def accept_invite(*, token: str, name: str, password: str, now: dt.datetime) -> OperatorIdentity:
    """Join the tenant of a valid, unused, unexpired invitation; the operator made, signed in.

    `LookupError` for an unknown, used or expired link (the same words for each: nothing to learn
    by guessing); `ValueError` for a short password or an empty name."""
    if not name.strip():
        raise ValueError("Name: say who you are")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"Password: at least {MIN_PASSWORD} characters")
    with runtime.session_scope() as session, session.begin():
        found = session.scalars(
            sa.select(OperatorInvite).where(OperatorInvite.token_hash == token_digest(token)).with_for_update()
        ).first()
        if found is None or found.used_at is not None or found.expires_at <= now:
            raise LookupError("This invitation link is not valid any more: ask for a new one.")
        if _operator_with(session, found.tenant_id, found.email) is not None:
            raise LookupError("This invitation link is not valid any more: ask for a new one.")
        found.used_at = now
        operator = Operator(
            tenant_id=found.tenant_id,
            email=found.email,
            name=name.strip(),
            role=found.role,
            password_hash=hash_password(password),
        )
        session.add(operator)
        session.flush()
        return OperatorIdentity(operator.id, operator.tenant_id, operator.email, operator.name, operator.role)


def change_role(*, tenant_id: int, actor_id: int, operator_id: int, role: str) -> str:
    """Give the operator `role`; returns the role they had."""
    with runtime.session_scope() as session, session.begin():
        actor, target = _actor_and_target(session, tenant_id, actor_id, operator_id)
        before = target.role
        if not roles.may_assign(actor.role, current=before, new=role):
            raise roles.RoleRefused(f"Role: you ({actor.role}) may not make a {before} a {role}.")
        target.role = role
        details = {"from": before, "to": role}
        audit.record(
            session,
            tenant_id=tenant_id,
            operator_id=actor_id,
            action="role_change",
            subject=f"operator {operator_id}",
            details=details,
        )
        return before


def deactivate(*, tenant_id: int, actor_id: int, operator_id: int) -> None:
    """Stop the operator signing in; an open console loses them at its next identity check."""
    with runtime.session_scope() as session, session.begin():
        actor, target = _actor_and_target(session, tenant_id, actor_id, operator_id)
        if not roles.may_assign(actor.role, current=target.role, new=roles.VIEWER):
            raise roles.RoleRefused(f"You ({actor.role}) may not deactivate a {target.role}.")
        target.is_active = False
        audit.record(
            session, tenant_id=tenant_id, operator_id=actor_id, action="deactivate", subject=f"operator {operator_id}"
        )


def _actor_and_target(session: Session, tenant_id: int, actor_id: int, operator_id: int) -> tuple[Operator, Operator]:
    actor = acting.require(session, operator_id=actor_id, tenant_id=tenant_id, action=roles.Action.OPERATORS)
    if operator_id == actor_id:
        raise roles.RoleRefused("You may not change or deactivate yourself: ask another owner or admin.")
    target = session.get(Operator, operator_id, with_for_update=True)
    if target is None or target.tenant_id != tenant_id:
        raise LookupError(f"no operator {operator_id} in this tenant")
    return actor, target


def _operator_with(session: Session, tenant_id: int, address: str) -> int | None:
    query = sa.select(Operator.id).where(Operator.tenant_id == tenant_id, sa.func.lower(Operator.email) == address)
    return session.scalar(query)
