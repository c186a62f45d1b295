"""The operator console: page config, sign-in, tenant picker, mode strip, and the router.

Signed out, the navigation holds only the sign-in page. Signed in, the sidebar offers the
tenants this operator may see (admins: all; everyone else: their own) and the pages below.

Pages are registered by file (`st.Page("pages/recovery.py")`), each file a `render()` run
under `if __name__ == "__main__"`, rather than by passing `render` itself: Streamlit's
AppTest can switch only to pages that have a script path (`AppTest.switch_page` matches
registered script paths; callable pages have none), and every page is tested that way.

No URL path equals the name of a file in `pages/`. Streamlit still knows the legacy
"pages folder": the first run of a server process (and every AppTest run) starts in that
mode, which maps `/<file name>` straight to `pages/<file name>.py` and skips this script,
sign-in included. With distinct names every URL comes through here; and each page checks the
session itself (`pages/session.current_tenant`), so even that path shows nothing unsigned.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.services.operators import OperatorIdentity
from app.settings import Settings, get_settings
from components import badges
from pages import session


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    url_path: str


PAGES = (
    PageSpec("pages/recovery.py", "Recovery dashboard", ":material/monitoring:", "dashboard"),
    PageSpec("pages/lead_scores.py", "Leads & scores", ":material/group:", "leads"),
    PageSpec("pages/campaign_list.py", "Campaigns", ":material/campaign:", "campaigns"),
    PageSpec("pages/reply_inbox.py", "Replies", ":material/inbox:", "replies"),
    PageSpec("pages/roi_report.py", "ROI", ":material/payments:", "roi"),
    PageSpec("pages/agent_activity.py", "Agents", ":material/smart_toy:", "agents"),
    PageSpec("pages/tenant_settings.py", "Settings", ":material/tune:", "settings"),
)
SIGN_IN = PageSpec("pages/sign_in.py", "Sign in", ":material/login:", "sign-in")


def _page(spec: PageSpec, *, default: bool = False) -> st.Page:
    return st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=default)


def tenant_picker(who: OperatorIdentity) -> bool:
    """The sidebar's tenant choice, corrected to one this operator may see; False when there is none."""
    tenants = session.visible_tenants(who)
    if not tenants:
        return False
    ids = [t.id for t in tenants]
    if st.session_state.get(session.TENANT) not in ids:
        st.session_state[session.TENANT] = ids[0]
    names = {t.id: t.name for t in tenants}
    st.sidebar.selectbox(
        "Tenant",
        ids,
        format_func=names.__getitem__,
        key=session.TENANT,
        disabled=len(ids) == 1,
        help="Admins see every tenant; everyone else works in their own.",
    )
    return True


def account_box(who: OperatorIdentity) -> None:
    with st.sidebar:
        st.caption(f"Signed in as {who.name} · {who.role}")
        if st.button("Sign out", key="shell.sign_out", icon=":material/logout:"):
            session.sign_out()
            st.rerun()


def mode_strip(settings: Settings) -> None:
    """Say plainly whether messages are real and who writes them, on every page."""
    ai_live = settings.ai_mode == "claude"
    email_live = settings.email_provider != "sandbox"
    sms_live = settings.sms_provider != "sandbox"
    cols = st.columns([1, 1, 1, 3])
    with cols[0]:
        badges.mode_badge(
            "AI: Claude" if ai_live else "AI: offline writer",
            live=ai_live,
            help="Claude writes and triages messages."
            if ai_live
            else "No ANTHROPIC_API_KEY: templates and rule-based triage, no model calls.",
        )
    with cols[1]:
        badges.mode_badge(
            f"Email: {settings.email_provider}",
            live=email_live,
            help="Emails are sent through SendGrid." if email_live else "Sandbox: emails are stored, never sent.",
        )
    with cols[2]:
        badges.mode_badge(
            f"SMS: {settings.sms_provider}",
            live=sms_live,
            help="SMS are sent through Twilio." if sms_live else "Sandbox: SMS are stored, never sent.",
        )


def no_tenant() -> None:
    st.title("No tenant to show")
    st.info(
        "Your account cannot see any tenant yet. Seed the demo with `python -m app seed`, "
        "or ask an admin to add you to a tenant.",
        icon=":material/info:",
    )


def main() -> None:
    st.set_page_config(
        page_title="Lead Recovery Engine",
        page_icon=":material/autorenew:",
        layout="wide",
        initial_sidebar_state="expanded",
    )
    who = session.identity()
    if who is None:
        st.navigation([_page(SIGN_IN, default=True)], position="hidden").run()
        return
    has_tenant = tenant_picker(who)
    account_box(who)
    if not has_tenant:
        no_tenant()
        return
    navigation = st.navigation([_page(spec, default=i == 0) for i, spec in enumerate(PAGES)])
    mode_strip(get_settings())
    navigation.run()


if __name__ == "__main__":  # Streamlit runs this file as __main__; tests import it for PAGES
    main()
