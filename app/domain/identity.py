"""Who is signed in to the console, and the rule of which tenants they may see.

An operator belongs to one tenant. An admin sees every tenant (they run the installation);
managers, reps and viewers see only their own. Kept apart from `app/services/operators.py`
(passwords, the database) so the console's session can check an identity without importing
the database layer: the sign-in screen of a fresh server paints before that import is paid.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class OperatorIdentity:
    """Who is signed in: kept in the console session, never holding the password hash."""

    operator_id: int
    tenant_id: int
    email: str
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN_ROLE

    def can_see(self, tenant_id: int) -> bool:
        """An admin sees every tenant; everyone else only their own."""
        return self.is_admin or tenant_id == self.tenant_id
