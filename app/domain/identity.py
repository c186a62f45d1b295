"""Who is signed in to the console, and the rule of which tenants they may see.

An operator belongs to one tenant and sees only it; the platform superuser (made only by the
command line) sees every tenant. What each role may do is `app/domain/roles.py`.

Kept apart from `app/services/operators.py`
(passwords, the database) so the console's session can check an identity without importing
the database layer: the sign-in screen of a fresh server paints before that import is paid.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain import roles


@dataclass(frozen=True)
class OperatorIdentity:
    """Who is signed in: kept in the console session, never holding the password hash."""

    operator_id: int
    tenant_id: int
    email: str
    name: str
    role: str

    @property
    def is_superuser(self) -> bool:
        return self.role == roles.SUPERUSER

    def can_see(self, tenant_id: int) -> bool:
        """The superuser sees every tenant; everyone else only their own."""
        return self.is_superuser or tenant_id == self.tenant_id

    def may(self, action: roles.Action, tenant_id: int) -> bool:
        """Whether this operator may do `action` in `tenant_id` (what a page shows; services check again)."""
        return roles.may(self.role, action, own_tenant=tenant_id == self.tenant_id)
