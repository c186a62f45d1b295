"""Driving the console with Streamlit's AppTest, and the figures it should show, computed
here in SQL written independently of `db/queries.py`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services.operators import hash_password
from components import format as fmt
from pages import session
from tests.support import truncate_all

truncate = truncate_all  # the name the page tests use

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 60
PAGES = {
    "pages/recovery.py": "Recovery dashboard",
    "pages/lead_scores.py": "Leads & scores",
    "pages/campaign_list.py": "Campaigns",
    "pages/reply_inbox.py": "Replies",
    "pages/roi_report.py": "ROI",
    "pages/agent_activity.py": "Agents",
    "pages/tenant_settings.py": "Settings",
}


def rows(engine: Engine, sql: str, **params: Any) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def value(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def acme_with_operator(conn: sa.Connection, *, email: str, password: str, role: str) -> int:
    """Tenant "acme" and one operator of `role` who signs in with `password`; the tenant's id."""
    tenant = int(
        conn.execute(sa.text("INSERT INTO tenants (slug, name) VALUES ('acme', 'Acme') RETURNING id")).scalar_one()
    )
    add_operator(conn, tenant, email=email, password=password, role=role, name="Ops")
    return tenant


def add_operator(conn: sa.Connection, tenant: int, *, email: str, password: str, role: str, name: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO operators (tenant_id, email, name, role, password_hash) "
            "VALUES (:t, :email, :name, :role, :hash)"
        ),
        {"t": tenant, "email": email, "name": name, "role": role, "hash": hash_password(password)},
    )


def submit_sign_in(email: str, password: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.text_input(key="signin.email").input(email)
    at.text_input(key="signin.password").input(password)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    return at


def signed_in(email: str, password: str) -> AppTest:
    at = submit_sign_in(email, password)
    assert session.IDENTITY in at.session_state, [e.value for e in at.error]
    # AppTest starts every run in Streamlit's legacy pages-folder mode, but the rerun that
    # follows sign-in runs in navigation mode: widget ids differ between the two, so one more
    # run settles them before a test touches a sidebar widget.
    return at.run()


def pick_tenant(at: AppTest, name: str) -> AppTest:
    picker = at.sidebar.selectbox(key=session.TENANT)
    picker.select_index(picker.options.index(name)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(at: AppTest, path: str) -> AppTest:
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


# --- the figures, in SQL of their own -------------------------------------------------------

SILENT_SQL = """
    FROM leads l JOIN tenants t ON t.id = l.tenant_id
    WHERE l.tenant_id = :t AND l.recovery_state IN ('active', 'silent')
      AND l.last_activity_at < now() - (SELECT min(h) FROM unnest(t.silence_ladder_hours) h) * interval '1 hour'
"""


def dashboard_figures(engine: Engine, tenant_id: int) -> dict[str, str]:
    by_state = dict(
        rows(engine, "SELECT recovery_state, count(*) FROM leads WHERE tenant_id = :t GROUP BY 1", t=tenant_id)
    )
    recovered, revenue = rows(
        engine,
        """SELECT count(DISTINCT lead_id), coalesce(sum(value), 0) FROM conversions
           WHERE tenant_id = :t AND method != 'organic' AND converted_at > now() - interval '30 days'
             AND converted_at <= now()""",
        t=tenant_id,
    )[0]
    worked = sum(by_state.get(s, 0) for s in ("in_recovery", "replied", "recovered", "lost"))
    return {
        "Silent now": fmt.count(value(engine, "SELECT count(*) " + SILENT_SQL, t=tenant_id)),
        "In recovery": fmt.count(by_state.get("in_recovery", 0)),
        "Replied": fmt.count(by_state.get("replied", 0)),
        "Recovered 30d": fmt.count(recovered),
        "Revenue 30d": fmt.money_compact(revenue),
        "Recovery rate": fmt.percent(by_state.get("recovered", 0) / worked if worked else None),
    }


def silent_lead_ids(engine: Engine, tenant_id: int, limit: int = 25) -> list[int]:
    sql = "SELECT l.id " + SILENT_SQL + " ORDER BY l.intent_score DESC, l.deal_value DESC, l.id LIMIT :n"
    return [r.id for r in rows(engine, sql, t=tenant_id, n=limit)]


_LOCAL_DAY = "(({col}) AT TIME ZONE (SELECT timezone FROM tenants WHERE id = :t))::date"
_LOCAL_TODAY = _LOCAL_DAY.format(col="now()")


DAYS_PER_MONTH = Decimal("30.4375")  # 365.25 ÷ 12: the fixed monthly cost falls evenly on every day of the year


def roi_figures(
    engine: Engine, tenant_id: int, days: int, *, email: str = "0.001", sms: str = "0.0079"
) -> dict[str, str]:
    """The ROI page's headline cards at these unit prices: the window is the tenant's last `days`
    local days, cost = emails × email price + SMS × SMS price + AI cost of those days + the
    fixed monthly cost saved on the tenant (none: 0) × days ÷ 30.4375."""
    in_window = f"BETWEEN {_LOCAL_TODAY} - :days + 1 AND {_LOCAL_TODAY}"
    emails, texts_sent, revenue = rows(
        engine,
        f"""SELECT coalesce(sum(sent) FILTER (WHERE channel = 'email'), 0),
                  coalesce(sum(sent) FILTER (WHERE channel = 'sms'), 0), coalesce(sum(revenue), 0)
           FROM metrics_daily WHERE tenant_id = :t AND day {in_window}""",
        t=tenant_id,
        days=days,
    )[0]
    ai = value(
        engine,
        f"SELECT coalesce(sum(cost_usd), 0) FROM ai_generations WHERE tenant_id = :t "
        f"AND {_LOCAL_DAY.format(col='created_at')} {in_window}",
        t=tenant_id,
        days=days,
    )
    recovered = value(
        engine,
        f"SELECT count(DISTINCT lead_id) FROM conversions WHERE tenant_id = :t AND method <> 'organic' "
        f"AND converted_at <= now() AND {_LOCAL_DAY.format(col='converted_at')} {in_window}",
        t=tenant_id,
        days=days,
    )
    monthly = value(
        engine, "SELECT coalesce(settings->>'fixed_monthly_cost', '0') FROM tenants WHERE id = :t", t=tenant_id
    )
    cost = emails * Decimal(email) + texts_sent * Decimal(sms) + ai + Decimal(monthly) * days / DAYS_PER_MONTH
    return {
        "Revenue recovered": fmt.money(revenue),
        "Cost": fmt.money(cost, cents=True),
        "ROI": fmt.roi(float((revenue - cost) / cost) if cost else None),
        "Recovered leads": fmt.count(recovered),
        "Cost per recovered lead": fmt.money(cost / recovered if recovered else None, cents=True),
        "Messages sent": fmt.count(emails + texts_sent),
    }


def before_after_figures(engine: Engine, tenant_id: int, days: int) -> dict[str, str]:
    """The naive before/after cards: rates around the tenant's first enrollment."""
    start = value(
        engine, "SELECT enrolled_at FROM enrollments WHERE tenant_id = :t ORDER BY enrolled_at LIMIT 1", t=tenant_id
    )
    if start is None:
        return {}
    found = rows(
        engine,
        """WITH w AS (SELECT CAST(:s AS timestamptz) - :days * interval '1 day' AS b,
                             least(CAST(:s AS timestamptz) + :days * interval '1 day', now()) AS a)
           SELECT (SELECT count(*) FROM leads WHERE tenant_id = :t AND created_at < :s) AS leads_before,
                  (SELECT count(*) FROM leads, w WHERE tenant_id = :t AND created_at < w.a) AS leads_after,
                  (SELECT count(DISTINCT lead_id) FROM conversions, w WHERE tenant_id = :t
                     AND converted_at >= w.b AND converted_at < :s) AS won_before,
                  (SELECT count(DISTINCT lead_id) FROM conversions, w WHERE tenant_id = :t
                     AND converted_at >= :s AND converted_at < w.a) AS won_after""",
        t=tenant_id,
        s=start,
        days=days,
    )[0]
    before = found.won_before / found.leads_before if found.leads_before else None
    after = found.won_after / found.leads_after if found.leads_after else None
    change = None if before is None or after is None else after - before
    return {
        "Recovery rate before": fmt.percent(before),
        "Recovery rate after": fmt.percent(after),
        "Naive change": fmt.MISSING if change is None else f"{change * 100:+.1f} pts".replace("-", "−"),
    }


def holdout_counts(
    engine: Engine, tenant_id: int, at: dt.datetime | None = None, days: int = 90
) -> dict[bool, tuple[int, int, Any]]:
    """Per group (True = hold-out) as of `at` (None: now): leads first enrolled in the `days`
    before, how many of them converted at or after that enrolment, and the value of those conversions."""
    found = rows(
        engine,
        """WITH clock AS (SELECT coalesce(CAST(:at AS timestamptz), now()) AS at),
           ranked AS (
               SELECT e.lead_id, e.is_control, e.enrolled_at,
                      row_number() OVER (PARTITION BY e.lead_id ORDER BY e.enrolled_at, e.id) AS nth
               FROM enrollments e, clock
               WHERE e.tenant_id = :t AND e.enrolled_at > clock.at - :days * interval '1 day'
                 AND e.enrolled_at <= clock.at
           ), firsts AS (
               SELECT r.is_control,
                      (SELECT coalesce(sum(c.value), 0) FROM conversions c
                       WHERE c.lead_id = r.lead_id AND c.converted_at BETWEEN r.enrolled_at AND clock.at) AS revenue,
                      EXISTS (SELECT 1 FROM conversions c
                              WHERE c.lead_id = r.lead_id AND c.converted_at BETWEEN r.enrolled_at AND clock.at) AS won
               FROM ranked r, clock WHERE r.nth = 1
           )
           SELECT is_control, count(*) AS n, sum(won::int) AS k, sum(revenue) AS revenue
           FROM firsts GROUP BY 1""",
        t=tenant_id,
        at=at,
        days=days,
    )
    return {bool(r.is_control): (int(r.n), int(r.k), r.revenue) for r in found}


def unhandled_replies(engine: Engine, tenant_id: int, limit: int = 50) -> list[sa.Row[Any]]:
    return rows(
        engine,
        """SELECT body, priority FROM inbound_messages WHERE tenant_id = :t AND handled_at IS NULL
           ORDER BY CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 WHEN 'low' THEN 3 ELSE 2 END,
                    received_at DESC, id DESC
           LIMIT :n""",
        t=tenant_id,
        n=limit,
    )


# Attribution, in SQL of its own: row_number() where db/attribution.py uses DISTINCT ON, and a
# correlated count of sends per group where it uses a grouped FULL JOIN.
_METHOD_SQL = "CASE WHEN m.source IN ('ai', 'ai_cache') THEN 'AI' WHEN m.source IN ('template', 'offline') THEN 'Template' ELSE 'Manual' END"  # noqa: E501
_KEY_SQL = {"campaign": "coalesce(k.name, '(no campaign)')", "channel": "m.channel", "method": _METHOD_SQL}


def attribution_rows(engine: Engine, tenant_id: int, days: int, touch: str, key: str) -> dict[str, tuple[Any, ...]]:
    """Per group: (conversions, revenue, recovered leads, sent, cost, cost per recovered lead or None)."""
    direction = {"first": "ASC", "last": "DESC"}[touch]
    expr = _KEY_SQL[key]
    credited = rows(
        engine,
        f"""WITH pairs AS (
               SELECT c.id AS conversion, c.lead_id, c.value, {expr} AS g,
                      row_number() OVER (PARTITION BY c.id ORDER BY m.sent_at {direction}, m.id {direction}) AS nth
               FROM conversions c
               JOIN outbound_messages m ON m.lead_id = c.lead_id
               LEFT JOIN campaigns k ON k.id = m.campaign_id
               WHERE c.tenant_id = :t AND c.method <> 'organic'
                 AND c.converted_at > now() - :days * interval '1 day' AND c.converted_at <= now()
                 AND m.sent_at > now() - :days * interval '1 day' AND m.sent_at <= c.converted_at
           )
           SELECT g, count(*) AS n, sum(value) AS revenue, count(DISTINCT lead_id) AS leads
           FROM pairs WHERE nth = 1 GROUP BY g""",
        t=tenant_id,
        days=days,
    )
    sent = rows(
        engine,
        f"""SELECT {expr} AS g, count(*) AS n, sum(m.cost_usd) AS cost
           FROM outbound_messages m LEFT JOIN campaigns k ON k.id = m.campaign_id
           WHERE m.tenant_id = :t AND m.sent_at > now() - :days * interval '1 day' AND m.sent_at <= now()
           GROUP BY 1""",
        t=tenant_id,
        days=days,
    )
    won = {r.g: (int(r.n), float(r.revenue), int(r.leads)) for r in credited}
    spent = {r.g: (int(r.n), float(r.cost)) for r in sent}
    out: dict[str, tuple[Any, ...]] = {}
    for group in won.keys() | spent.keys():
        n, revenue, leads = won.get(group, (0, 0.0, 0))
        messages, cost = spent.get(group, (0, 0.0))
        out[group] = (n, revenue, leads, messages, cost, cost / leads if leads else None)
    return out


def downloaded(at: AppTest, key: str, downloads: dict[str, bytes]) -> bytes:
    """The bytes behind the one download button `key`, from the `downloads` fixture's store."""
    found = [b for b in at.get("download_button") if b.key == key]
    assert len(found) == 1, f"no single download button {key}"
    return downloads[found[0].proto.url.rsplit("/", 1)[-1].split(".")[0]]
