"""What happened to each lead after it went quiet: the recovery loop, played forward in time.

The loop is the product's own (DESIGN §5, docs/pipeline.md, app/services/scan.py): the scan
enrolls a lead when its silence crosses the next rung of its tenant's ladder, the md5
holdout bucket keeps ~10 % as control (never contacted, but still climbing), the writer picks
the channel as `app/domain/outreach.pick_channel` does (SMS at rung 2 when allowed, else
email), the sender waits for the send window of the lead's own time zone; the rung's
enrollment waits out its no-reply gap before the next scan may climb the lead again. Leads
open, click, bounce, unsubscribe, reply and sometimes buy.

Playing it rung by rung over whole columns keeps every table consistent with every other:
nothing is sent to a suppressed address, a control lead is never contacted, a stopped
enrollment gets no further rung, and a conversion always follows the touch it credits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import purchases, vocab
from .columns import DAY, HOUR, LocalClock, chance, pick, shares
from .leads import Leads
from .story import (
    BACKLOG_SHARE,
    BOUNCE,
    CLICK_GIVEN_OPEN,
    DELIVERED,
    EMAIL,
    ENROLLMENT_STATUSES,
    FAILED,
    FIRST_SCAN_REACH_DAYS,
    LEAD_STATES,
    NEVER,
    OOO,
    OPEN,
    OPEN_ENDED,
    PENDING,
    RECENT,
    REPLIED_STAYS_OPEN,
    REPLY,
    REPLY_BY_RUNG,
    SCAN_EVERY,
    SENT,
    SMS,
    SMS_FAILED,
    SMS_RUNG,
    SPAM_REPORT,
    STOP_EVENTS,
    STOPPED_BY_LEAD,
    UNSUBSCRIBE,
    UNSUBSCRIBE_LINK,
    VARIANT_B_LIFT,
    Context,
    Journey,
    Messages,
    lognormal,
)
from .world import HOLDOUT_PERCENT, SEND_WINDOW, TenantPlan


def campaign_context(leads: Leads, plans: list[TenantPlan], anchor_s: int) -> Context:
    """Which campaign handled each lead's silence episode: the one running at its first rung, or
    for a lead already silent when the tenant's first campaign started, that one if it went
    quiet at most FIRST_SCAN_REACH_DAYS before (the switch-on backlog); older ones none."""
    n = leads.size
    rungs = max((len(p.ladder_hours) for p in plans), default=3)
    hours = np.array([list(p.ladder_hours) + [10**6] * (rungs - len(p.ladder_hours)) for p in plans])
    gaps = np.concatenate([np.diff(hours, axis=1), hours[:, -1:]], axis=1)  # app/domain/recovery_plan
    ladder_s = (hours * HOUR)[leads.tenant]
    first_due = leads.quiet_s + ladder_s[:, 0]
    campaign = np.full(n, -1, dtype=np.int64)
    end = np.full(n, NEVER, dtype=np.int64)
    running = np.zeros(n, dtype=bool)
    opens = np.zeros(n, dtype=np.int64)
    offset = 0
    for t, plan in enumerate(plans):
        rows = slice(int(np.searchsorted(leads.tenant, t)), int(np.searchsorted(leads.tenant, t, "right")))
        for number, c in enumerate(plan.campaigns):
            ends = NEVER if c.ends_s is None else c.ends_s
            reach = FIRST_SCAN_REACH_DAYS * DAY if number == 0 else 0
            inside = (first_due[rows] >= c.starts_s - reach) & (first_due[rows] < ends)
            campaign[rows][inside] = offset + number
            end[rows][inside] = ends
            running[rows][inside] = c.status == "running"
            opens[rows][inside] = c.starts_s
        offset += len(plan.campaigns)
    floor = np.array([p.min_deal_value for p in plans], dtype=float)[leads.tenant]
    return Context(ladder_s, (gaps * HOUR)[leads.tenant], campaign, end, running, floor, opens, anchor_s)


Buckets = Callable[[np.ndarray], np.ndarray]


def play(
    leads: Leads, plans: list[TenantPlan], clock: LocalClock, buckets: Buckets, seed: int, anchor_s: int
) -> Journey:
    """Run the loop for every lead at once, rung by rung; `buckets(rows)` are their holdout buckets."""
    rng = np.random.default_rng([seed, 3])
    ctx = campaign_context(leads, plans, anchor_s)
    bought_s = purchases.on_their_own(np.random.default_rng([seed, 14]), leads, ctx)
    enrolled, control = _enroll(rng, leads, ctx, buckets)
    run = _Run(leads, ctx, clock, rng, variant=rng.integers(0, 2, leads.size), alive=enrolled & ~control)
    for rung in range(1, ctx.rungs + 1):
        run.play_rung(rung)
    messages = run.messages()
    level, rung_due = _control_climbs(rng, leads, ctx, control, run)
    conversion_s, conversion_message = purchases.conversions(rng, leads, messages, run.stop_event, anchor_s)
    organic_s = purchases.organic(np.random.default_rng([seed, 15]), leads, enrolled, control, rung_due[:, 0], anchor_s)
    purchases.add_organic(conversion_s, conversion_message, organic_s, control, messages)
    conversion_s[bought_s >= 0] = bought_s[bought_s >= 0]
    return _settle(leads, ctx, run, messages, enrolled, control, level, rung_due, conversion_s, conversion_message)


def _enroll(rng: np.random.Generator, leads: Leads, ctx: Context, buckets: Buckets) -> tuple[np.ndarray, np.ndarray]:
    """Audience leads past rung 1 that a scan has seen; the md5 bucket picks the control group."""
    reachable = (leads.has_email & leads.consent_email) | (leads.has_phone & leads.consent_sms)
    crossed = leads.quiet_s + ctx.ladder_s[:, 0] <= ctx.anchor_s - SCAN_EVERY
    scanned = crossed & ~chance(rng, BACKLOG_SHARE, leads.size)
    enrolled = scanned & (ctx.campaign >= 0) & reachable & (leads.deal_value >= ctx.min_deal)
    control = np.zeros(leads.size, dtype=bool)
    rows = np.flatnonzero(enrolled)
    control[rows] = buckets(rows) < HOLDOUT_PERCENT
    return enrolled, control


def _control_climbs(
    rng: np.random.Generator, leads: Leads, ctx: Context, control: np.ndarray, run: _Run
) -> tuple[np.ndarray, np.ndarray]:
    """Control leads climb at every rung their silence crosses (they are never busy)."""
    level = run.level.copy()
    due = run.rung_due.copy()
    for rung in range(1, ctx.rungs + 1):
        crossed = np.maximum(leads.quiet_s + ctx.ladder_s[:, rung - 1], ctx.opens_s + (rung - 1) * SCAN_EVERY)
        at = crossed + rng.integers(0, SCAN_EVERY, leads.size)  # the backlog: a rung per scan
        climbs = control & (((at <= ctx.anchor_s) & (at < ctx.campaign_end_s)) | (rung == 1))
        level[climbs] = rung
        due[climbs, rung - 1] = at[climbs]
    return level, due


@dataclass
class _Run:
    """The loop's state between rungs, for treated leads."""

    leads: Leads
    ctx: Context
    clock: LocalClock
    rng: np.random.Generator
    variant: np.ndarray
    alive: np.ndarray
    parts: list[dict[str, np.ndarray]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n, rungs = self.leads.size, self.ctx.rungs
        self.email_blocked = np.zeros(n, dtype=bool)
        self.sms_blocked = np.zeros(n, dtype=bool)
        self.level = np.zeros(n, dtype=np.int64)
        self.free_s = np.zeros(n, dtype=np.int64)  # when the current rung's enrollment is done
        self.rung_due = np.full((n, rungs), -1, dtype=np.int64)
        self.pending = np.zeros(n, dtype=bool)
        self.stop_s = np.full(n, -1, dtype=np.int64)
        self.stop_event = np.full(n, -1, dtype=np.int64)
        self.reset_s = np.full(n, -1, dtype=np.int64)  # the lead's last own sign of life after going quiet

    def play_rung(self, rung: int) -> None:
        ctx, leads, anchor = self.ctx, self.leads, self.ctx.anchor_s
        crossed = np.maximum(leads.quiet_s + ctx.ladder_s[:, rung - 1], ctx.opens_s)
        due = np.maximum(crossed, self.free_s) + self.rng.integers(0, SCAN_EVERY, leads.size)
        email_ok = leads.has_email & leads.consent_email & ~self.email_blocked
        sms_ok = leads.has_phone & leads.consent_sms & ~self.sms_blocked
        in_campaign = (due < ctx.campaign_end_s) | (rung == 1)  # the campaign that enrolled it takes rung 1
        climbs = self.alive & (email_ok | sms_ok) & (due <= anchor) & in_campaign
        self.level[climbs] = rung
        self.rung_due[climbs, rung - 1] = due[climbs]
        use_sms = sms_ok & (rung == SMS_RUNG)
        reached = climbs & (use_sms | email_ok)
        self.free_s[climbs & ~reached] = due[climbs & ~reached]  # the writer cancels: nothing to wait for
        rows = np.flatnonzero(reached)
        part = self._send(rows, rung, use_sms[rows].astype(np.int64), due[rows])
        self.free_s[rows] = part["send_s"] + ctx.gap_s[rows, rung - 1]
        self.pending[rows] = part["status"] == PENDING
        self._react(rows, part)
        self.parts.append(part)

    def _send(self, rows: np.ndarray, rung: int, channel: np.ndarray, due: np.ndarray) -> dict[str, np.ndarray]:
        rng, m, anchor = self.rng, len(rows), self.ctx.anchor_s
        ready = due + rng.integers(20, 120, m)  # the writer drafts, the sender claims
        window = (np.full(m, SEND_WINDOW[0]), np.full(m, SEND_WINDOW[1]))
        send = self.clock.defer_into_window(self.leads.zone[rows], ready, *window)
        send = send + np.where(send > ready, rng.integers(0, 90 * 60, m), 0)  # the morning queue drains
        status = np.where(send > anchor, PENDING, np.where(send > anchor - RECENT, SENT, DELIVERED))
        email = channel == EMAIL
        failed = (status == DELIVERED) & np.where(email, chance(rng, BOUNCE, m), chance(rng, SMS_FAILED, m))
        delivered = (status == DELIVERED) & ~failed
        status = np.where(failed, FAILED, status)
        delivered_s = np.where(delivered, send + np.where(email, rng.integers(2, 40, m), rng.integers(1, 10, m)), -1)
        warmth, variant = self.leads.warmth[rows], self.variant[rows]
        opened = delivered & email & chance(rng, OPEN[rung] * (1 + 0.1 * variant) * (0.7 + 0.6 * warmth), m)
        open_s = _when(opened, delivered_s + lognormal(rng, 2 * HOUR, 1.3, m), anchor)
        click_s = _when((open_s >= 0) & chance(rng, CLICK_GIVEN_OPEN, m), open_s + lognormal(rng, 90, 1.0, m), anchor)
        unsubscribed = delivered & email & chance(rng, UNSUBSCRIBE_LINK, m)
        unsubscribe_s = _when(unsubscribed, np.maximum(open_s, delivered_s) + rng.integers(5, 300, m), anchor)
        spam = delivered & email & (unsubscribe_s < 0) & chance(rng, SPAM_REPORT, m)
        spam_s = _when(spam, delivered_s + lognormal(rng, HOUR, 1.0, m), anchor)
        reply_p = np.array([REPLY[EMAIL], REPLY[SMS]])[channel] * REPLY_BY_RUNG[rung]
        reply_p = reply_p * (1 + VARIANT_B_LIFT * variant) * (0.4 + 1.5 * warmth)
        replying = delivered & (unsubscribe_s < 0) & (spam_s < 0) & chance(rng, reply_p, m)
        typical = np.where(email, 3 * HOUR, 25 * 60)
        reply_s = _when(replying, delivered_s + lognormal(rng, typical, 1.2, m), anchor)
        return {
            "lead": rows,
            "rung": np.full(m, rung),
            "channel": channel,
            "variant": variant,
            "due_s": due,
            "send_s": send,
            "status": status,
            "delivered_s": delivered_s,
            "failed_s": np.where(failed, send + rng.integers(2, 30, m), -1),
            "open_s": open_s,
            "click_s": click_s,
            "unsubscribe_s": unsubscribe_s,
            "spam_s": spam_s,
            "reply_s": reply_s,
            "intent": np.where(reply_s >= 0, _intents(rng, channel), -1),
        }

    def _react(self, rows: np.ndarray, part: dict[str, np.ndarray]) -> None:
        """Suppress what must be suppressed; stop the enrollments the lead ended at this rung."""
        email = part["channel"] == EMAIL
        unsubscribed = part["unsubscribe_s"] >= 0
        spam = part["spam_s"] >= 0
        replied = part["reply_s"] >= 0
        opted_out = replied & (part["intent"] == UNSUBSCRIBE)
        self.email_blocked[rows[email & ((part["failed_s"] >= 0) | unsubscribed | spam | opted_out)]] = True
        self.sms_blocked[rows[~email & opted_out]] = True
        stops = (
            (replied & (part["intent"] != OOO), part["reply_s"], 0),
            (unsubscribed, part["unsubscribe_s"], 1),
            (spam, part["spam_s"], 2),
        )
        for happened, at, event in stops:
            target = rows[happened]
            self.stop_s[target] = at[happened]
            self.stop_event[target] = event
            self.alive[target] = False
        # A click or any reply is the lead's own sign of life (app/services/activities.py): its
        # silence starts over at level 0, and since each rung goes once per campaign, it climbs
        # no further in this one.
        signs = np.maximum(part["click_s"], part["reply_s"])
        lively = signs >= 0
        self.reset_s[rows[lively]] = np.maximum(self.reset_s[rows[lively]], signs[lively])
        self.alive[rows[lively]] = False

    def messages(self) -> Messages:
        columns = {key: np.concatenate([p[key] for p in self.parts]) for key in self.parts[0]}
        order = np.lexsort((columns["rung"], columns["lead"]))
        return Messages(**{name: columns[name][order] for name in Messages.__dataclass_fields__})


def _when(happened: np.ndarray, at: np.ndarray, anchor_s: int) -> np.ndarray:
    """The time of an event that happened before the anchor, else -1."""
    return np.where(happened & (at <= anchor_s), at, -1).astype(np.int64)


def _intents(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    by_email = pick(rng, len(channel), shares(vocab.INTENT_SHARES_EMAIL)[1])
    by_sms = pick(rng, len(channel), shares(vocab.INTENT_SHARES_SMS)[1])
    return np.where(channel == EMAIL, by_email, by_sms)


def _settle(
    leads: Leads,
    ctx: Context,
    run: _Run,
    m: Messages,
    enrolled: np.ndarray,
    control: np.ndarray,
    level: np.ndarray,
    rung_due: np.ndarray,
    conversion_s: np.ndarray,
    conversion_message: np.ndarray,
) -> Journey:
    """Each enrollment's ending and each lead's state, derived from what happened."""
    n, anchor = leads.size, ctx.anchor_s
    treated = enrolled & ~control
    converted = conversion_s >= 0
    stop_s, stop_event = run.stop_s.copy(), run.stop_event.copy()
    open_at_anchor = treated & (stop_s < 0) & (run.pending | (run.free_s > anchor))
    deal = treated & (stop_s < 0) & converted & (open_at_anchor | (conversion_s < run.free_s))
    stop_s[deal], stop_event[deal] = conversion_s[deal], STOP_EVENTS.index("converted")
    ended = treated & (stop_s < 0) & ~ctx.campaign_running & (run.free_s <= anchor)
    stop_s[ended] = np.minimum(run.free_s[ended], ctx.campaign_end_s[ended])
    stop_event[ended] = STOP_EVENTS.index("campaign_completed")
    top = treated & (stop_s < 0) & ~open_at_anchor & (level == ctx.rungs)
    stop_s[top], stop_event[top] = run.free_s[top], STOP_EVENTS.index("exhausted")
    status = np.full(n, -1, dtype=np.int64)
    status[treated] = ENROLLMENT_STATUSES.index("completed")  # the rung's gap passed: done
    status[treated & open_at_anchor] = ENROLLMENT_STATUSES.index("waiting")
    status[treated & run.pending] = ENROLLMENT_STATUSES.index("active")
    status[treated & np.isin(stop_event, STOPPED_BY_LEAD)] = ENROLLMENT_STATUSES.index("stopped")
    status[treated & (stop_event >= 3)] = ENROLLMENT_STATUSES.index("completed")
    status[control] = ENROLLMENT_STATUSES.index("control")
    done_s = np.where(stop_s >= 0, stop_s, np.where(treated & ~open_at_anchor, run.free_s, -1))
    next_action = np.where(
        treated & open_at_anchor & (stop_s < 0), np.where(run.pending, _pending_at(n, m), run.free_s), -1
    )
    reply_s, intent = _first_human_reply(n, m)
    return Journey(
        campaign=ctx.campaign,
        enrolled=enrolled,
        control=control,
        variant=run.variant,
        level=np.where(enrolled, level, 0),
        silence_level=np.where(enrolled & (run.reset_s < 0), level, 0),
        rung_due_s=rung_due,
        enrollment_status=status,
        next_action_s=next_action,
        ended_s=np.where(treated, done_s, -1),
        stop_event=np.where(treated, stop_event, -1),
        state=_states(leads, ctx, enrolled, control, converted, stop_event, intent, reply_s, run, open_at_anchor),
        last_activity_s=np.maximum(leads.quiet_s, run.reset_s),
        last_contacted_s=_per_lead_max(n, m.lead, np.where(m.status != PENDING, m.send_s, -1)),
        conversion_s=conversion_s,
        conversion_message=conversion_message,
        messages=m,
        campaign_running=ctx.campaign_running,
        gap_s=ctx.gap_s,
    )


def _pending_at(n: int, m: Messages) -> np.ndarray:
    return _per_lead_max(n, m.lead, np.where(m.status == PENDING, m.send_s, -1))


def _per_lead_max(n: int, lead: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int64)
    np.maximum.at(out, lead, values)
    return out


def _first_human_reply(n: int, m: Messages) -> tuple[np.ndarray, np.ndarray]:
    """The reply that stopped the enrollment (an out-of-office never does)."""
    reply_s = np.full(n, -1, dtype=np.int64)
    intent = np.full(n, -1, dtype=np.int64)
    human = np.flatnonzero((m.reply_s >= 0) & (m.intent != OOO))
    reply_s[m.lead[human]] = m.reply_s[human]
    intent[m.lead[human]] = m.intent[human]
    return reply_s, intent


def _states(
    leads: Leads,
    ctx: Context,
    enrolled: np.ndarray,
    control: np.ndarray,
    converted: np.ndarray,
    stop_event: np.ndarray,
    intent: np.ndarray,
    reply_s: np.ndarray,
    run: _Run,
    open_at_anchor: np.ndarray,
) -> np.ndarray:
    """recovery_state: open states the scanner climbs (active, silent, in_recovery, control),
    and the ones that belong to a person (replied, recovered, lost)."""
    s = {name: number for number, name in enumerate(LEAD_STATES)}
    treated = enrolled & ~control
    silent = leads.quiet_s + ctx.ladder_s[:, 0] <= ctx.anchor_s
    state = np.where(silent, s["silent"], s["active"])
    state = np.where(treated, s["in_recovery"], state)
    closed = treated & (stop_event >= 0) & ~open_at_anchor
    state = np.where(closed, s["lost"], state)
    state = np.where(treated & (run.reset_s >= 0), s["active"], state)  # a click or reply wakes it
    open_reply = (stop_event == 0) & np.isin(intent, OPEN_ENDED) & (ctx.anchor_s - reply_s < REPLIED_STAYS_OPEN)
    state = np.where(treated & open_reply, s["replied"], state)
    state = np.where(control, s["control"], state)
    return np.where(converted, s["recovered"], state)


def holdout_buckets(tenant_ids: np.ndarray, lead_ids: np.ndarray) -> np.ndarray:
    """app/domain/holdout.holdout_bucket for many leads (db/ may not import app/, so it is
    restated here): the first 8 hex digits of md5('<tenant>:<lead>') mod 100."""
    keys = [f"{t}:{lead}".encode() for t, lead in zip(tenant_ids.tolist(), lead_ids.tolist(), strict=True)]
    return np.fromiter(
        (int(hashlib.md5(k, usedforsecurity=False).hexdigest()[:8], 16) % 100 for k in keys),
        dtype=np.int64,
        count=len(keys),
    )
