"""Settings → API keys: make a key (shown once), see the tenant's keys by prefix, revoke one.

Only an admin or a manager of the tenant sees this section; the service checks the same rule
again on every create and revoke (`app.services.api_keys`), so a tampered session gains nothing.
A new key is kept in the session only until the run that shows it: the next run forgets it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.services import api_keys as api_keys_service
from app.services import tenant_settings as rules_service
from app.services.api_keys import KeyInfo
from components import format as fmt
from components import tables
from pages import data, session

NEW_KEY = "settings.api_keys.new"  # (tenant id, key id, name, key) just made: shown once, then dropped
FLASH = "settings.api_keys.flash"  # (kind, message) of the last create or revoke, shown once
NOT_SHOWN_AGAIN = (
    "Copy this key now and keep it somewhere safe: it is not shown again. Only its fingerprint is "
    "stored; if it is lost, revoke it and make a new one."
)
COLUMNS = {
    "prefix": tables.text_column("Key", help="The key's first characters, to tell keys apart; the rest is never kept."),
    "name": tables.text_column("Name"),
    "created_at": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm"),
    "last_used_at": st.column_config.DatetimeColumn("Last used", format="YYYY-MM-DD HH:mm"),
    "status": tables.text_column("Status"),
}


def key(tenant_id: int, field: str) -> str:
    return f"settings.{tenant_id}.api_keys.{field}"


def create(tenant_id: int, operator_id: int) -> None:
    """The form's submit callback: make the key and keep it for the one run that shows it."""
    name = str(st.session_state.get(key(tenant_id, "name"), ""))
    try:
        key_id, made = api_keys_service.create_key(tenant_id=tenant_id, name=name, created_by=operator_id)
    except (ValueError, PermissionError, LookupError) as err:
        st.session_state[FLASH] = ("error", str(err))
        return
    data.forget_api_keys()
    st.session_state[NEW_KEY] = (tenant_id, key_id, " ".join(name.split()), made)
    st.session_state[key(tenant_id, "name")] = ""


def revoke(tenant_id: int, operator_id: int) -> None:
    """The revoke button's callback."""
    key_id = st.session_state.get(key(tenant_id, "revoke_id"))
    if not isinstance(key_id, int):
        return
    try:
        api_keys_service.revoke_key(key_id=key_id, tenant_id=tenant_id, operator_id=operator_id)
    except (PermissionError, LookupError) as err:
        st.session_state[FLASH] = ("error", str(err))
        return
    data.forget_api_keys()
    st.session_state[FLASH] = ("success", f"API key {key_id} revoked: requests with it now get 401.")


def listing(keys: list[KeyInfo]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": k.id,
                "prefix": f"{k.prefix}…",
                "name": k.name,
                "created_at": k.created_at,
                "last_used_at": k.last_used_at,
                "status": "active" if k.active else f"revoked {k.revoked_at:%Y-%m-%d %H:%M}",
            }
            for k in keys
        ],
        columns=["id", *COLUMNS],
    )


def show_new_key(tenant_id: int) -> None:
    made = st.session_state.pop(NEW_KEY, None)
    if not isinstance(made, tuple) or made[0] != tenant_id:
        return
    _, key_id, name, secret = made
    st.success(f"API key {key_id} made: {fmt.plain(name)}.")
    st.warning(NOT_SHOWN_AGAIN, icon=":material/key:")
    st.code(secret, language=None)


def flash() -> None:
    outcome = st.session_state.pop(FLASH, None)
    if outcome is not None:
        kind, message = outcome
        (st.success if kind == "success" else st.error)(message)


def api_keys_section(tenant_id: int) -> None:
    """The section, for an admin or a manager of this tenant; others are told who may use it."""
    st.subheader("API keys")
    who = session.identity()
    if who is None or not rules_service.may_edit(role=who.role, operator_tenant_id=who.tenant_id, tenant_id=tenant_id):
        role = who.role if who is not None else "signed out"
        st.caption(f"Only an admin or a manager of this tenant can see and manage API keys (you are: {role}).")
        return
    st.caption(
        "Keys let your other systems report to this tenant, e.g. `POST /api/conversions` with the "
        "header `Authorization: Bearer <key>`. A key is shown once, when it is made."
    )
    flash()
    show_new_key(tenant_id)
    keys = data.api_keys(tenant_id)
    tables.data_table(listing(keys), COLUMNS, empty=("No API key yet", "Make one below."), key=key(tenant_id, "table"))
    with st.form(key(tenant_id, "create"), clear_on_submit=False):
        st.text_input("Name", key=key(tenant_id, "name"), placeholder="e.g. CRM sync", max_chars=80)
        st.form_submit_button("Create key", type="primary", on_click=create, args=(tenant_id, who.operator_id))
    active = {k.id: f"{k.prefix}… {k.name}" for k in keys if k.active}
    if active:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.selectbox("Revoke a key", list(active), format_func=active.__getitem__, key=key(tenant_id, "revoke_id"))
        right.button("Revoke", key=key(tenant_id, "revoke"), on_click=revoke, args=(tenant_id, who.operator_id))
