"""Operators: who works this tenant; owners and admins invite (a one-time link), change roles and
deactivate. The service (`app.services.operator_admin`) checks the same rules again on every
change, so a tampered session gains nothing. A new link is shown once, in the run after the
invitation, then forgotten.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.domain import roles
from app.services import operator_admin
from components import tables
from pages import session

FLASH = "operators.flash"  # (kind, message) of the last change, shown once
NEW_LINK = "operators.link"  # (tenant id, link) just made: shown once
INVITE_PARAM = "invite"
COLUMNS = {
    "name": tables.text_column("Name"),
    "email": tables.text_column("Email"),
    "role": tables.text_column("Role"),
    "status": tables.text_column("Status"),
}


def key(tenant_id: int, field: str) -> str:
    return f"operators.{tenant_id}.{field}"


def _flash_error(err: Exception) -> None:
    st.session_state[FLASH] = ("error", str(err))


def send_invite(tenant_id: int, actor_id: int) -> None:
    """The invite form's callback: record the invitation and keep its link for one run."""
    state = st.session_state
    email, role = str(state.get(key(tenant_id, "email"), "")), str(state.get(key(tenant_id, "role"), ""))
    try:
        token = operator_admin.invite(tenant_id=tenant_id, actor_id=actor_id, email=email, role=role, now=session.now())
    except (ValueError, PermissionError, LookupError) as err:
        _flash_error(err)
        return
    state[NEW_LINK] = (tenant_id, f"?{INVITE_PARAM}={token}")
    state[FLASH] = ("success", f"Invitation made for a {role}: send them the link below (valid 7 days, once).")
    state[key(tenant_id, "email")] = ""


def set_role(tenant_id: int, actor_id: int) -> None:
    state = st.session_state
    target, role = state.get(key(tenant_id, "target")), str(state.get(key(tenant_id, "new_role"), ""))
    if not isinstance(target, int):
        return
    try:
        before = operator_admin.change_role(tenant_id=tenant_id, actor_id=actor_id, operator_id=target, role=role)
    except (ValueError, PermissionError, LookupError) as err:
        _flash_error(err)
        return
    state[FLASH] = ("success", f"Operator {target} is now a {role} (was a {before}).")


def deactivate(tenant_id: int, actor_id: int) -> None:
    target = st.session_state.get(key(tenant_id, "target"))
    if not isinstance(target, int):
        return
    try:
        operator_admin.deactivate(tenant_id=tenant_id, actor_id=actor_id, operator_id=target)
    except (PermissionError, LookupError) as err:
        _flash_error(err)
        return
    st.session_state[FLASH] = (
        "success",
        f"Operator {target} is deactivated: their open console closes within a minute.",
    )


def listing(rows: list[operator_admin.OperatorRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"id": r.id, "name": r.name, "email": r.email, "role": r.role, "status": "active" if r.is_active else "off"}
            for r in rows
        ],
        columns=["id", *COLUMNS],
    )


def flash(tenant_id: int) -> None:
    outcome = st.session_state.pop(FLASH, None)
    if outcome is not None:
        kind, message = outcome
        (st.success if kind == "success" else st.error)(message)
    made = st.session_state.pop(NEW_LINK, None)
    if isinstance(made, tuple) and made[0] == tenant_id:
        st.caption("Append this to the console's address; it is not shown again.")
        st.code(made[1], language=None)


def render() -> None:
    tenant = session.current_tenant()
    st.title("Operators")
    who = session.permitted(roles.Action.OPERATORS, tenant.id, "manage its operators")
    if who is None:
        return
    flash(tenant.id)
    rows = operator_admin.list_operators(tenant_id=tenant.id)
    tables.data_table(listing(rows), COLUMNS, empty=("No operator", "Invite one below."), key=key(tenant.id, "table"))
    givable = [r for r in roles.TENANT_ROLES if roles.may_assign(who.role, current=roles.VIEWER, new=r)]
    st.subheader("Invite")
    with st.form(key(tenant.id, "invite")):
        st.text_input("Email", key=key(tenant.id, "email"), max_chars=254)
        st.selectbox("Role", givable, index=givable.index(roles.REP), key=key(tenant.id, "role"))
        st.form_submit_button("Invite", type="primary", on_click=send_invite, args=(tenant.id, who.operator_id))
    others = {r.id: f"{r.name} · {r.role}" for r in rows if r.is_active and r.id != who.operator_id}
    if not others:
        return
    st.subheader("Change a role or deactivate")
    st.selectbox("Operator", list(others), format_func=others.__getitem__, key=key(tenant.id, "target"))
    left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
    left.selectbox("New role", givable, key=key(tenant.id, "new_role"))
    middle.button("Change role", key=key(tenant.id, "change"), on_click=set_role, args=(tenant.id, who.operator_id))
    right.button("Deactivate", key=key(tenant.id, "deactivate"), on_click=deactivate, args=(tenant.id, who.operator_id))


if __name__ == "__main__":
    render()
