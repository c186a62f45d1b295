"""Which role may do what (`app/domain/roles.py`), against a table worked out by hand."""

from __future__ import annotations

import pytest

from app.domain import roles
from app.domain.roles import Action

TENANT_ROLES = ("owner", "admin", "manager", "rep", "viewer")
# action: the roles (of the tenant itself) allowed it, written out by hand
EXPECTED = {
    Action.RECOVER: {"owner", "admin", "manager", "rep"},
    Action.IMPORT: {"owner", "admin", "manager", "rep"},
    Action.CAMPAIGN_EDIT: {"owner", "admin", "manager", "rep"},
    Action.LAUNCH: {"owner", "admin", "manager"},
    Action.ANSWER_REPLIES: {"owner", "admin", "manager", "rep"},
    Action.INSIGHT: {"owner", "admin", "manager", "rep"},
    Action.RELEASE_HELD: {"owner", "admin", "manager", "rep"},
    Action.RETRY_JOBS: {"owner", "admin", "manager", "rep"},
    Action.SETTINGS: {"owner", "admin", "manager"},
    Action.ERASE: {"owner", "admin"},
    Action.EXPORT: {"owner", "admin"},
    Action.OPERATORS: {"owner", "admin"},
    Action.AUDIT: {"owner", "admin"},
}


@pytest.mark.parametrize("action", list(Action))
def test_each_action_in_the_own_tenant(action: Action) -> None:
    allowed = {role for role in TENANT_ROLES if roles.may(role, action, own_tenant=True)}
    assert allowed == EXPECTED[action]
    assert roles.may("superuser", action, own_tenant=True)


@pytest.mark.parametrize("action", list(Action))
def test_only_the_superuser_acts_in_another_tenant(action: Action) -> None:
    others = [role for role in TENANT_ROLES if roles.may(role, action, own_tenant=False)]
    assert others == []
    assert roles.may("superuser", action, own_tenant=False)


def test_a_refusal_is_a_permission_error_that_names_who_may() -> None:
    with pytest.raises(PermissionError, match=r"Only an owner or an admin of this tenant may erase .*\(you are: rep\)"):
        roles.check("rep", Action.ERASE, own_tenant=True)
    with pytest.raises(PermissionError, match="deactivated"):
        roles.check("owner", Action.ERASE, own_tenant=True, active=False)
    with pytest.raises(PermissionError):
        roles.check("nobody", Action.RECOVER, own_tenant=True)


@pytest.mark.parametrize(
    ("actor", "current", "new", "allowed"),
    [
        ("owner", "rep", "owner", True),
        ("owner", "owner", "viewer", True),
        ("admin", "rep", "manager", True),
        ("admin", "viewer", "admin", True),
        ("admin", "rep", "owner", False),  # only an owner makes owners
        ("admin", "owner", "rep", False),  # or unmakes them
        ("owner", "rep", "superuser", False),  # the command line alone makes a superuser
        ("superuser", "rep", "owner", True),
        ("owner", "superuser", "rep", False),
        ("manager", "rep", "viewer", False),
    ],
)
def test_who_may_give_which_role(actor: str, current: str, new: str, allowed: bool) -> None:
    assert roles.may_assign(actor, current=current, new=new) is allowed
