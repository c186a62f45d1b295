"""The dashboard page's pure helpers: wording, signs, keys and the tenant's local day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from components import format as fmt
from components.metrics import signed
from db import dashboard
from db.dashboard import NO_OWNER, SilentFilter
from pages import recovery

HOSTILE_NAME = "[Click](http://evil.example) **now**"
FEED_ITEMS = 26  # more than the feed shows, so the cut is tested too
NEW_YORK = ZoneInfo("America/New_York")  # every tenant's zone (factories.build)
# The instants the world is built around and the page is pinned to: the real time of the run
# (to the second), and 00:00:30 on a winter Tuesday in New York (05:00:30 UTC).
CLOCKS = {
    "real-time": None,
    "new-york-00:00:30": dt.datetime(2026, 1, 13, 0, 0, 30, tzinfo=NEW_YORK),
}


def test_plain_escapes_every_markdown_sign() -> None:
    assert fmt.plain("[a](http://x.y) *b* <i>") == "\\[a\\]\\(http\\:\\/\\/x\\.y\\) \\*b\\* \\<i\\>"
    assert fmt.plain("Pat Plain") == "Pat Plain"
    assert fmt.plain(None) == ""
    assert fmt.plain(float("nan")) == ""


def test_feed_lines_name_what_happened() -> None:
    assert recovery.feed_line("open", "email", "") == "Email opened"
    assert recovery.feed_line("click", "sms", "") == "SMS clicked"
    assert recovery.feed_line("message", "sms", "pending") == "SMS written (pending)"
    assert recovery.feed_line("inbound", "email", "not_now") == "Email reply (not now)"
    assert recovery.feed_line("conversion", None, "1500.00") == "Recovered, $1,500"
    assert recovery.feed_line("held_out", None, "rung 2") == "Held out as control (rung 2)"
    assert recovery.feed_line("mystery", None, "") == "Message mystery"


def test_signed_puts_the_sign_the_arrow_follows() -> None:
    assert signed("12", 12) == "+12"
    assert signed("3", -3) == "-3"
    assert signed("-3", -3) == "-3"
    assert signed("0", 0) == "±0"


def test_points_need_both_rates() -> None:
    assert recovery.points(0.25, 0.2) == pytest.approx(5.0)
    assert recovery.points(None, 0.2) is None
    assert recovery.points(0.1, None) is None


def test_table_key_changes_with_the_filter_only() -> None:
    assert recovery.table_key(3) == "dashboard.silent.3"
    narrowed = recovery.table_key(3, SilentFilter(rungs=(1,)))
    assert narrowed.startswith("dashboard.silent.3.")
    assert narrowed != recovery.table_key(3)
    assert narrowed == recovery.table_key(3, SilentFilter(rungs=(1,)))
    assert recovery.table_key(3, SilentFilter(sort="value")) != narrowed


def test_a_filter_narrows_only_when_a_bound_is_set() -> None:
    assert not SilentFilter(sort="value").narrows
    assert SilentFilter(owners=(NO_OWNER,)).narrows
    assert SilentFilter(max_score=99).narrows
    assert SilentFilter(min_value=0.0).narrows


def test_feed_frame_reads_relative_times() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    feed = pd.DataFrame(
        {
            "at": [now - dt.timedelta(seconds=10), now - dt.timedelta(hours=3)],
            "kind": ["delivered", "agent"],
            "channel": ["email", None],
            "lead_id": [1, None],
            "lead": ["Ann Lee", None],
            "detail": ["", "scanner failed"],
        }
    )
    shown = recovery.feed_frame(feed, now)
    assert shown.to_dict("list") == {
        "When": ["just now", "3 h ago"],
        "What": ["Email delivered", "Agent run\\: scanner failed"],
        "Lead": ["Ann Lee", ""],
    }


def test_local_today_starts_at_the_tenants_midnight() -> None:
    now = dt.datetime(2026, 3, 8, 3, 30, tzinfo=dt.UTC)  # 22:30 on the 7th in New York
    today, midnight = dashboard.local_today("America/New_York", now)
    assert today == dt.date(2026, 3, 7)
    assert midnight == dt.datetime(2026, 3, 7, 5, 0, tzinfo=dt.UTC)
    assert dashboard.local_today("Not/AZone", now) == (dt.date(2026, 3, 8), dt.datetime(2026, 3, 8, tzinfo=dt.UTC))
    assert dashboard.local_today(None, now)[0] == dt.date(2026, 3, 8)
