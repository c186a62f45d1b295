"""Sign in with an operator's email and password.

When the database holds the seeded demo (a `demo@<tenant>.example` operator whose password is
still `demo`) the form says so, so a demo audience can walk straight in.
"""

from __future__ import annotations

import streamlit as st

from app.services import operators
from pages import data, session


def _hint() -> None:
    if not data.tenants():
        st.info(
            "The database is empty. `make run` seeds a demo on first start; `python -m app seed` loads one by hand.",
            icon=":material/info:",
        )
        return
    email = data.demo_sign_in()
    if email:
        st.caption(f"Demo: `{email}` / `{operators.DEMO_PASSWORD}`")


def render() -> None:
    if session.identity() is not None:  # signed in while Streamlit ran this file without the router
        st.switch_page(session.ENTRYPOINT)
    _, middle, _ = st.columns([1, 1.4, 1])
    with middle:
        st.title("Lead Recovery Engine")
        st.caption("Win back the leads who went quiet.")
        with st.form("signin.form"):
            st.subheader("Sign in")
            email = st.text_input("Email", key="signin.email", autocomplete="username")
            password = st.text_input(
                "Password", key="signin.password", type="password", autocomplete="current-password"
            )
            submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
            _hint()
        if submitted:
            who = operators.authenticate(email=email or "", password=password or "")
            if who is None:
                st.error("Wrong email or password.", icon=":material/error:")
                return
            session.sign_in(who)
            st.rerun()


if __name__ == "__main__":
    render()
