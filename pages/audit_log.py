"""Audit log: what this tenant's operators did (recover, launch, pause, kill, erase, settings,
invitations, role changes, deactivations, exports, held messages settled), newest first.

For owners and admins of the tenant (and the superuser); the service checks again. The CSV is
built only when asked for, through the service's export (which logs the export itself), with the
console's formula-safe CSV writer (`components.tables.csv_bytes`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.domain import roles
from app.services import audit
from components import tables
from pages import session

CSV = "audit.csv"  # (tenant id, bytes) prepared by the button, offered once
COLUMNS = {
    "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "operator": tables.text_column("Operator"),
    "action": tables.text_column("Action"),
    "subject": tables.text_column("Subject"),
    "details": tables.text_column("Details"),
}


def frame(rows: list[audit.AuditRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"at": r.at, "operator": r.operator, "action": r.action, "subject": r.subject, "details": r.details}
            for r in rows
        ],
        columns=list(COLUMNS),
    )


def prepare(tenant_id: int, operator_id: int) -> None:
    """The button's callback: export (and log the export), then offer the file once."""
    try:
        rows = audit.export(tenant_id=tenant_id, operator_id=operator_id)
    except PermissionError as err:
        st.session_state[CSV] = (tenant_id, None, str(err))
        return
    listing = frame(rows).assign(at=lambda f: f["at"].map(lambda t: t.isoformat()))
    st.session_state[CSV] = (tenant_id, tables.csv_bytes(listing, COLUMNS), None)


def render() -> None:
    tenant = session.current_tenant()
    st.title("Audit log")
    who = session.permitted(roles.Action.AUDIT, tenant.id, "read its audit log")
    if who is None:
        return
    rows = audit.entries(tenant_id=tenant.id, operator_id=who.operator_id)
    st.caption(f"The newest {audit.SHOWN:,} actions at most, newest first.")
    tables.data_table(
        frame(rows), COLUMNS, empty=("Nothing logged yet", "Operator actions appear here."), key="audit.table"
    )
    prepared = st.session_state.pop(CSV, None)
    if isinstance(prepared, tuple) and prepared[0] == tenant.id:
        _, data, problem = prepared
        if problem:
            st.error(problem)
        else:
            st.download_button("Download CSV", data, file_name="audit-log.csv", mime="text/csv", key="audit.download")
            return
    st.button("Prepare CSV", key="audit.prepare", on_click=prepare, args=(tenant.id, who.operator_id))


if __name__ == "__main__":
    render()
