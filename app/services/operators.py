"""Console users: password hashing, sign-in, and creating operators from the command line.

Passwords are hashed with scrypt (memory-hard, in the standard library) and a random 16-byte
salt; the parameters travel inside the stored hash, so they can be raised later without
invalidating existing operators: a hash weaker than today's cost is replaced at the operator's
next successful sign-in, while the password is in hand. Sign-in spends the same scrypt work whether or not the
email exists, so response time does not reveal which addresses are operators.

An operator belongs to one tenant; who sees what is `app/domain/identity.py`
(`OperatorIdentity.can_see`), who may do what `app/domain/roles.py`. Only this module (through
the command line) makes a platform superuser.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

import sqlalchemy as sa

from app import runtime
from app.domain import roles
from app.domain.identity import OperatorIdentity
from app.settings import get_settings
from db.models import Operator, Tenant

SCRYPT_R = 8
SCRYPT_P = 1
MAX_SCRYPT_N = 2**20  # a stored hash asking for more memory than this (1 GiB) is refused, not computed
SALT_BYTES = 16
KEY_BYTES = 32
SCHEME = "scrypt"
DEMO_PASSWORD = "demo"  # noqa: S105 - the labelled password of the seeded demo operators
DEMO_EMAIL_PATTERN = "demo@%.example"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def scrypt_n() -> int:
    """The cost new hashes get (`SCRYPT_LOG2_N`, OWASP's 2^17 by default)."""
    return int(2 ** get_settings().scrypt_log2_n)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    """scrypt with room for its memory: OpenSSL needs 128·r·(N+2) bytes for V and 128·r·p for B,
    and refuses anything over `maxmem` (32 MiB by default, too little for N=2^17)."""
    if not 1 < n <= MAX_SCRYPT_N:
        raise ValueError(f"scrypt N={n} is out of range")
    memory = 128 * r * (n + 2 + p) + 2**20
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=memory)


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$key` (base64 parts), with a fresh random salt each time."""
    if not password:
        raise ValueError("a password cannot be empty")
    salt = secrets.token_bytes(SALT_BYTES)
    n = scrypt_n()
    key = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return f"{SCHEME}${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches `stored`; False (never an error) for a missing or malformed hash."""
    if not stored or not password:
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        expected = base64.b64decode(key, validate=True)
        if scheme != SCHEME:
            return False
        actual = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """Whether a verified hash is weaker than what `hash_password` makes today (never downgraded)."""
    _, n, r, p, *_ = stored.split("$")
    return int(n) < scrypt_n() or (int(r), int(p)) != (SCRYPT_R, SCRYPT_P)


@functools.cache
def _decoy_hash(n: int) -> str:
    """Verified against when the email is unknown, so an unknown address costs the same time."""
    return hash_password(secrets.token_urlsafe(16))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def generate_password() -> str:
    """A random password for a new operator (about 96 bits), to be shown once and changed."""
    return secrets.token_urlsafe(12)


def _identity(operator: Operator) -> OperatorIdentity:
    return OperatorIdentity(
        operator_id=operator.id,
        tenant_id=operator.tenant_id,
        email=operator.email,
        name=operator.name,
        role=operator.role,
    )


def authenticate(*, email: str, password: str) -> OperatorIdentity | None:
    """The active operator with this email and password, or None.

    An email may belong to operators of several tenants; the first (by id) whose password
    matches signs in.
    """
    query = (
        sa.select(Operator)
        .where(sa.func.lower(Operator.email) == normalise_email(email), Operator.is_active.is_(True))
        .order_by(Operator.id)
    )
    with runtime.session_scope() as session, session.begin():
        candidates = list(session.scalars(query))
        for operator in candidates:
            if verify_password(password, operator.password_hash):
                if needs_rehash(operator.password_hash or ""):  # the cost went up since it was set
                    operator.password_hash = hash_password(password)
                return _identity(operator)
    if not candidates:
        verify_password(password, _decoy_hash(scrypt_n()))
    return None


def identity_for_email(*, email: str) -> OperatorIdentity | None:
    """The active operator with this email (the first by id), for a sign-in an identity provider
    vouched for (OIDC through `st.login`): no password is checked, so the address must be one an
    admin gave an operator here; anyone else is refused."""
    query = (
        sa.select(Operator)
        .where(sa.func.lower(Operator.email) == normalise_email(email), Operator.is_active.is_(True))
        .order_by(Operator.id)
        .limit(1)
    )
    with runtime.session_scope() as session, session.begin():
        operator = session.scalar(query)
        return None if operator is None else _identity(operator)


def current_identity(*, operator_id: int) -> OperatorIdentity | None:
    """The operator as the database has them now (role, tenant, name), or None when they are
    gone or deactivated: the console re-reads its session's identity with this."""
    with runtime.session_scope() as session, session.begin():
        operator = session.get(Operator, operator_id)
        if operator is None or not operator.is_active:
            return None
        return _identity(operator)


def create_admin(
    *, tenant_slug: str, email: str, name: str, password: str | None = None, role: str = roles.ADMIN
) -> int:
    """Create an operator of the tenant `tenant_slug` (an admin unless `role` says) and return its id.

    `role` may be any role, `superuser` included: this is the command line's door, the only one
    that makes a superuser (who sees and acts in every tenant).

    With `password=None` a random one is set (nobody knows it, so the account cannot sign in
    until a password is set): callers that need to hand a password over generate it with
    `generate_password()` and pass it in.
    """
    address = normalise_email(email)
    if role not in roles.ALL_ROLES:
        raise ValueError(f"role: one of {', '.join(roles.ALL_ROLES)}, not {role!r}")
    if "@" not in address:
        raise ValueError(f"not an email address: {email!r}")
    with runtime.session_scope() as session, session.begin():
        tenant_id = session.scalar(sa.select(Tenant.id).where(Tenant.slug == tenant_slug))
        if tenant_id is None:
            raise ValueError(f"no tenant with slug {tenant_slug!r}: list them with `python -m app seed` or the console")
        taken = session.scalar(
            sa.select(Operator.id).where(Operator.tenant_id == tenant_id, sa.func.lower(Operator.email) == address)
        )
        if taken is not None:
            raise ValueError(f"{address} is already operator {taken} of {tenant_slug}")
        operator = Operator(
            tenant_id=tenant_id,
            email=address,
            name=name,
            role=role,
            password_hash=hash_password(password or generate_password()),
        )
        session.add(operator)
        session.flush()
        return operator.id


def demo_sign_in() -> str | None:
    """The email of a seeded demo operator whose password really is `demo`, or None.

    The sign-in form shows it as a hint only when the data is the demo: a changed password or
    a production database without demo operators shows nothing.
    """
    query = (
        sa.select(Operator.email, Operator.password_hash)
        .where(Operator.email.like(DEMO_EMAIL_PATTERN), Operator.is_active.is_(True))
        .order_by(Operator.tenant_id, Operator.id)
        .limit(1)
    )
    with runtime.session_scope() as session, session.begin():
        row = session.execute(query).first()
    if row is None or not verify_password(DEMO_PASSWORD, row.password_hash):
        return None
    return str(row.email)
