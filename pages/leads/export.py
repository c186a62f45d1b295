"""The drawer's subject access export: everything held about the lead, as one JSON file.

For an owner or an admin of the tenant only (the service checks it again from the database).
The document is built when asked for, not on every drawer render, and is kept in the session
for that lead only until another lead is opened.
"""

from __future__ import annotations

import streamlit as st

from app.services import erasure, subject_access
from pages import session

EXPORT = "leads.drawer.export"  # (lead id, JSON text) prepared by the button
ERROR = "leads.drawer.export_error"


def prepare(tenant_id: int, lead_id: int, operator_id: int) -> None:
    """The button's callback: build the document now, or say why not."""
    try:
        document = subject_access.export_lead(tenant_id=tenant_id, lead_id=lead_id, operator_id=operator_id)
    except (PermissionError, LookupError) as err:
        st.session_state[ERROR] = str(err)
        return
    st.session_state[EXPORT] = (lead_id, subject_access.to_json(document))


def export_panel(tenant_id: int, lead_id: int) -> None:
    who = session.identity()
    if who is None or not erasure.may_erase(role=who.role, operator_tenant_id=who.tenant_id, tenant_id=tenant_id):
        return
    error = st.session_state.pop(ERROR, None)
    if error:
        st.error(error)
    prepared = st.session_state.get(EXPORT)
    if isinstance(prepared, tuple) and prepared[0] == lead_id:
        st.download_button(
            "Download everything held (JSON)",
            data=prepared[1],
            file_name=f"lead-{lead_id}-subject-access.json",
            mime="application/json",
            key="leads.drawer.export.download",
        )
        return
    st.session_state.pop(EXPORT, None)
    st.button(
        "Prepare data export",
        key="leads.drawer.export.prepare",
        help="A subject access request: one JSON file of every row held about this lead.",
        on_click=prepare,
        args=(tenant_id, lead_id, who.operator_id),
    )
