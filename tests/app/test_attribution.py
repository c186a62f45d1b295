"""Attribution on the ROI page: first vs last touch on hand-made rows, and on the demo data the
table (per touch) equals SQL of the test's own, with a CSV export per table of the page."""

from __future__ import annotations

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
from tests.app.driver import attribution_rows, downloaded, open_page, signed_in, truncate, value


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


def _csv(at: AppTest, key: str, downloads: dict[str, bytes]) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(downloaded(at, key, downloads)))


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
            assert len(_csv(at, "roi.attribution.csv", downloads)) == len(shown)
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
    for key in ("roi.daily", "roi.channels"):
        assert len(_csv(at, f"{key}.csv", downloads)) == len(_shown(at, key))
    assert len(_shown(at, "roi.daily")) == 30  # the daily table spans the whole period
