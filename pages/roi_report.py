"""ROI: revenue recovered against what it cost at the tenant's unit prices, over time, the lift
against the hold-out beside the naive before/after, attribution, and a printable client summary.

Cost is priced here (messages sent × the tenant's unit price per channel + AI token cost, see
`db/roi.py`) rather than read from what each send recorded: a sandbox send records $0, and the
figure a manager shows a client must use the rates the client actually pays. The prices are
edited in a form on this page and saved through `app.services.pricing`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pandas as pd
import streamlit as st

from app import runtime
from app.domain import lift
from app.domain.pricing import UnitPrices
from app.services import pricing as pricing_service
from app.services import tenant_settings as rules_service
from components import charts, tables
from components import client_summary as doc
from components import format as fmt
from components.metrics import Card, metric_cards
from db import attribution as attr
from db import roi
from db.queries import HoldoutComparison, TenantRow
from pages import data, session

PERIODS = (7, 30, 90)
LIFT_DAYS = 90
TOP_CAMPAIGNS = 5
TOUCHES: dict[attr.Touch, str] = {"first": "First touch", "last": "Last touch"}
GROUPINGS: dict[attr.AttributionKey, str] = {"campaign": "Campaign", "channel": "Channel", "method": "Method"}
GRAINS: dict[roi.Grain, str] = {"day": "Daily", "week": "Weekly"}
VIEWS = {"report": "Report", "summary": "Client summary"}
PRICES_FLASH = "roi.prices_flash"  # (kind, message) of the last price save, shown once
TRUST_SENTENCE = (
    "Trust the hold-out lift: the hold-out went silent over the same days as the contacted leads and "
    "differs from them only in never being contacted, so the difference is what recovery added. The "
    "before/after comparison also counts everything else that changed around the start date (season, "
    "lead mix, prices, organic comebacks), so it is shown for reference only."
)
PERIOD_COLUMNS = {
    "period": st.column_config.DateColumn("Period", help="The day, or the Monday of the week (tenant's time zone)."),
    "email_sent": tables.number_column("Emails sent", help="Emails handed to the provider."),
    "sms_sent": tables.number_column("SMS sent", help="SMS handed to the provider."),
    "conversions": tables.number_column("Conversions", help="Conversions credited to a message."),
    "revenue": tables.money_column("Revenue", help="Value of those conversions."),
    "message_cost": tables.money_column("Message cost", help="Emails × email price + SMS × SMS price."),
    "ai_cost": tables.money_column("AI cost", help="Token cost of every AI generation made in the period."),
    "cost": tables.money_column("Cost", help="Message cost + AI cost."),
    "net": tables.money_column("Net", help="Revenue − cost."),
    "roi": tables.number_column("ROI", format="percent", help="(Revenue − cost) ÷ cost; blank when nothing was spent."),
}
CHANNEL_COLUMNS = {
    "channel": tables.text_column("Channel"),
    "sent": tables.number_column("Sent", help="Messages of this channel handed to the provider."),
    "replied": tables.number_column("Replied", help="Replies to them."),
    "conversions": tables.number_column("Conversions", help="Conversions credited to this channel's messages."),
    "revenue": tables.money_column("Revenue", help="Value of those conversions."),
    "cost": tables.money_column("Cost", help="Sent × this channel's unit price (AI cost is not split by channel)."),
    "roi": tables.number_column("ROI", format="percent", help="(Revenue − cost) ÷ cost."),
}
ATTRIBUTION_FIGURES = {
    "conversions": tables.number_column("Conversions", help="Conversions credited to these messages."),
    "revenue": tables.money_column("Revenue", help="Value of those conversions."),
    "recovered": tables.number_column("Recovered leads", help="Distinct leads among those conversions."),
    "sent": tables.number_column("Messages sent", help="Messages of this group sent in the period."),
    "cost": tables.money_column("Cost", help="Provider cost those messages recorded when sent."),
    "cost_per_recovered": tables.money_column(
        "Cost per recovered lead", help="Cost ÷ recovered leads; blank when nobody was recovered."
    ),
}
CAMPAIGN_COLUMNS = {
    "campaign": tables.text_column("Campaign"),
    "conversions": ATTRIBUTION_FIGURES["conversions"],
    "revenue": ATTRIBUTION_FIGURES["revenue"],
    "cost_per_recovered": ATTRIBUTION_FIGURES["cost_per_recovered"],
}


# --- reads, behind the cache like those of pages/data.py -------------------------------------


@st.cache_data(ttl=data.SLOW, show_spinner=False, max_entries=data.MANY)
def attribution(tenant_id: int, days: int, touch: attr.Touch, by: tuple[attr.AttributionKey, ...]) -> pd.DataFrame:
    """`db.attribution.attribution` behind the cache, like the reads of `pages/data.py`."""
    return attr.attribution(runtime.engine(), tenant_id, days=days, touch=touch, by=by)


@st.cache_data(ttl=data.SLOW, show_spinner=False)
def unit_prices(tenant_id: int) -> UnitPrices:
    return UnitPrices.from_settings(roi.unit_price_settings(runtime.engine(), tenant_id))


@st.cache_data(ttl=data.SLOW, show_spinner=False, max_entries=data.MANY)
def over_time(tenant_id: int, days: int, grain: roi.Grain, email_price: str, sms_price: str) -> pd.DataFrame:
    """Prices come as strings: exact, and hashed alike however the Decimal was written."""
    return roi.roi_over_time(
        runtime.engine(),
        tenant_id,
        days=days,
        grain=grain,
        email_price=Decimal(email_price),
        sms_price=Decimal(sms_price),
    )


@st.cache_data(ttl=data.SLOW, show_spinner=False, max_entries=data.MANY)
def by_channel(tenant_id: int, days: int, email_price: str, sms_price: str) -> pd.DataFrame:
    return roi.roi_by_channel(
        runtime.engine(), tenant_id, days=days, email_price=Decimal(email_price), sms_price=Decimal(sms_price)
    )


@st.cache_data(ttl=data.SLOW, show_spinner=False)
def recovered_leads(tenant_id: int, days: int) -> int:
    return roi.recovered_leads(runtime.engine(), tenant_id, days=days)


# The before/after compares periods around a start date that, once the engine is older than the
# period, lie wholly in the past: it can be kept longer than the live figures.
AROUND_START = dt.timedelta(minutes=30)


@st.cache_data(ttl=AROUND_START, show_spinner=False)
def before_after(tenant_id: int, days: int) -> roi.BeforeAfter:
    return roi.before_after(runtime.engine(), tenant_id, days=days)


def priced(tenant_id: int, days: int, grain: roi.Grain, prices: UnitPrices) -> pd.DataFrame:
    return over_time(tenant_id, days, grain, *prices.to_settings().values())


# --- headline figures ------------------------------------------------------------------------


def price_note(prices: UnitPrices) -> str:
    return f"email {fmt_price(prices.email)}, SMS {fmt_price(prices.sms)} per message"


def fmt_price(price: Decimal) -> str:
    return f"${price:f}"


def cost_per_recovered(totals: roi.PricedTotals, recovered: int) -> float | None:
    return totals.cost / recovered if recovered else None


def headline_figures(totals: roi.PricedTotals, recovered: int, prices: UnitPrices) -> list[doc.Figure]:
    """The figures shown on the page and printed in the client summary, with their definitions."""
    days = totals.days
    return [
        doc.Figure(
            "Revenue recovered",
            fmt.money(totals.revenue),
            f"Value of the conversions credited to a recovery message over the last {days} days "
            "(the tenant's calendar days).",
        ),
        doc.Figure(
            "Cost",
            fmt.money(totals.cost, cents=True),
            f"Messages sent × unit price ({price_note(prices)}) + AI token cost "
            f"({fmt.money(totals.ai_cost, cents=True)}), over the same days.",
        ),
        doc.Figure(
            "ROI",
            fmt.roi(totals.roi),
            "(Revenue − cost) ÷ cost; from 1,000 % shown as revenue ÷ cost (× cost). A dash when nothing was spent.",
        ),
        doc.Figure(
            "Recovered leads",
            fmt.count(recovered),
            "Distinct leads with a conversion over the same days that was not organic (not a lead "
            "that came back on its own).",
        ),
        doc.Figure(
            "Cost per recovered lead",
            fmt.money(cost_per_recovered(totals, recovered), cents=True),
            "Cost ÷ recovered leads; a dash when nobody was recovered.",
        ),
        doc.Figure("Messages sent", fmt.count(totals.sent), "Emails and SMS handed to a provider over the same days."),
    ]


def md(text: str) -> str:
    """Our own sentence as Markdown: a `$` is a dollar, not the start of a LaTeX formula."""
    return text.replace("$", "\\$")


def cards(figures: list[doc.Figure]) -> list[Card]:
    return [Card(f.label, f.value, md(f.definition)) for f in figures]


# --- hold-out lift (trustworthy) and naive before/after --------------------------------------


def holdout_lifts(comparison: HoldoutComparison) -> tuple[lift.Lift, lift.Lift]:
    """Recovery-rate and revenue-per-lead lift of the treated leads over the hold-out."""
    treated, control = comparison.treated, comparison.control
    rate = lift.rate_lift(treated.leads, treated.recovered, control.leads, control.recovered)
    revenue = lift.mean_lift(
        lift.Sample(treated.leads, float(treated.revenue), float(treated.revenue_squares)),
        lift.Sample(control.leads, float(control.revenue), float(control.revenue_squares)),
    )
    return rate, revenue


def _interval(found: lift.Lift, show: Callable[[float], str]) -> str | None:
    if found.low is None or found.high is None:
        return None
    return f"{found.confidence * 100:g} % CI {show(found.low)} to {show(found.high)}"


def _points(x: float) -> str:
    return f"{x * 100:+.1f} pts".replace("-", "−")


def _dollars(x: float) -> str:
    return f"{'−' if x < 0 else '+'}{fmt.money(abs(x), cents=True)}"


def lift_cards(comparison: HoldoutComparison) -> list[Card]:
    rate, revenue = holdout_lifts(comparison)
    days = comparison.days
    return [
        Card(
            "Treated recovery rate",
            fmt.percent(rate.treated),
            f"Leads first enrolled in the last {days} days and contacted ({fmt.count(rate.treated_n)}) "
            "that converted after enrolment.",
        ),
        Card(
            "Hold-out recovery rate",
            fmt.percent(rate.control),
            f"Leads first enrolled in the last {days} days but held out, never contacted "
            f"({fmt.count(rate.control_n)}), that converted on their own.",
        ),
        Card(
            "Rate lift",
            fmt.MISSING if rate.difference is None else _points(rate.difference),
            "Treated rate minus hold-out rate, in percentage points, with Newcombe's interval "
            "(shown below the figure); a dash when a group is empty.",
            delta=_interval(rate, _points),
            plain_delta=True,
        ),
        Card(
            "Revenue per lead lift",
            fmt.MISSING if revenue.difference is None else _dollars(revenue.difference),
            "Conversion revenue per treated lead minus per hold-out lead (leads that did not convert "
            "count as $0), with Welch's interval (shown below the figure).",
            delta=_interval(revenue, _dollars),
            plain_delta=True,
        ),
    ]


def verdicts(comparison: HoldoutComparison) -> list[tuple[str, bool]]:
    """Each lift's sentence once ("too few to tell" reads the same for both), with its significance."""
    found: dict[str, bool] = {}
    for each in holdout_lifts(comparison):
        found.setdefault(lift.verdict(each), each.significant)
    return list(found.items())


def _day(moment: dt.datetime) -> str:
    return moment.date().isoformat()


def before_after_cards(ba: roi.BeforeAfter) -> list[Card]:
    before, after = ba.before, ba.after
    start = _day(ba.start) if ba.start is not None else "the first enrollment"
    return [
        Card(
            "Recovery rate before",
            fmt.percent(before.rate if before else None),
            f"Distinct leads with a conversion (any method) in the {ba.days} days before the engine "
            f"started ({start}: the tenant's first enrollment) ÷ the tenant's leads created before then"
            + (f" ({fmt.count(before.recovered)} of {fmt.count(before.leads)})." if before else "."),
        ),
        Card(
            "Recovery rate after",
            fmt.percent(after.rate if after else None),
            f"The same in the {ba.days} days from the start (cut at today if the engine is younger)"
            + (f" ({fmt.count(after.recovered)} of {fmt.count(after.leads)})." if after else "."),
        ),
        Card(
            "Naive change",
            fmt.MISSING if ba.difference is None else _points(ba.difference),
            "After rate minus before rate, in percentage points. Not a measure of what recovery "
            "added: see the sentence below.",
        ),
    ]


def naive_sentence(ba: roi.BeforeAfter) -> str:
    if ba.start is None or ba.before is None or ba.after is None:
        return "No before/after yet: the engine has not enrolled any lead, so it has no start date."
    before = fmt.percent(ba.before.rate)
    after = fmt.percent(ba.after.rate)
    change = fmt.MISSING if ba.difference is None else _points(ba.difference)
    return (
        f"Naive before/after: the recovery rate was {before} in the {ba.days} days before the engine started "
        f"on {_day(ba.start)} and {after} in the {ba.after.days:.0f} days after ({change})."
    )


def lift_section(comparison: HoldoutComparison, ba: roi.BeforeAfter) -> None:
    st.subheader("Did recovery work?")
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("**Lift against the hold-out**")
        st.caption(
            f"Last {comparison.days} days: what contacting leads added over the hold-out, which was never contacted."
        )
        lifts = lift_cards(comparison)
        metric_cards(lifts[:2])
        metric_cards(lifts[2:])
        for sentence, significant in verdicts(comparison):
            (st.success if significant else st.info)(md(sentence))
    with right:
        st.markdown("**Naive before/after**")
        st.caption(f"Recovery rate in the {ba.days} days before the engine's start against the {ba.days} days after.")
        if ba.start is None:
            tables.empty_state(
                "No start date yet",
                "The engine starts with the scanner's first enrollment; run a scan (or wait for the "
                "cron) and this comparison appears.",
            )
        else:
            metric_cards(before_after_cards(ba)[:2])
            metric_cards(before_after_cards(ba)[2:])
        st.warning(TRUST_SENTENCE, icon=":material/balance:")


# --- unit prices -----------------------------------------------------------------------------


def price_key(tenant_id: int, field: str) -> str:
    return f"roi.{tenant_id}.{field}"


def save_prices(tenant_id: int, operator_id: int) -> None:
    """The form's submit callback: save what was typed, and say how it went."""
    state = st.session_state
    try:
        saved = pricing_service.update_unit_prices(
            tenant_id=tenant_id,
            operator_id=operator_id,
            email=str(state[price_key(tenant_id, "email")]),
            sms=str(state[price_key(tenant_id, "sms")]),
        )
    except (ValueError, PermissionError, LookupError) as err:
        state[PRICES_FLASH] = ("error", str(err))
        return
    unit_prices.clear()
    state[PRICES_FLASH] = ("success", f"Unit prices saved: {price_note(saved)}.")


def prices_section(tenant_id: int, prices: UnitPrices) -> None:
    outcome = st.session_state.pop(PRICES_FLASH, None)
    label = f"Unit prices: {price_note(prices)}" + (" (defaults)" if prices.is_default else "")
    with st.expander(md(label), icon=":material/sell:", expanded=outcome is not None):
        if outcome is not None:
            kind, message = outcome
            (st.success if kind == "success" else st.error)(md(message))
        who = session.identity()
        if who is None or not rules_service.may_edit(
            role=who.role, operator_tenant_id=who.tenant_id, tenant_id=tenant_id
        ):
            role = who.role if who is not None else "signed out"
            st.caption(f"Only an admin or a manager of this tenant can change the prices (you are: {role}).")
            return
        with st.form(price_key(tenant_id, "prices")):
            st.caption(
                md(
                    "Dollars per message sent. Defaults: SendGrid's list price (about $0.001 per email) and "
                    "Twilio's (about $0.0079 per US SMS segment); enter the rates this account pays."
                )
            )
            left, right = st.columns(2)
            left.text_input("Email, $ per message", value=f"{prices.email:f}", key=price_key(tenant_id, "email"))
            right.text_input("SMS, $ per segment", value=f"{prices.sms:f}", key=price_key(tenant_id, "sms"))
            st.form_submit_button(
                "Save prices", type="primary", on_click=save_prices, args=(tenant_id, who.operator_id)
            )


# --- attribution -----------------------------------------------------------------------------


def attribution_columns(key: attr.AttributionKey) -> dict[str, tables.Column]:
    return {key: tables.text_column(GROUPINGS[key]), **ATTRIBUTION_FIGURES}


def attribution_section(tenant_id: int, days: int) -> None:
    st.subheader("Attribution")
    st.caption(
        f"Last {days} days: each non-organic conversion credits one message sent to that lead before it "
        "in the period, the first or the last. Method: AI (generated or cached) or Template (incl. the "
        "offline fallback). Cost here is what each message recorded at send time."
    )
    left, right = st.columns(2)
    touch = left.segmented_control(
        "Credit", tuple(TOUCHES), format_func=TOUCHES.__getitem__, default="last", key="roi.touch", required=True
    )
    by = right.selectbox("Group by", tuple(GROUPINGS), format_func=GROUPINGS.__getitem__, key="roi.attribution_by")
    touch = touch or "last"
    by = by or "campaign"
    tables.table_with_csv(
        attribution(tenant_id, days, touch, (by,)),
        attribution_columns(by),
        empty=("Nothing to attribute", "No message was sent and nothing converted in this period."),
        key="roi.attribution",
        file_name=f"attribution_{by}_{touch}_touch_{days}d.csv",
    )


# --- the report and the client summary -------------------------------------------------------


def over_time_charts(frame: pd.DataFrame, grain: roi.Grain) -> None:
    per = "week" if grain == "week" else "day"
    charts.line_chart(
        frame,
        x="period",
        series={"revenue": "Revenue", "cost": "Cost"},
        title=f"Revenue vs cost per {per}",
        y_title="USD",
    )
    shown = frame.assign(roi_pct=frame["roi"] * 100, cumulative_pct=frame["cumulative_roi"] * 100)
    charts.line_chart(
        shown,
        x="period",
        series={"roi_pct": f"ROI of the {per}", "cumulative_pct": "Cumulative ROI"},
        title=f"ROI per {per}",
        y_title="%",
    )
    st.caption(
        f"ROI of the {per} = (revenue − cost) ÷ cost of that {per}; cumulative ROI = the same from the "
        "period's first day up to that point. Each chart's toolbar (top right, on hover) downloads it as a "
        "PNG, drawn by your browser."
    )


def report(tenant_id: int, days: int, grain: roi.Grain, prices: UnitPrices, frame: pd.DataFrame) -> None:
    over_time_charts(frame, grain)
    with st.expander("Figures per period"):
        tables.table_with_csv(
            frame,
            PERIOD_COLUMNS,
            empty=("No periods", "The period has no day."),
            key="roi.daily",
            file_name=f"roi_{grain}_{days}d.csv",
        )
    st.subheader("By channel")
    tables.table_with_csv(
        by_channel(tenant_id, days, *prices.to_settings().values()),
        CHANNEL_COLUMNS,
        empty=("No channel figures", "Nothing was sent in this period."),
        key="roi.channels",
        file_name=f"roi_by_channel_{days}d.csv",
    )


def top_campaigns(tenant_id: int, days: int) -> pd.DataFrame:
    found = attribution(tenant_id, days, "last", ("campaign",))
    return found[found["conversions"] > 0].head(TOP_CAMPAIGNS)


def summary_document(
    tenant: TenantRow,
    figures: list[doc.Figure],
    statements: list[str],
    frame: pd.DataFrame,
    campaigns: pd.DataFrame,
    *,
    days: int,
    grain: roi.Grain,
) -> doc.ClientSummary:
    first, last = (frame["period"].iloc[0], frame["period"].iloc[-1]) if len(frame) else (None, None)
    span = f" ({first} to {last})" if first is not None else ""
    return doc.ClientSummary(
        tenant=tenant.name,
        period=f"Last {days} days{span}",
        prepared=dt.date.today().isoformat(),
        figures=figures,
        statements=statements,
        chart_title=f"Revenue vs cost per {grain}",
        points=[doc.Point(str(r.period), float(r.revenue), float(r.cost)) for r in frame.itertuples(index=False)],
        campaigns=[
            doc.CampaignLine(
                str(r.campaign),
                fmt.count(int(r.conversions)),
                fmt.money(r.revenue),
                fmt.money(None if pd.isna(r.cost_per_recovered) else r.cost_per_recovered, cents=True),
            )
            for r in campaigns.itertuples(index=False)
        ],
    )


def summary_figures(figures: list[doc.Figure], comparison: HoldoutComparison, ba: roi.BeforeAfter) -> list[doc.Figure]:
    lifts = {c.label: c for c in lift_cards(comparison)}
    naive = {c.label: c for c in before_after_cards(ba)}
    rate = lifts["Rate lift"]
    return [
        *figures,
        doc.Figure("Lift vs hold-out", rate.value, rate.help),
        doc.Figure("Naive before/after", naive["Naive change"].value, naive["Naive change"].help),
        doc.Figure(
            "Hold-out recovery rate", lifts["Hold-out recovery rate"].value, lifts["Hold-out recovery rate"].help
        ),
    ]


def summary_statements(comparison: HoldoutComparison, ba: roi.BeforeAfter) -> list[str]:
    return [*(sentence for sentence, _ in verdicts(comparison)), naive_sentence(ba), TRUST_SENTENCE]


def client_summary(
    tenant: TenantRow,
    figures: list[doc.Figure],
    statements: list[str],
    frame: pd.DataFrame,
    *,
    days: int,
    grain: roi.Grain,
) -> None:
    """The one-page view: the figures, the sentences, one chart, the top campaigns, and the HTML."""
    campaigns = top_campaigns(tenant.id, days)
    summary = summary_document(tenant, figures, statements, frame, campaigns, days=days, grain=grain)
    st.download_button(
        "Download summary (HTML)",
        doc.summary_html(summary),
        file_name=f"roi_summary_{tenant.name.lower().replace(' ', '_')}_{days}d.html",
        mime="text/html",
        key="roi.summary.html",
        icon=":material/print:",
        on_click="ignore",
        help="A self-contained page, laid out for A4 and Letter: open it and print, or save it as PDF.",
    )
    st.caption(f"{tenant.name} · {summary.period}")
    metric_cards(cards(figures[:3]))
    metric_cards(cards(figures[3:6]))
    metric_cards(cards(figures[6:]))
    for sentence in statements:
        st.markdown(md(sentence))
    charts.line_chart(
        frame, x="period", series={"revenue": "Revenue", "cost": "Cost"}, title=summary.chart_title, y_title="USD"
    )
    st.caption(
        "To hand this to a client, download the summary above and print it (one page, A4 or Letter) or "
        "save it as PDF; the chart's toolbar (on hover) downloads it alone as a PNG, drawn by your browser."
    )
    st.markdown("**Top campaigns** (last-touch attribution)")
    tables.data_table(
        campaigns,
        CAMPAIGN_COLUMNS,
        empty=("No campaign recovered anyone yet", "Conversions credited to a campaign's messages appear here."),
        key="roi.summary.campaigns",
    )


def render() -> None:
    tenant = session.current_tenant()
    st.title("ROI")
    left, middle, right = st.columns([2, 1, 1])
    days = left.segmented_control(
        "Period", PERIODS, default=30, format_func=lambda d: f"{d} days", key="roi.days", required=True
    )
    grain = middle.segmented_control(
        "Step", tuple(GRAINS), default="day", format_func=GRAINS.__getitem__, key="roi.grain", required=True
    )
    view = right.segmented_control(
        "View", tuple(VIEWS), default="report", format_func=VIEWS.__getitem__, key="roi.view", required=True
    )
    days, grain = int(days or 30), grain or "day"
    prices = unit_prices(tenant.id)
    prices_section(tenant.id, prices)
    frame = priced(tenant.id, days, grain, prices)
    totals = roi.totals(frame, days)
    figures = headline_figures(totals, recovered_leads(tenant.id, days), prices)
    comparison = data.holdout_comparison(tenant.id, LIFT_DAYS, session.pinned_clock())
    ba = before_after(tenant.id, days)
    if view == "summary":
        client_summary(
            tenant,
            summary_figures(figures, comparison, ba),
            summary_statements(comparison, ba),
            frame,
            days=days,
            grain=grain,
        )
        return
    metric_cards(cards(figures[:3]))
    metric_cards(cards(figures[3:]))
    lift_section(comparison, ba)
    if totals.sent == 0 and totals.revenue == 0 and totals.cost == 0:
        tables.empty_state(
            "Nothing rolled up yet",
            "The metrics agent rolls sends, replies, conversions and costs into daily figures; "
            "they appear here once recovery messages have gone out.",
        )
    else:
        report(tenant.id, days, grain, prices, frame)
    attribution_section(tenant.id, days)


if __name__ == "__main__":
    render()
