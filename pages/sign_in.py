"""Sign in with an operator's email and password.

In demo mode (`make run` on the embedded default, or `python -m app run --demo`), when the
database holds the seeded demo (a `demo@<tenant>.example` operator whose password is still
`demo`) the form says so, so a demo audience can walk straight in. Outside demo mode it never
names an account: a production database may hold a leftover demo operator. Repeated failures
are throttled per address, per email and address, and per email with a capped delay
(`app/services/sign_in_guard.py`). When Streamlit's `[auth]` secrets name an OpenID Connect
provider, a "Sign in with <provider>" button runs `st.login`, and the verified email the provider
returns signs in the active operator who has it; anyone else is refused.

This is the first screen of every visit, and the first script run of a fresh server process
pays for every module it imports before anything is drawn. So the form needs nothing but
Streamlit: the hint below it (a database read) and the check of a submitted password (scrypt,
Redis) import the service layer inside the functions that use them, once the form is on
screen; on a fresh process that import (pandas, SQLAlchemy, the readers) takes about a second.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from pages import session


def _hint() -> None:
    from app.services import operators
    from app.settings import get_settings
    from pages import data

    demo_mode = get_settings().is_demo
    if not data.tenants():
        st.info(
            "The database is empty. `make run` seeds a demo on first start; `python -m app seed` loads one by hand."
            if demo_mode
            else "No tenant yet. Create the first operator: `python -m app create-admin --tenant SLUG --email EMAIL`.",
            icon=":material/info:",
        )
        return
    if not demo_mode:
        return
    email = data.demo_sign_in()
    if email:
        st.caption(f"Demo: `{email}` / `{operators.DEMO_PASSWORD}`")


def oidc_providers() -> list[str | None]:
    """The identity providers of Streamlit's `[auth]` secrets (what `st.login` reads): one name
    per `[auth.<name>]` section, or [None] when `[auth]` itself holds the provider's `client_id`;
    [] when single sign-on is not configured. Only the console reads secrets."""
    try:
        auth = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets file at all
        return []
    if not isinstance(auth, Mapping) or not auth:
        return []
    named: list[str | None] = [name for name, value in auth.items() if isinstance(value, Mapping)]
    if named:
        return named
    return [None] if "client_id" in auth else []


def provider_label(provider: str | None) -> str:
    return provider.replace("_", " ").title() if provider else "single sign-on"


def oidc_buttons(providers: list[str | None]) -> None:
    for provider in providers:
        st.button(
            f"Sign in with {provider_label(provider)}",
            key=f"signin.oidc.{provider or 'default'}",
            icon=":material/badge:",
            width="stretch",
            on_click=st.login,
            args=(provider,) if provider else (),
        )


def oidc_sign_in(providers: list[str | None]) -> None:
    """Sign in the operator the provider vouched for (`st.user`), when an active operator has
    that email; otherwise say so and offer to leave the provider's session."""
    if not providers or not st.user.get("is_logged_in"):
        return
    from app.services import operators

    email, verified = st.user.get("email"), st.user.get("email_verified")
    who = operators.identity_for_email(email=email) if isinstance(email, str) and verified is not False else None
    if who is None:
        st.error(
            f"{email or 'This account'} is not an active operator here. Ask an admin to add you, "
            "or sign in with a password.",
            icon=":material/person_off:",
        )
        st.button("Use another account", key="signin.oidc.logout", icon=":material/logout:", on_click=st.logout)
        return
    session.sign_in(who)
    st.session_state[session.VIA_OIDC] = True
    st.rerun()


def render() -> None:
    if session.identity() is not None:  # signed in while Streamlit ran this file without the router
        st.switch_page(session.ENTRYPOINT)
    providers = oidc_providers()
    _, middle, _ = st.columns([1, 1.4, 1])
    with middle:
        st.title("Lead Recovery Engine")
        st.caption("Win back the leads who went quiet.")
        oidc_sign_in(providers)
        oidc_buttons(providers)
        with st.form("signin.form"):
            st.subheader("Sign in")
            email = st.text_input("Email", key="signin.email", autocomplete="username")
            password = st.text_input(
                "Password", key="signin.password", type="password", autocomplete="current-password"
            )
            submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
            _hint()
        if submitted:
            attempt(email or "", password or "")


def attempt(email: str, password: str) -> None:
    """Check the password unless this email is locked out; sign in or say what went wrong."""
    from app.services import sign_in_guard

    try:
        checked(email, password)
    except sign_in_guard.Unavailable:
        st.error(
            "Sign-in is unavailable: the console cannot reach its Redis server. Try again in a minute; "
            "if it lasts, tell whoever runs the console.",
            icon=":material/cloud_off:",
        )


def client_address() -> str | None:
    """The visitor's address for the sign-in throttles.

    Streamlit gives the websocket peer (`st.context.ip_address`), and None when that peer is
    this machine: then the console sits behind a local reverse proxy (it binds 127.0.0.1), and
    the address that proxy saw is the last entry of `X-Forwarded-For` (the one the proxy itself
    appended; a client can forge only the entries before it). None again for a visitor on this
    machine with no proxy: the guard counts those together.
    """
    peer = st.context.ip_address
    if isinstance(peer, str) and peer:  # AppTest's stand-in runtime answers with a non-string
        return peer
    forwarded = st.context.headers.get("X-Forwarded-For")
    last = forwarded.split(",")[-1].strip() if isinstance(forwarded, str) else ""
    return last or None


REFUSALS = {
    "address": "Too many failed sign-ins from this address. Try again in {wait}.",
    "pair": "Too many failed sign-ins for this email from this address. Try again in {wait}.",
    "account": "This account is being slowed down after failed sign-ins. Try again in {wait}.",
}


def _wait(seconds: int) -> str:
    return f"{seconds} s" if seconds < 60 else f"{-(-seconds // 60)} min"


def checked(email: str, password: str) -> None:
    """The attempt itself: refused while throttled, counted when wrong, signed in when right."""
    from app import runtime
    from app.services import operators, sign_in_guard

    redis = runtime.redis_client()
    ip, now = client_address(), session.now().timestamp()
    refused = sign_in_guard.refusal(redis, email=email, ip=ip, now=now)
    if refused is not None:
        st.error(REFUSALS[refused.scope].format(wait=_wait(refused.seconds)), icon=":material/lock_clock:")
        return
    who = operators.authenticate(email=email, password=password)
    if who is None:
        sign_in_guard.record_failure(redis, email=email, ip=ip, now=now)
        st.error("Wrong email or password.", icon=":material/error:")
        return
    sign_in_guard.record_success(redis, email=email, ip=ip, now=now)
    session.sign_in(who)
    st.rerun()


if __name__ == "__main__":
    render()
