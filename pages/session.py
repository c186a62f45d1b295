"""Who is signed in and which tenant they are looking at, kept in the Streamlit session.

The router (`streamlit_app.py`) writes these keys; pages only read them. Keys are prefixed
`shell.` like every page prefixes its own. The tenant is checked against the identity on
every read, so a tampered session value shows nothing rather than another tenant's data.

The sign-in screen imports this module, so it imports only Streamlit and the identity type at
the top; the tenant list comes through `pages.data` (pandas, the database layer), imported by
the functions that need it, once someone is signed in (see `streamlit_app.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from app.domain import roles
from app.domain.identity import OperatorIdentity

if TYPE_CHECKING:
    from db.queries import TenantRow

ENTRYPOINT = "streamlit_app.py"
IDENTITY = "shell.identity"
TENANT = "shell.tenant_id"
CLOCK = "shell.clock"
VIA_OIDC = "shell.via_oidc"  # signed in through st.login: signing out must end the provider's session too
CHECKED = "shell.identity_checked_at"
RECHECK_EVERY = dt.timedelta(seconds=60)
"""How long the console trusts the identity in the session before reading it again from the
database: a deactivated or demoted operator loses access within this time, tab open or not."""


def identity() -> OperatorIdentity | None:
    value = st.session_state.get(IDENTITY)
    return value if isinstance(value, OperatorIdentity) else None


def permitted(action: roles.Action, tenant_id: int, doing: str) -> OperatorIdentity | None:
    """The signed-in operator when their role allows `action` in this tenant; else None, after
    saying who may `doing` (a page then shows nothing more)."""
    who = identity()
    if who is not None and who.may(action, tenant_id):
        return who
    role = who.role if who is not None else "signed out"
    st.info(f"Only {roles.who_may(action)} of this tenant {doing} (you are: {role}).")
    return None


def sign_in(who: OperatorIdentity) -> None:
    st.session_state[IDENTITY] = who
    st.session_state[TENANT] = who.tenant_id
    st.session_state[CHECKED] = now()


def rechecked_identity(reload: Callable[[int], OperatorIdentity | None]) -> OperatorIdentity | None:
    """The signed-in operator, read again through `reload` once `RECHECK_EVERY` has passed.

    `reload` returns the operator as the database has them now, or None when they are gone or
    deactivated: then the session is signed out. A changed role or name replaces the one kept.
    The console's clock (`now`, pinned by tests) decides; a clock that went back reads again.
    """
    who = identity()
    if who is None:
        return None
    at = now()
    checked = st.session_state.get(CHECKED)
    if isinstance(checked, dt.datetime) and dt.timedelta(0) <= at - checked < RECHECK_EVERY:
        return who
    fresh = reload(who.operator_id)
    if fresh is None:
        sign_out()
        return None
    st.session_state[IDENTITY] = fresh
    st.session_state[CHECKED] = at
    return fresh


def sees_platform() -> bool:
    """Whether the signed-in operator runs the installation, so may see and retry what belongs
    to no tenant (tenant-less agent runs and failed jobs, whose errors may name any tenant's
    rows): the platform superuser, who sees every tenant."""
    who = identity()
    return who is not None and who.is_superuser


def sign_out() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def all_tenants() -> list[TenantRow]:
    """Every tenant, through the cached reader; `pages.data` is imported here, not at the top,
    so that signing in never waits for it (see the module docstring)."""
    from pages import data

    return data.tenants()


def visible_tenants(who: OperatorIdentity) -> list[TenantRow]:
    """The tenants this operator may pick, theirs first."""
    rows = [t for t in all_tenants() if who.can_see(t.id)]
    return sorted(rows, key=lambda t: (t.id != who.tenant_id, t.name))


def through_the_router() -> None:
    """Send a page that runs without anyone signed in back through `streamlit_app.py`.

    The router registers pages only for a signed-in operator, so a page running without one
    was started by Streamlit's legacy pages-folder mode (the first request a fresh server
    process gets, at `/<file name>`), which skips the router and its sign-in. Switching to the
    entry script there runs the router, which also ends that mode for the process.
    """
    if identity() is None:
        st.switch_page(ENTRYPOINT)


def current_tenant() -> TenantRow:
    """The tenant the signed-in operator picked; stops the page when there is none they may see."""
    through_the_router()
    who = identity()
    tenant_id = st.session_state.get(TENANT)
    allowed = who is not None and isinstance(tenant_id, int) and who.can_see(tenant_id)
    tenant = next((t for t in all_tenants() if t.id == tenant_id), None) if allowed else None
    if tenant is None:
        st.warning("Sign in and pick a tenant in the sidebar.")
        st.stop()
    return tenant


def pinned_clock() -> dt.datetime | None:
    """The instant a test pinned the console's clock to (`shell.clock`), or None for the real one.

    Cached readers take this, not a moving `now`: None keeps one cache entry per figure in
    production, while a test that pins the clock gets figures for exactly that instant.
    """
    value = st.session_state.get(CLOCK)
    return value if isinstance(value, dt.datetime) else None


def now() -> dt.datetime:
    """The console's clock: the pinned instant when a test set one, else the real time (UTC)."""
    return pinned_clock() or dt.datetime.now(dt.UTC)
