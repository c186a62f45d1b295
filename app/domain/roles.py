"""Which role may do what, in which tenant: the one rule every service and page asks.

An operator belongs to one tenant and holds one of five roles there, from most to least trusted:
owner, admin, manager, rep, viewer. A sixth, the platform `superuser`, runs the installation:
only the command line makes one (`python -m app create-superuser`), it sees every tenant and may
do everything in each. Nobody else acts outside their own tenant.

Pure (no I/O): services read the operator's role and tenant from the database and ask `check`,
so the rule is the same whether a page, the API or a test calls the service.
"""

from __future__ import annotations

from enum import StrEnum

SUPERUSER = "superuser"
OWNER = "owner"
ADMIN = "admin"
MANAGER = "manager"
REP = "rep"
VIEWER = "viewer"

TENANT_ROLES = (OWNER, ADMIN, MANAGER, REP, VIEWER)
"""The roles an owner or an admin may give in the console, most trusted first."""
ALL_ROLES = (SUPERUSER, *TENANT_ROLES)


class Action(StrEnum):
    """Something an operator does that changes state (or exports personal data)."""

    RECOVER = "recover"  # recover now, mark recovered, record conversions
    IMPORT = "import"  # import leads from a CSV
    CAMPAIGN_EDIT = "campaign_edit"  # draft a campaign
    LAUNCH = "launch"  # launch, pause, resume, kill a campaign
    ANSWER_REPLIES = "answer_replies"  # mark a reply handled, correct its intent, answer it
    INSIGHT = "insight"  # ask the AI for a lead's insight (spends the tenant's AI budget)
    RELEASE_HELD = "release_held"  # settle held messages (may send again)
    RETRY_JOBS = "retry_jobs"  # put a failed agent job back on its queue
    SETTINGS = "settings"  # recovery rules, messages, prices, API keys
    ERASE = "erase"  # erase a lead, set retention
    EXPORT = "export"  # export personal data (subject access, CSV downloads)
    OPERATORS = "operators"  # invite, change role, deactivate
    AUDIT = "audit"  # read the audit log


_WORKERS = frozenset({OWNER, ADMIN, MANAGER, REP})
_MANAGERS = frozenset({OWNER, ADMIN, MANAGER})
_OWNERS = frozenset({OWNER, ADMIN})

ALLOWED: dict[Action, frozenset[str]] = {
    Action.RECOVER: _WORKERS,
    Action.IMPORT: _WORKERS,
    Action.CAMPAIGN_EDIT: _WORKERS,
    Action.ANSWER_REPLIES: _WORKERS,
    Action.INSIGHT: _WORKERS,
    Action.RELEASE_HELD: _WORKERS,
    Action.RETRY_JOBS: _WORKERS,
    Action.LAUNCH: _MANAGERS,  # a rep may draft a campaign (and recover leads); a manager sends it
    Action.SETTINGS: _MANAGERS,
    Action.ERASE: _OWNERS,
    Action.EXPORT: _OWNERS,
    Action.OPERATORS: _OWNERS,
    Action.AUDIT: _OWNERS,
}
"""The tenant roles allowed each action in their own tenant (the superuser may do all, anywhere)."""

_WORDS = {
    _WORKERS: "an owner, admin, manager or rep",
    _MANAGERS: "an owner, admin or manager",
    _OWNERS: "an owner or an admin",
}


class RoleRefused(PermissionError):
    """The operator's role (or tenant) does not allow the action; nothing was written."""


def may(role: str, action: Action, *, own_tenant: bool) -> bool:
    """Whether an operator with `role` may do `action` in a tenant (`own_tenant`: the one they belong to)."""
    if role == SUPERUSER:
        return True
    return own_tenant and role in ALLOWED[action]


def who_may(action: Action) -> str:
    """The roles allowed `action`, in words, for a refusal or a disabled button's help."""
    return _WORDS[ALLOWED[action]]


def check(role: str, action: Action, *, own_tenant: bool, active: bool = True) -> None:
    """`RoleRefused` unless an active operator with `role` may do `action` in that tenant."""
    if not active:
        raise RoleRefused("This operator is deactivated: ask an owner or an admin of the tenant.")
    if not may(role, action, own_tenant=own_tenant):
        raise RoleRefused(f"Only {who_may(action)} of this tenant may {_PHRASES[action]} (you are: {role}).")


def may_assign(actor_role: str, *, current: str, new: str) -> bool:
    """Whether `actor_role` may move an operator from role `current` to `new` (same tenant).

    Only an owner (or the superuser) makes or unmakes owners; nobody gives `superuser` here.
    """
    if new not in TENANT_ROLES or current == SUPERUSER:
        return False
    if actor_role in (SUPERUSER, OWNER):
        return True
    return actor_role == ADMIN and OWNER not in (current, new)


_PHRASES = {
    Action.RECOVER: "recover leads",
    Action.IMPORT: "import leads",
    Action.CAMPAIGN_EDIT: "change its campaigns",
    Action.LAUNCH: "launch, pause or kill its campaigns",
    Action.ANSWER_REPLIES: "act on its replies",
    Action.INSIGHT: "ask for an AI insight",
    Action.RELEASE_HELD: "settle its held messages",
    Action.RETRY_JOBS: "retry its failed jobs",
    Action.SETTINGS: "change its settings",
    Action.ERASE: "erase its leads or set retention",
    Action.EXPORT: "export its personal data",
    Action.OPERATORS: "manage its operators",
    Action.AUDIT: "read its audit log",
}
