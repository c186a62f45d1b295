"""The operator console: page config, sign-in, the sidebar (page links, tenant picker, account
box), the mode strip, and the router.

Signed out, the navigation holds only the sign-in page. Signed in, the sidebar offers the
pages, then the tenants this operator may see (the superuser: all; everyone else: their own).

Pages are registered by file (`st.Page("pages/recovery.py")`), each file a `render()` run
under `if __name__ == "__main__"`, rather than by passing `render` itself: Streamlit's
AppTest can switch only to pages that have a script path (`AppTest.switch_page` matches
registered script paths; callable pages have none), and every page is tested that way.

The sidebar's page links are drawn here, one `st.page_link` per page (titles and icons from
`PAGES`; the current page is highlighted), under `st.navigation(..., position="hidden")`,
because of Streamlit's legacy "pages folder". A `pages/` folder beside this script makes the
first script run of each server process start in that mode (`PagesManager.uses_pages_directory`
in `streamlit/runtime/pages_manager.py`, `_mpa_v1` in its script runner): it sends a navigation
listing every file of `pages/` ("streamlit app, agent activity, campaign list, data, …") before
this script even starts, and it stayed on screen until our `st.navigation` replaced it. The one
switch Streamlit has is `client.showSidebarNavigation = false` (`.streamlit/config.toml`): that
list is then sent hidden, but so is any `st.navigation(position="sidebar")`, hence our own links.
That first run still maps a URL `/<file name>` to `pages/<file name>.py`, skipping this script:
so no URL path equals a file name (no link leads there), and each page checks the session
itself (`pages/session.current_tenant`), so even that path shows nothing unsigned.

The first run also pays for every module it imports before anything is drawn. This script and
the sign-in page import only Streamlit and light modules; the database layer and the readers
come in once the sign-in form is on screen (`pages/sign_in.py`), so a fresh server paints the
form about as fast as a warm one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from app.domain import roles
from app.domain.identity import OperatorIdentity
from app.settings import Settings, SettingsError, get_settings
from components import badges, errors
from pages import session

if TYPE_CHECKING:
    from db.queries import TenantRow  # a type only: importing db.queries at run time costs pandas


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
# Pages for owners and admins of the tenant (and the superuser) only; each page checks again.
# (A comment, not a docstring: Streamlit's magic would draw a bare string of this script.)
OWNER_PAGES = (
    PageSpec("pages/operators.py", "Operators", ":material/manage_accounts:", "team"),
    PageSpec("pages/audit_log.py", "Audit log", ":material/history:", "audit"),
)
SIGN_IN = PageSpec("pages/sign_in.py", "Sign in", ":material/login:", "sign-in")
ACCEPT_INVITE = PageSpec("pages/accept_invite.py", "Join", ":material/person_add:", "join")
INVITE_PARAM = "invite"


def _page(spec: PageSpec, *, default: bool = False) -> st.Page:
    return st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=default)


def sidebar_links(pages: Sequence[st.Page]) -> None:
    """The page links at the top of the sidebar, in place of Streamlit's (see the module docstring),
    ruled off from the rest of the sidebar as Streamlit's own navigation is."""
    with st.sidebar:
        for page in pages:
            st.page_link(page)
        st.divider()


def tenant_picker(tenants: Sequence[TenantRow]) -> None:
    """The sidebar's tenant choice, corrected to one of `tenants` (those this operator may see)."""
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
        help="The platform superuser sees every tenant; everyone else works in their own.",
    )


def account_box(who: OperatorIdentity) -> None:
    with st.sidebar:
        st.caption(f"Signed in as {who.name} · {who.role}")
        if st.button("Sign out", key="shell.sign_out", icon=":material/logout:"):
            via_oidc = bool(st.session_state.get(session.VIA_OIDC))
            session.sign_out()
            if via_oidc:  # else the provider's cookie would sign them straight back in
                st.logout()
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
            help="Claude writes the messages and the lead insights."
            if ai_live
            else "No ANTHROPIC_API_KEY: the offline writer and rule-based insights, no model calls.",
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


def degraded_strip() -> None:
    """Say when Claude has lately failed (429, 5xx, 529, timeouts) and the offline writer stands
    in (`app/ai/health.py`). Imported here: the reader reaches Redis, which the sign-in screen
    must not wait for."""
    from pages import data

    trouble = data.ai_degraded(session.pinned_clock())
    if trouble is None:
        return
    minutes = max(0, int((session.now().timestamp() - trouble.at) // 60))
    times = "once" if trouble.count == 1 else f"{trouble.count} times"
    st.warning(
        f"AI degraded: Claude failed {times} in the last 15 min (latest {trouble.reason}, {minutes} min ago). "
        "Messages and insights come from the offline writer until it answers again.",
        icon=":material/cloud_off:",
    )


def owner_alerts() -> None:
    """Toast the replies this rep must answer (interested, a question), once each, on any page.
    Imported here: it reaches the database, which the sign-in screen must not wait for."""
    from pages.replies.alerts import toast_alerts

    toast_alerts()


def no_tenant() -> None:
    st.title("No tenant to show")
    st.info(
        "Your account cannot see any tenant yet. Seed the demo with `python -m app seed`, "
        "or ask an admin to add you to a tenant.",
        icon=":material/info:",
    )


DEMO_BANNER = (
    "Demo: made-up tenants and leads. Emails and texts are recorded here, never sent; "
    "the demo accounts' password is public."
)


def demo_banner(settings: Settings) -> None:
    """On every page of the demo, signed in or not, so no one mistakes it for real data."""
    if settings.is_demo:
        st.info(DEMO_BANNER, icon=":material/science:")


def main() -> None:
    st.set_page_config(
        page_title="Lead Recovery Engine",
        page_icon=":material/autorenew:",
        layout="wide",
        initial_sidebar_state="expanded",
    )
    try:
        settings = get_settings()
    except SettingsError as refusal:  # `streamlit run` by hand on an unsafe setup (the launcher refuses first)
        st.error(str(refusal))
        st.stop()
    demo_banner(settings)
    with errors.shown_as_id("console"):
        route(settings)


def reread_operator(operator_id: int) -> OperatorIdentity | None:
    """The operator as stored now; imported here, as the sign-in screen must not wait for the database."""
    from app.services import operators

    return operators.current_identity(operator_id=operator_id)


SIGNED_OUT_BY_CHECK = "Your account was deactivated or removed: sign in again, or ask an owner or an admin."


def route(settings: Settings) -> None:
    """Sign-in for a visitor; the pages, tenant picker and account box for an operator.

    The identity is read again from the database at least every minute (`session.rechecked_identity`).
    """
    was_signed_in = session.identity() is not None
    who = session.rechecked_identity(reread_operator)
    if who is None:
        if was_signed_in:
            st.warning(SIGNED_OUT_BY_CHECK, icon=":material/lock:")
        door = ACCEPT_INVITE if st.query_params.get(INVITE_PARAM) else SIGN_IN
        st.navigation([_page(door, default=True)], position="hidden").run()
        return
    tenants = session.visible_tenants(who)
    if not tenants:
        account_box(who)
        no_tenant()
        return
    specs = [*PAGES, *(OWNER_PAGES if roles.may(who.role, roles.Action.OPERATORS, own_tenant=True) else ())]
    pages = [_page(spec, default=i == 0) for i, spec in enumerate(specs)]
    navigation = st.navigation(pages, position="hidden")
    sidebar_links(pages)
    tenant_picker(tenants)
    account_box(who)
    mode_strip(settings)
    degraded_strip()
    owner_alerts()
    navigation.run()


if __name__ == "__main__":  # Streamlit runs this file as __main__; tests import it for PAGES
    main()
