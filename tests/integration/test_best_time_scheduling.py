"""Best contact windows end to end: the writer schedules into them, the sender sends on time.

Real PostgreSQL and Redis, the offline writer (no API key). The clock is Monday 14 January 2030,
12:00 in New York (17:00 UTC); the leads live in New York; the tenant's send window is 08-20
and its quiet hours 21-08 unless a test says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import Engine

from app.services import send
from app.services.write import write_due
from app.services.write_reads import TENANT_SLOTS_TTL
from app.settings import get_settings, load_settings
from tests.integration.outbox import generous_limits

NEW_YORK = ZoneInfo("America/New_York")
MONDAY_NOON = datetime(2030, 1, 14, 12, 0, tzinfo=NEW_YORK).astimezone(UTC)


def ny(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2030, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


@pytest.fixture
def db(clean_db: Engine, redis_conn: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """An empty database and Redis, and no Anthropic key: the offline writer drafts every message."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    get_settings.cache_clear()
    yield clean_db
    get_settings.cache_clear()


def insert(engine: Engine, table: str, **values: Any) -> int:
    names = ", ".join(values)
    binds = ", ".join(f"CAST(:{k} AS jsonb)" if isinstance(v, dict) else f":{k}" for k, v in values.items())
    params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()}
    with engine.begin() as conn:
        sql = sa.text(f"INSERT INTO {table} ({names}) VALUES ({binds}) RETURNING id")
        return int(conn.execute(sql, params).scalar_one())


def tenant(engine: Engine, slug: str = "bright", **columns: Any) -> int:
    values: dict[str, Any] = {
        "slug": slug,
        "name": slug.title(),
        "sender_name": "Maya",
        "sender_email": f"maya@{slug}.example",
        "physical_address": "1 Main Street, Springfield",
        "timezone": "America/New_York",
        "send_window_start_hour": 8,
        "send_window_end_hour": 20,
        "quiet_start_hour": 21,
        "quiet_end_hour": 8,
        "settings": {"rate_limits": generous_limits()},
        **columns,
    }
    return insert(engine, "tenants", **values)


def silent_lead(engine: Engine, tenant_id: int, name: str, timezone: str = "America/New_York") -> int:
    """A lead in recovery with a due rung-1 send (email)."""
    lead_id = insert(
        engine,
        "leads",
        tenant_id=tenant_id,
        external_id=f"ext-{name}",
        first_name=name.title(),
        email=f"{name}@example.com",
        timezone=timezone,
        recovery_state="in_recovery",
        last_activity_at=MONDAY_NOON - timedelta(days=3),
    )
    campaign_id = _campaign(engine, tenant_id)
    enrollment = insert(
        engine,
        "enrollments",
        tenant_id=tenant_id,
        campaign_id=campaign_id,
        lead_id=lead_id,
        rung=1,
        current_node="rung-1",
    )
    insert(
        engine,
        "scheduled_actions",
        tenant_id=tenant_id,
        enrollment_id=enrollment,
        lead_id=lead_id,
        kind="send",
        node="rung-1",
        due_at=datetime.now(UTC) - timedelta(seconds=1),  # due by the database's clock
        dedupe_key=f"{tenant_id}:{campaign_id}:{lead_id}:rung-1:send",
        status="pending",
    )
    return lead_id


def _campaign(engine: Engine, tenant_id: int) -> int:
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT id FROM campaigns WHERE tenant_id = :t"), {"t": tenant_id}).scalar()
    return found or insert(engine, "campaigns", tenant_id=tenant_id, name="Recovery", status="running", plan={})


def clicks(engine: Engine, tenant_id: int, lead_id: int, *moments: datetime, kind: str = "click") -> None:
    """The lead's own timeline: replies (email_in) or clicks at `moments`."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO activities (tenant_id, lead_id, kind, occurred_at) VALUES (:t, :l, :k, :at)"),
            [{"t": tenant_id, "l": lead_id, "k": kind, "at": at} for at in moments],
        )


def replies(engine: Engine, tenant_id: int, lead_id: int, *moments: datetime) -> None:
    """Replies in the inbox: what the tenant's heat-map (the Replies page) counts."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO inbound_messages (tenant_id, lead_id, channel, from_address, body, received_at) "
                "VALUES (:t, :l, 'email', 'fan@example.com', 'Sounds good', :at)"
            ),
            [{"t": tenant_id, "l": lead_id, "at": at} for at in moments],
        )


def scheduled(engine: Engine, lead_id: int) -> datetime:
    with engine.connect() as conn:
        sql = sa.text("SELECT scheduled_for FROM outbound_messages WHERE lead_id = :l")
        value: datetime = conn.execute(sql, {"l": lead_id}).scalar_one()
    return value


def status(engine: Engine, lead_id: int) -> str:
    with engine.connect() as conn:
        sql = sa.text("SELECT status FROM outbound_messages WHERE lead_id = :l")
        return str(conn.execute(sql, {"l": lead_id}).scalar_one())


def tuesdays_at_ten(weeks: int) -> list[datetime]:
    """Tuesday mornings before our Monday, 10:05-10:50 New York time."""
    return [ny(15, 10, 5 + 9 * week) - timedelta(weeks=week + 1) for week in range(weeks)]


# --- where the writer puts each message ------------------------------------------------------------


def test_a_lead_whose_history_says_tuesday_ten_is_scheduled_tuesday_ten(db: Engine) -> None:
    t = tenant(db)
    regular = silent_lead(db, t, "regular")
    clicks(db, t, regular, *tuesdays_at_ten(3))
    clicks(db, t, regular, ny(8, 15), kind="email_in")  # one Tuesday-afternoon reply does not outweigh them
    clicks(db, t, regular, ny(10, 22), kind="open")  # opens are not a sign the lead reads at that hour

    report = write_due(tenant_id=t, now=MONDAY_NOON)

    assert (report["written"], report["scheduled_later"]) == (1, 1)
    assert scheduled(db, regular) == ny(15, 10)


def test_a_send_a_rep_asked_for_goes_at_once_whatever_the_history(db: Engine) -> None:
    t = tenant(db)
    regular = silent_lead(db, t, "regular")
    clicks(db, t, regular, *tuesdays_at_ten(3))
    with db.begin() as conn:
        conn.execute(
            sa.text("UPDATE scheduled_actions SET payload = CAST(:p AS jsonb) WHERE lead_id = :l"),
            {"p": json.dumps({"rung": 1, "source": "recover now by operator 7"}), "l": regular},
        )

    report = write_due(tenant_id=t, now=MONDAY_NOON)

    assert (report["written"], report["scheduled_later"]) == (1, 0)
    assert scheduled(db, regular) == MONDAY_NOON, "a rep's Recover now is not held for Tuesday 10:00"


def test_a_lead_without_history_of_its_own_gets_the_tenants_best_slot(db: Engine) -> None:
    t = tenant(db)
    newcomer = silent_lead(db, t, "newcomer")
    clicks(db, t, newcomer, *tuesdays_at_ten(2))  # two is below the threshold of its own
    fan = insert(
        db,
        "leads",
        tenant_id=t,
        external_id="ext-fan",
        first_name="Fan",
        timezone="America/New_York",
        last_activity_at=ny(9, 9, 40),
    )
    wednesdays_at_nine = [ny(9, 9, 10), ny(9, 9, 40), ny(2, 9, 20), ny(2, 10, 15)]
    replies(db, t, fan, *wednesdays_at_nine)

    write_due(tenant_id=t, now=MONDAY_NOON)

    assert scheduled(db, newcomer) == ny(16, 9)  # Wednesday 09:00, 45 hours on: inside the bound


def test_the_tenants_heat_map_is_read_only_when_a_lead_lacks_history_and_then_kept_a_while(
    db: Engine, redis_conn: redis.Redis
) -> None:
    t = tenant(db)
    regular = silent_lead(db, t, "regular")
    clicks(db, t, regular, *tuesdays_at_ten(3))
    key = f"best_time:tenant_slots:{t}"

    write_due(tenant_id=t, now=MONDAY_NOON)
    assert redis_conn.exists(key) == 0  # every lead of the batch had enough history of its own

    silent_lead(db, t, "newcomer")
    write_due(tenant_id=t, now=MONDAY_NOON)
    assert 0 < redis_conn.ttl(key) <= TENANT_SLOTS_TTL.total_seconds()


def test_a_lead_with_no_history_anywhere_goes_now_when_now_is_allowed(db: Engine) -> None:
    t = tenant(db)
    unknown = silent_lead(db, t, "unknown")

    report = write_due(tenant_id=t, now=MONDAY_NOON)

    assert report["scheduled_later"] == 0
    assert scheduled(db, unknown) == MONDAY_NOON


def test_a_lead_with_no_history_written_at_night_waits_for_the_morning(db: Engine) -> None:
    t = tenant(db)
    unknown = silent_lead(db, t, "unknown")

    write_due(tenant_id=t, now=ny(14, 22))

    assert scheduled(db, unknown) == ny(15, 8)


def test_the_best_window_is_read_in_the_leads_own_zone(db: Engine) -> None:
    t = tenant(db, send_window_start_hour=0, send_window_end_hour=24, quiet_start_hour=0, quiet_end_hour=0)
    tokyo = ZoneInfo("Asia/Tokyo")
    traveller = silent_lead(db, t, "traveller", timezone="Asia/Tokyo")
    tuesday_ten_tokyo = datetime(2030, 1, 15, 10, 0, tzinfo=tokyo)
    clicks(db, t, traveller, *(tuesday_ten_tokyo - timedelta(weeks=w) for w in (1, 2, 3)))

    write_due(tenant_id=t, now=MONDAY_NOON)  # Tuesday 02:00 in Tokyo

    assert scheduled(db, traveller) == tuesday_ten_tokyo.astimezone(UTC)


def test_a_zone_nobody_knows_is_utc_for_the_history_and_the_slot_alike(db: Engine) -> None:
    t = tenant(db)
    lost = silent_lead(db, t, "lost", timezone="Mars/Olympus_Mons")
    clicks(db, t, lost, *tuesdays_at_ten(3))  # 15:05-15:23 UTC

    write_due(tenant_id=t, now=MONDAY_NOON)

    assert scheduled(db, lost) == datetime(2030, 1, 15, 15, 0, tzinfo=UTC)


def test_a_best_window_in_the_tenants_quiet_hours_is_moved_to_where_they_end(db: Engine) -> None:
    t = tenant(db, quiet_start_hour=12, quiet_end_hour=14)  # a lunch break
    luncher = silent_lead(db, t, "luncher")
    clicks(db, t, luncher, *(ny(15, 13, 20) - timedelta(weeks=w) for w in (1, 2, 3)))
    clicks(db, t, luncher, *(ny(15, 14, 30) - timedelta(weeks=w) for w in (1, 2)))

    write_due(tenant_id=t, now=MONDAY_NOON)

    assert scheduled(db, luncher) == ny(15, 14)  # the best window is Tuesday 13-15; 13:00 is quiet


def test_a_best_window_entirely_in_quiet_hours_gives_the_first_allowed_moment(db: Engine) -> None:
    t = tenant(db, quiet_start_hour=12, quiet_end_hour=14)
    luncher = silent_lead(db, t, "luncher")
    clicks(db, t, luncher, *(ny(15, 13, 20) - timedelta(weeks=w) for w in (1, 2, 3)))

    write_due(tenant_id=t, now=MONDAY_NOON)

    assert scheduled(db, luncher) == ny(14, 14)  # the window is 13-14, all quiet: today after lunch


# --- the sender honours the slot and the quiet hours ------------------------------------------------


def test_the_sender_sends_the_message_in_its_slot_and_not_before(db: Engine) -> None:
    t = tenant(db)
    regular = silent_lead(db, t, "regular")
    clicks(db, t, regular, *tuesdays_at_ten(3))
    write_due(tenant_id=t, now=MONDAY_NOON)
    settings = load_settings()

    early = send.send_due(tenant_id=t, settings=settings, now=ny(15, 9, 59))
    on_time = send.send_due(tenant_id=t, settings=settings, now=ny(15, 10))

    assert early.get("claimed", 0) == 0
    assert on_time["sent"] == 1
    assert status(db, regular) == "sent"


def test_the_sender_defers_a_message_due_in_the_tenants_quiet_hours_to_their_end(db: Engine) -> None:
    t = tenant(db, send_window_start_hour=0, send_window_end_hour=24, quiet_start_hour=12, quiet_end_hour=14)
    lead = silent_lead(db, t, "lead")
    write_due(tenant_id=t, now=ny(14, 11, 30))  # allowed then: scheduled for 11:30
    settings = load_settings()

    during_lunch = send.send_due(tenant_id=t, settings=settings, now=ny(14, 12, 30))
    deferred_to = scheduled(db, lead)
    after_lunch = send.send_due(tenant_id=t, settings=settings, now=ny(14, 14))

    assert during_lunch["deferred"] == 1
    assert deferred_to == ny(14, 14)
    assert status(db, lead) == "sent"
    assert after_lunch["sent"] == 1


def test_quiet_hours_covering_the_whole_window_keep_the_message_pending_never_drop_it(db: Engine) -> None:
    t = tenant(db, send_window_start_hour=9, send_window_end_hour=17, quiet_start_hour=8, quiet_end_hour=18)
    lead = silent_lead(db, t, "lead")
    write_due(tenant_id=t, now=MONDAY_NOON)

    counts = send.send_due(tenant_id=t, settings=load_settings(), now=MONDAY_NOON)

    assert counts["deferred"] == 1
    assert status(db, lead) == "pending"
    assert scheduled(db, lead) == MONDAY_NOON + timedelta(days=1)
