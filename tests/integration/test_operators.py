"""Operators: scrypt hashes, sign-in, admin creation and the demo hint, on real PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from app import cli
from app.domain.identity import OperatorIdentity
from app.services import operators
from app.settings import get_settings
from db.models import Operator, Tenant


@pytest.fixture
def tenant(clean_db: Engine) -> int:
    with clean_db.begin() as conn:
        return int(conn.execute(sa.insert(Tenant).values(slug="acme", name="Acme").returning(Tenant.id)).scalar_one())


def add_operator(engine: Engine, tenant: int, email: str, password: str | None, **extra: object) -> int:
    values = {"tenant_id": tenant, "email": email, "name": "Op", "password_hash": None, **extra}
    if password is not None:
        values["password_hash"] = operators.hash_password(password)
    with engine.begin() as conn:
        return int(conn.execute(sa.insert(Operator).values(**values).returning(Operator.id)).scalar_one())


def test_a_hash_verifies_its_password_only() -> None:
    stored = operators.hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$")
    assert operators.verify_password("correct horse", stored)
    assert not operators.verify_password("correct hors", stored)
    assert operators.hash_password("correct horse") != stored, "a fresh salt every time"


@pytest.mark.parametrize(
    "stored", [None, "", "plain-text", "scrypt$1$2$3", "bcrypt$16384$8$1$AAAA$AAAA", "scrypt$x$8$1$AA$AA"]
)
def test_a_missing_or_malformed_hash_never_verifies(stored: str | None) -> None:
    assert not operators.verify_password("anything", stored)


def test_an_empty_password_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        operators.hash_password("")
    assert not operators.verify_password("", operators.hash_password("x"))


def test_authenticate_matches_email_case_insensitively(clean_db: Engine, tenant: int) -> None:
    operator_id = add_operator(clean_db, tenant, "rep@acme.example", "s3cret", role="rep")
    who = operators.authenticate(email="  REP@Acme.Example", password="s3cret")
    assert who == OperatorIdentity(operator_id, tenant, "rep@acme.example", "Op", "rep")
    assert operators.authenticate(email="rep@acme.example", password="S3cret") is None
    assert operators.authenticate(email="nobody@acme.example", password="s3cret") is None


def test_an_inactive_or_passwordless_operator_cannot_sign_in(clean_db: Engine, tenant: int) -> None:
    add_operator(clean_db, tenant, "gone@acme.example", "s3cret", is_active=False)
    add_operator(clean_db, tenant, "invited@acme.example", None)
    assert operators.authenticate(email="gone@acme.example", password="s3cret") is None
    assert operators.authenticate(email="invited@acme.example", password="") is None


def test_only_the_superuser_sees_other_tenants() -> None:
    rep = OperatorIdentity(1, tenant_id=10, email="r@x", name="R", role="rep")
    admin = OperatorIdentity(2, tenant_id=10, email="a@x", name="A", role="admin")
    owner = OperatorIdentity(3, tenant_id=10, email="o@x", name="O", role="owner")
    superuser = OperatorIdentity(4, tenant_id=10, email="s@x", name="S", role="superuser")
    assert [who.can_see(10) for who in (rep, admin, owner, superuser)] == [True, True, True, True]
    assert [who.can_see(11) for who in (rep, admin, owner, superuser)] == [False, False, False, True]


def test_create_admin_makes_an_admin_who_can_sign_in(clean_db: Engine, tenant: int) -> None:
    operator_id = operators.create_admin(tenant_slug="acme", email="Boss@Acme.example", name="Boss", password="pw-123")
    who = operators.authenticate(email="boss@acme.example", password="pw-123")
    assert who is not None
    assert (who.operator_id, who.tenant_id, who.role, who.is_superuser) == (operator_id, tenant, "admin", False)


def test_create_admin_without_a_password_sets_an_unknown_one(clean_db: Engine, tenant: int) -> None:
    operator_id = operators.create_admin(tenant_slug="acme", email="boss@acme.example", name="Boss")
    with clean_db.connect() as conn:
        stored = conn.execute(sa.select(Operator.password_hash).where(Operator.id == operator_id)).scalar_one()
    assert stored is not None
    assert stored.startswith("scrypt$")


def test_create_admin_refuses_an_unknown_tenant_or_a_taken_email(clean_db: Engine, tenant: int) -> None:
    with pytest.raises(ValueError, match="no tenant with slug 'nope'"):
        operators.create_admin(tenant_slug="nope", email="a@b.example", name="A")
    operators.create_admin(tenant_slug="acme", email="a@b.example", name="A", password="x")
    with pytest.raises(ValueError, match="already operator"):
        operators.create_admin(tenant_slug="acme", email="A@B.example", name="A", password="y")
    with pytest.raises(ValueError, match="not an email"):
        operators.create_admin(tenant_slug="acme", email="nobody", name="N")


def test_the_demo_hint_appears_only_while_the_demo_password_works(clean_db: Engine, tenant: int) -> None:
    assert operators.demo_sign_in() is None
    operator_id = add_operator(clean_db, tenant, "demo@acme.example", operators.DEMO_PASSWORD)
    assert operators.demo_sign_in() == "demo@acme.example"
    with clean_db.begin() as conn:
        changed = operators.hash_password("changed")
        conn.execute(sa.update(Operator).where(Operator.id == operator_id).values(password_hash=changed))
    assert operators.demo_sign_in() is None


def test_the_cli_prints_the_new_admin_password_once(
    clean_db: Engine, tenant: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["create-admin", "--tenant", "acme", "--email", "root@acme.example", "--name", "Root"]) == 0
    lines = capsys.readouterr().out.splitlines()
    password = lines[1].split()[1]
    who = operators.authenticate(email="root@acme.example", password=password)
    assert who is not None
    assert who.role == "admin"
    assert lines[0] == f"admin root@acme.example is operator {who.operator_id} of acme"
    assert not who.can_see(tenant + 1), "a tenant admin sees only their tenant"


def test_only_the_cli_makes_a_superuser_who_sees_every_tenant(
    clean_db: Engine, tenant: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["create-superuser", "--tenant", "acme", "--email", "su@acme.example"]) == 0
    lines = capsys.readouterr().out.splitlines()
    who = operators.authenticate(email="su@acme.example", password=lines[1].split()[1])
    assert who is not None
    assert (who.role, who.can_see(tenant + 1)) == ("superuser", True)
    assert lines[0] == f"superuser su@acme.example is operator {who.operator_id} of acme"
    with pytest.raises(sa.exc.IntegrityError, match="ck_operators_role"), clean_db.begin() as conn:
        conn.execute(sa.text("UPDATE operators SET role = 'root' WHERE id = :id"), {"id": who.operator_id})


def old_hash(password: str) -> str:
    """A hash as the console stored them before the cost went up: N=2^14, r=8, p=1."""
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


@pytest.fixture
def owasp_cost(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The production cost (2^17) instead of the suite's floor."""
    monkeypatch.setenv("SCRYPT_LOG2_N", "17")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def stored_hash(engine: Engine, operator_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(sa.text("SELECT password_hash FROM operators WHERE id = :id"), {"id": operator_id}).scalar()
        )


def test_an_old_hash_still_signs_in_and_is_upgraded_to_todays_cost(
    clean_db: Engine, tenant: int, owasp_cost: None
) -> None:
    before = old_hash("s3cret")
    operator_id = add_operator(clean_db, tenant, "rep@acme.example", None, password_hash=before, role="rep")
    assert operators.authenticate(email="rep@acme.example", password="wrong") is None
    assert stored_hash(clean_db, operator_id) == before, "a wrong password upgrades nothing"
    assert operators.authenticate(email="rep@acme.example", password="s3cret") is not None
    scheme, n, r, p, salt, key = stored_hash(clean_db, operator_id).split("$")
    assert (scheme, n, r, p) == ("scrypt", "131072", "8", "1")
    expected = hashlib.scrypt(b"s3cret", salt=base64.b64decode(salt), n=2**17, r=8, p=1, dklen=32, maxmem=2**28)
    assert base64.b64decode(key) == expected
    upgraded = stored_hash(clean_db, operator_id)
    assert operators.authenticate(email="rep@acme.example", password="s3cret") is not None
    assert stored_hash(clean_db, operator_id) == upgraded, "an up-to-date hash is left alone"
