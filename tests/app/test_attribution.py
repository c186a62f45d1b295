"""Attribution on the ROI page: first vs last touch on hand-made rows, and on the demo data the
table (per touch) equals SQL of the test's own; so does each table's CSV export, header and
values, read back as the file a person downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from app.services import demo, operators
from db import attribution as attr
from db.models import Campaign, Conversion, Lead, OutboundMessage
from tests.app import factories
from tests.app.driver import attribution_rows, downloaded, open_page, rows, signed_in, truncate, value


def _insert(conn: sa.Connection, model: type, **values: object) -> int:
    return int(conn.execute(sa.insert(model).values(**values).returning(model.id)).scalar_one())  # type: ignore[attr-defined]


def test_first_and_last_touch_credit_different_messages(clean_db: Engine) -> None:
    world = factories.build(clean_db)
    tenant, now = world.tenants["empty"], world.now
    with clean_db.begin() as conn:
        email_campaign = _insert(conn, Campaign, tenant_id=tenant, name="Email ladder", status="running")
        sms_campaign = _insert(conn, Campaign, tenant_id=tenant, name="SMS nudge", status="running")
        lead = _insert(
            conn,
            Lead,
            tenant_id=tenant,
            external_id="x-1",
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.com",
            deal_value=Decimal(1000),
            last_activity_at=now - dt.timedelta(days=20),
            recovery_state="recovered",
        )
        for i, (campaign, channel, source, days_ago, cost) in enumerate(
            ((email_campaign, "email", "ai", 10, "0.010000"), (sms_campaign, "sms", "template", 3, "0.050000"))
        ):
            _insert(
                conn,
                OutboundMessage,
                tenant_id=tenant,
                campaign_id=campaign,
                lead_id=lead,
                channel=channel,
                to_address="ada@example.com",
                body="Hi",
                source=source,
                status="sent",
                cost_usd=Decimal(cost),
                sent_at=now - dt.timedelta(days=days_ago),
                dedupe_key=f"t:{campaign}:{lead}:{i}",
            )
        _insert(
            conn,
            Conversion,
            tenant_id=tenant,
            lead_id=lead,
            value=Decimal(700),
            method="ai",
            converted_at=now - dt.timedelta(days=1),
        )

    def table(touch: attr.Touch, by: tuple[attr.AttributionKey, ...]) -> list[dict[str, Any]]:
        frame = attr.attribution(clean_db, tenant, days=30, touch=touch, by=by, now=now)
        return list(frame.to_dict("records"))

    first = table("first", ("campaign", "channel", "method"))
    last = table("last", ("campaign", "channel", "method"))
    email = {"campaign": "Email ladder", "channel": "email", "method": "AI", "sent": 1, "cost": 0.01}
    sms = {"campaign": "SMS nudge", "channel": "sms", "method": "Template", "sent": 1, "cost": 0.05}
    won = {"conversions": 1, "revenue": 700.0, "recovered": 1}
    lost = {"conversions": 0, "revenue": 0.0, "recovered": 0, "cost_per_recovered": None}
    assert first == [{**email, **won, "cost_per_recovered": 0.01}, {**sms, **lost}]
    assert last == [{**sms, **won, "cost_per_recovered": 0.05}, {**email, **lost}]
    total = table("first", ())
    assert total == [
        {"conversions": 1, "revenue": 700.0, "recovered": 1, "sent": 2, "cost": 0.06, "cost_per_recovered": 0.06}
    ]
    assert table("last", ()) == total
    # A window that starts after the first message: both touches credit the SMS.
    assert attr.attribution(clean_db, tenant, days=5, touch="first", by=("channel",), now=now)["channel"].tolist() == [
        "sms"
    ]
    with pytest.raises(ValueError, match="attribution keys"):
        attr.attribution(clean_db, tenant, touch="first", by=("lead",))  # type: ignore[arg-type]


def touched_twice(engine: Engine, tenant_id: int) -> None:
    """One lead reached by a template email, then an AI SMS, then won: whatever the demo holds,
    first and last touch credit different channels and methods for this conversion."""
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        campaign = conn.execute(sa.select(Campaign.id).where(Campaign.tenant_id == tenant_id).limit(1)).scalar_one()
        lead = conn.execute(
            sa.insert(Lead)
            .values(tenant_id=tenant_id, external_id="twice", first_name="Twice", last_activity_at=now)
            .returning(Lead.id)
        ).scalar_one()
        sent = []
        for n, (channel, source, days_ago) in enumerate((("email", "template", 5), ("sms", "ai", 2))):
            sent.append(
                conn.execute(
                    sa.insert(OutboundMessage)
                    .values(
                        tenant_id=tenant_id,
                        campaign_id=campaign,
                        lead_id=lead,
                        channel=channel,
                        to_address="twice@example.com",
                        body="Hello again",
                        source=source,
                        status="delivered",
                        sent_at=now - dt.timedelta(days=days_ago),
                        dedupe_key=f"twice:{n}",
                    )
                    .returning(OutboundMessage.id)
                ).scalar_one()
            )
        conn.execute(
            sa.insert(Conversion).values(
                tenant_id=tenant_id,
                lead_id=lead,
                campaign_id=campaign,
                message_id=sent[-1],
                channel="sms",
                value=Decimal("900"),
                method="ai",
                converted_at=now - dt.timedelta(days=1),
            )
        )


@pytest.fixture(scope="module")
def seeded(engine: Engine) -> Iterator[tuple[int, str]]:
    truncate(engine)
    demo.seed(tenants=1, leads=400, seed=11)
    tenant_id = int(value(engine, "SELECT id FROM tenants ORDER BY id LIMIT 1"))
    email = value(engine, "SELECT email FROM operators WHERE email LIKE 'demo@%' ORDER BY id LIMIT 1")
    touched_twice(engine, tenant_id)
    yield tenant_id, str(email)
    truncate(engine)


def _csv(at: AppTest, key: str, downloads: dict[str, bytes]) -> tuple[list[str], list[dict[str, str]]]:
    """The downloaded file's header and rows, as text: what a spreadsheet would open."""
    text = downloaded(at, key, downloads).decode("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    found = list(reader)
    return list(reader.fieldnames or []), found


def _number(cell: str) -> float | None:
    """A CSV cell as a number; an empty cell (a figure left blank) as None."""
    return None if cell == "" else float(cell)


ATTRIBUTION_FIGURES = ["conversions", "revenue", "recovered", "sent", "cost", "cost_per_recovered"]
DAILY_HEADER = [
    "period",
    "email_sent",
    "sms_sent",
    "conversions",
    "revenue",
    "message_cost",
    "ai_cost",
    "fixed_cost",
    "cost",
    "net",
    "roi",
]
CHANNEL_HEADER = ["channel", "sent", "replied", "conversions", "revenue", "cost", "roi"]
EMAIL_PRICE, SMS_PRICE = 0.001, 0.0079  # the default unit prices; the demo tenant sets none

_LOCAL_TODAY_SQL = "SELECT (now() AT TIME ZONE timezone)::date FROM tenants WHERE id = :t"


def daily_rows(engine: Engine, tenant_id: int, last: dt.date, days: int = 30) -> list[list[Any]]:
    """The ROI table per local day of the `days` ending on `last`, at the default prices:
    sends, conversions and revenue from the rollup, AI cost from ai_generations by the tenant's
    local day, fixed cost = the tenant's saved fixed monthly cost ÷ 30.4375 (365.25 ÷ 12) a day;
    cost = emails × email price + SMS × SMS price + AI cost + fixed cost, net = revenue − cost,
    ROI = net ÷ cost (blank when nothing was spent)."""
    monthly = value(
        engine, "SELECT coalesce(settings->>'fixed_monthly_cost', '0') FROM tenants WHERE id = :t", t=tenant_id
    )
    fixed = float(monthly) / 30.4375
    found = rows(
        engine,
        """WITH z AS (SELECT timezone FROM tenants WHERE id = :t),
                d AS (SELECT (CAST(:last AS date) - n) AS day FROM generate_series(0, :days - 1) AS n),
                m AS (SELECT day, sum(sent) FILTER (WHERE channel = 'email') AS email,
                             sum(sent) FILTER (WHERE channel = 'sms') AS sms,
                             sum(conversions) AS conversions, sum(revenue) AS revenue
                      FROM metrics_daily WHERE tenant_id = :t GROUP BY day),
                g AS (SELECT (g.created_at AT TIME ZONE z.timezone)::date AS day, sum(g.cost_usd) AS ai
                      FROM ai_generations g, z WHERE g.tenant_id = :t GROUP BY 1)
           SELECT d.day, coalesce(m.email, 0) AS email, coalesce(m.sms, 0) AS sms,
                  coalesce(m.conversions, 0) AS conversions, coalesce(m.revenue, 0)::float8 AS revenue,
                  coalesce(g.ai, 0)::float8 AS ai
           FROM d LEFT JOIN m ON m.day = d.day LEFT JOIN g ON g.day = d.day ORDER BY d.day""",
        t=tenant_id,
        last=last,
        days=days,
    )
    out = []
    for r in found:
        message_cost = int(r.email) * EMAIL_PRICE + int(r.sms) * SMS_PRICE
        cost = message_cost + r.ai + fixed
        net = r.revenue - cost
        roi = net / cost if cost else None
        figures = [int(r.email), int(r.sms), int(r.conversions), r.revenue, message_cost, r.ai, fixed, cost, net, roi]
        out.append([r.day.isoformat(), *figures])
    return out


def channel_rows(engine: Engine, tenant_id: int, last: dt.date, days: int = 30) -> dict[str, list[Any]]:
    """Per channel over the same days: sent, replied, conversions, revenue, cost = sent × the
    channel's price, ROI = (revenue − cost) ÷ cost."""
    found = rows(
        engine,
        """SELECT channel, sum(sent) AS sent, sum(replied) AS replied, sum(conversions) AS conversions,
                  sum(revenue)::float8 AS revenue
           FROM metrics_daily WHERE tenant_id = :t AND day BETWEEN CAST(:last AS date) - :days + 1 AND :last
           GROUP BY channel""",
        t=tenant_id,
        last=last,
        days=days,
    )
    out = {}
    for r in found:
        cost = int(r.sent) * {"email": EMAIL_PRICE, "sms": SMS_PRICE}[r.channel]
        roi = (r.revenue - cost) / cost if cost else None
        out[r.channel] = [int(r.sent), int(r.replied), int(r.conversions), r.revenue, cost, roi]
    return out


def assert_attribution_csv(
    at: AppTest, downloads: dict[str, bytes], key: str, expected: dict[str, tuple[Any, ...]]
) -> None:
    header, lines = _csv(at, "roi.attribution.csv", downloads)
    assert header == [key, *ATTRIBUTION_FIGURES]
    got = {line[key]: [_number(line[name]) for name in ATTRIBUTION_FIGURES] for line in lines}
    assert got.keys() == expected.keys()
    for group, figures in expected.items():
        assert got[group] == pytest.approx(list(figures)), (key, group)


def _none(x: Any) -> Any:
    """The table shows a missing figure as NaN; the SQL says None."""
    return None if pd.isna(x) else x


TABLES = ("roi.daily", "roi.channels", "roi.attribution")  # the page's tables, in page order


def _shown(at: AppTest, key: str) -> pd.DataFrame:
    assert len(at.dataframe) == len(TABLES)
    return at.dataframe[TABLES.index(key)].value


def test_touch_switch_and_csv_exports_equal_sql(
    seeded: tuple[int, str], engine: Engine, downloads: dict[str, bytes]
) -> None:
    tenant_id, email = seeded
    before = value(engine, _LOCAL_TODAY_SQL, t=tenant_id)  # the tenant's local day as the page first reads
    at = open_page(signed_in(email, operators.DEMO_PASSWORD), "pages/roi_report.py")
    for key in ("campaign", "channel", "method"):
        at.selectbox(key="roi.attribution_by").set_value(key).run()
        for touch in ("first", "last"):
            at.segmented_control(key="roi.touch").set_value(touch).run()
            assert not at.exception, [e.value for e in at.exception]
            expected = attribution_rows(engine, tenant_id, 30, touch, key)
            shown = _shown(at, "roi.attribution")
            got = {
                r[key]: (
                    r["conversions"],
                    r["revenue"],
                    r["recovered"],
                    r["sent"],
                    r["cost"],
                    _none(r["cost_per_recovered"]),
                )
                for r in shown.to_dict("records")
            }
            assert got.keys() == expected.keys()
            for group, figures in expected.items():
                assert got[group][:4] == figures[:4], (key, touch, group)
                assert got[group][4:] == pytest.approx(figures[4:]), (key, touch, group)
            assert_attribution_csv(at, downloads, key, expected)
    switched = []
    for key in ("campaign", "channel", "method"):
        at.selectbox(key="roi.attribution_by").set_value(key).run()
        by_touch = {}
        for touch in ("first", "last"):
            at.segmented_control(key="roi.touch").set_value(touch).run()
            by_touch[touch] = _shown(at, "roi.attribution").to_dict("records")
        switched.append(by_touch["first"] != by_touch["last"])
    # The lead of `touched_twice` credits an email first and an SMS last: the switch is not a no-op.
    assert switched[1:] == [True, True], "channel and method differ between first and last touch"
    # The daily and channel files cover the tenant's last 30 local days, ending on the page's today
    # when it read them: the tenant's local day when the test began or now (a midnight may pass).
    after = value(engine, _LOCAL_TODAY_SQL, t=tenant_id)
    header, lines = _csv(at, "roi.daily.csv", downloads)
    assert header == DAILY_HEADER
    last = dt.date.fromisoformat(lines[-1]["period"])
    assert last in {before, after}
    expected_days = daily_rows(engine, tenant_id, last)
    assert len(lines) == len(expected_days) == 30
    assert [line["period"] for line in lines] == [day[0] for day in expected_days]
    for line, day in zip(lines, expected_days, strict=True):
        assert [_number(line[name]) for name in DAILY_HEADER[1:]] == pytest.approx(day[1:]), day[0]
    assert sum(day[1] + day[2] for day in expected_days) > 0, "the demo sent messages in the period"

    header, lines = _csv(at, "roi.channels.csv", downloads)
    assert header == CHANNEL_HEADER
    got = {line["channel"]: [_number(line[name]) for name in CHANNEL_HEADER[1:]] for line in lines}
    expected_channels = channel_rows(engine, tenant_id, last)
    assert got.keys() == expected_channels.keys() == {"email", "sms"}
    for channel, figures in expected_channels.items():
        assert got[channel] == pytest.approx(figures), channel
