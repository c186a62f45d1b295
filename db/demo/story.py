"""The demo journey's vocabulary: the loop's rates, the outcome codes, and the column records it fills.

Shared by the loop (`journey.py`), the purchases (`purchases.py`) and the table writers
(`messages.py`), so none of them imports another's internals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import vocab
from .columns import DAY

EMAIL, SMS = 0, 1
CHANNELS = ("email", "sms")
SMS_RUNG = 2
SCAN_EVERY = 300
RECENT = 60  # a message sent less than a minute before the anchor has no delivery report yet
REPLIED_STAYS_OPEN = 21 * DAY  # a reply older than this without a deal has gone cold: lost

INTENTS = tuple(vocab.REPLIES)
OOO = INTENTS.index("out_of_office")
UNSUBSCRIBE = INTENTS.index("unsubscribe")
OPEN_ENDED = tuple(INTENTS.index(name) for name in ("interested", "question", "not_now"))

# Rates chosen from typical re-engagement benchmarks (a cold-ish audience, plain-text email).
BOUNCE = 0.022
SMS_FAILED = 0.03
OPEN = {1: 0.42, 2: 0.36, 3: 0.33}
CLICK_GIVEN_OPEN = 0.24
UNSUBSCRIBE_LINK = 0.009
SPAM_REPORT = 0.0015
REPLY = {EMAIL: 0.055, SMS: 0.085}
REPLY_BY_RUNG = {1: 1.0, 2: 0.85, 3: 1.2}  # the "should I close your file?" bump
VARIANT_B_LIFT = 0.2
CONVERT_AFTER_REPLY = {"interested": 0.5, "question": 0.3, "not_now": 0.08}
CONVERT_AFTER_CLICK = 0.09
CONVERT_AFTER_DELIVERY = 0.008
CONVERT_ON_THEIR_OWN = 0.015  # per 30 days: the base rate at which a quiet lead buys with no one writing to it
ATTRIBUTION_WINDOW = 30 * DAY  # app/domain/conversions.ATTRIBUTION_WINDOW: a sale credits the last touch this recent
BACKLOG_SHARE = 0.05  # crossed a rung but not scanned yet (scan cap), so the demo scanner has work
FIRST_SCAN_REACH_DAYS = 28  # the first campaign also took on the leads gone quiet this long before it

STATUSES = ("pending", "sent", "delivered", "failed")
PENDING, SENT, DELIVERED, FAILED = range(4)
STOP_EVENTS = ("replied", "unsubscribed", "spamreport", "converted", "exhausted", "campaign_completed")
STOPPED_BY_LEAD = (0, 1, 2)
LEAD_STATES = ("active", "silent", "in_recovery", "replied", "recovered", "lost", "control")
ENROLLMENT_STATUSES = ("active", "waiting", "completed", "stopped", "control")


@dataclass
class Messages:
    """One entry per outbound message; times are epoch seconds, -1 when it did not happen."""

    lead: np.ndarray
    rung: np.ndarray
    channel: np.ndarray
    variant: np.ndarray
    due_s: np.ndarray
    send_s: np.ndarray  # when it went (or, when pending, when it may go)
    status: np.ndarray
    delivered_s: np.ndarray
    failed_s: np.ndarray
    open_s: np.ndarray
    click_s: np.ndarray
    unsubscribe_s: np.ndarray
    spam_s: np.ndarray
    reply_s: np.ndarray
    intent: np.ndarray  # index into INTENTS, -1 without a reply

    @property
    def size(self) -> int:
        return len(self.lead)


@dataclass
class Journey:
    """Per-lead outcome of the loop, plus every message it produced."""

    campaign: np.ndarray  # global campaign index of the episode, -1 when never eligible
    enrolled: np.ndarray
    control: np.ndarray
    variant: np.ndarray
    level: np.ndarray  # the rung the lead last climbed to in its enrollment
    silence_level: np.ndarray  # leads.silence_level: the level, or 0 once the lead showed life again
    rung_due_s: np.ndarray  # (leads, rungs): when each climbed rung was scanned, -1 otherwise
    enrollment_status: np.ndarray  # index into ENROLLMENT_STATUSES, -1 when not enrolled
    next_action_s: np.ndarray
    ended_s: np.ndarray  # when the enrollment completed or stopped, -1 while open
    stop_event: np.ndarray  # index into STOP_EVENTS, -1 while open
    state: np.ndarray  # index into LEAD_STATES
    last_activity_s: np.ndarray
    last_contacted_s: np.ndarray
    conversion_s: np.ndarray
    conversion_message: np.ndarray  # credited message index, -1 for organic ones (no message in the window)
    messages: Messages
    campaign_running: np.ndarray
    gap_s: np.ndarray  # (leads, rungs): each rung's no-reply wait


@dataclass
class Context:
    """Tenants and campaigns as per-lead columns."""

    ladder_s: np.ndarray  # (leads, rungs) seconds of silence per rung
    gap_s: np.ndarray  # (leads, rungs) no-reply wait after each rung's message
    campaign: np.ndarray  # global campaign index per lead (-1: no campaign covered its first rung)
    campaign_end_s: np.ndarray
    campaign_running: np.ndarray
    min_deal: np.ndarray  # the campaigns' audience floor
    opens_s: np.ndarray  # when the campaign started: no scan of it comes earlier (0 without one)
    anchor_s: int

    @property
    def rungs(self) -> int:
        return int(self.ladder_s.shape[1])


NEVER = np.iinfo(np.int64).max


def lognormal(rng: np.random.Generator, median: float | np.ndarray, sigma: float, size: int) -> np.ndarray:
    return (np.asarray(median) * np.exp(sigma * rng.standard_normal(size))).astype(np.int64)
