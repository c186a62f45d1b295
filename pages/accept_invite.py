"""Joining a tenant by an invitation link (`?invite=TOKEN`): say who you are, choose a password.

The router shows this page instead of the sign-in form while the link's parameter is present;
the service (`app.services.operator_admin.accept_invite`) checks the link (once, unexpired)
and makes the operator, who is then signed in.
"""

from __future__ import annotations

import streamlit as st

from pages import session

PARAM = "invite"
FLASH = "invite.flash"


def accept() -> None:
    """The form's callback: join, sign in, and drop the used link from the address."""
    from app.services import operator_admin

    state = st.session_state
    token = str(st.query_params.get(PARAM, ""))
    try:
        who = operator_admin.accept_invite(
            token=token,
            name=str(state.get("invite.name", "")),
            password=str(state.get("invite.password", "")),
            now=session.now(),
        )
    except (ValueError, LookupError) as err:
        state[FLASH] = str(err)
        return
    del st.query_params[PARAM]
    session.sign_in(who)


def render() -> None:
    st.title("Join your team")
    problem = st.session_state.pop(FLASH, None)
    if problem:
        st.error(problem)
    with st.form("invite.form"):
        st.text_input("Your name", key="invite.name", max_chars=120)
        st.text_input("Choose a password", key="invite.password", type="password", help="At least 12 characters.")
        st.form_submit_button("Join", type="primary", on_click=accept)


if __name__ == "__main__":
    render()
