"""Who buys, when, and which touch the sale credits: the demo journey's conversions.

A treated lead converts after the first touch that works (a reply, a click, a delivery), and
every enrolled lead, held out or contacted, may also buy on its own at the base rate, which is
what the hold-out measures. Own random streams, so the loop's draws stay the loop's.
"""

from __future__ import annotations

import numpy as np

from .columns import DAY, chance
from .leads import Leads
from .story import (
    ATTRIBUTION_WINDOW,
    CONVERT_AFTER_CLICK,
    CONVERT_AFTER_DELIVERY,
    CONVERT_AFTER_REPLY,
    CONVERT_ON_THEIR_OWN,
    INTENTS,
    NEVER,
    OOO,
    OPEN_ENDED,
    PENDING,
    Context,
    Messages,
    lognormal,
)


def conversions(
    rng: np.random.Generator, leads: Leads, m: Messages, stop_event: np.ndarray, anchor_s: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each treated lead converts after its first touch that works (organic buying is added by `add_organic`)."""
    size = m.size
    refused = np.zeros(leads.size, dtype=bool)
    refused[m.lead[(m.intent >= 0) & ~np.isin(m.intent, (*OPEN_ENDED, OOO))]] = True
    refused |= np.isin(stop_event, (1, 2))
    blocked = refused[m.lead]
    by_reply = np.zeros(size)
    for name, p in CONVERT_AFTER_REPLY.items():
        by_reply[m.intent == INTENTS.index(name)] = p
    triggers = (
        (m.reply_s, by_reply),
        (m.click_s, np.full(size, CONVERT_AFTER_CLICK)),
        (m.delivered_s, np.full(size, CONVERT_AFTER_DELIVERY)),
    )
    best = np.full(size, NEVER)
    for at, chance_of in triggers:
        when = at + lognormal(rng, 2 * DAY, 0.9, size)
        converts = (at >= 0) & ~blocked & chance(rng, chance_of, size) & (when <= anchor_s)
        best = np.where(converts & (when < best), when, best)
    conversion_s = np.full(leads.size, -1, dtype=np.int64)
    conversion_message = np.full(leads.size, -1, dtype=np.int64)
    hit = np.flatnonzero(best < NEVER)
    order = hit[np.lexsort((best[hit], m.lead[hit]))]
    first = order[np.r_[True, m.lead[order][1:] != m.lead[order][:-1]]] if order.size else order
    conversion_s[m.lead[first]] = best[first]
    conversion_message[m.lead[first]] = first
    return conversion_s, conversion_message


def organic(
    rng: np.random.Generator,
    leads: Leads,
    enrolled: np.ndarray,
    control: np.ndarray,
    first_due: np.ndarray,
    anchor_s: int,
) -> np.ndarray:
    """When each enrolled lead buys on its own, -1 if not before the anchor.

    Held out or contacted alike: CONVERT_ON_THEIR_OWN per 30 days from the first rung the scan
    took it on at, at any moment up to the anchor. This is the base rate the hold-out measures:
    the hold-out converts at it, the treated leads at it plus what the messages add, so the
    lift against the hold-out is an estimate of what recovery added, not treated vs zero.
    Drawn by systematic sampling within each tenant's hold-out and treated group: every lead
    keeps its own chance, and a group's count of buyers is its expectation rounded up or down,
    so a demo's hold-out of a few hundred leads shows its base rate rather than the luck of a
    few coin flips (a plain draw of an expected 3 gives 0 or 1 a fifth of the time). Own random
    stream, so the loop's draws stay the loop's.
    """
    n = enrolled.size
    span = np.where(enrolled & (first_due >= 0), np.maximum(anchor_s - first_due, 0), 0)
    chances = np.minimum(CONVERT_ON_THEIR_OWN * span / (30 * DAY), 1.0)
    buys = systematic(rng, chances, leads.tenant * 2 + control) & (span > 0)
    at = first_due + (rng.random(n) * span).astype(np.int64)
    return np.where(buys, at, -1)


def systematic(rng: np.random.Generator, chances: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """One draw per row with P(row) = chances[row], the rows of each group taken in a random order
    along a line of their chances with a single random start: a row is picked when the line
    crosses a whole number within its stretch (systematic sampling)."""
    picked = np.zeros(chances.size, dtype=bool)
    order = rng.permutation(chances.size)
    for group in np.unique(groups):
        rows = order[groups[order] == group]
        line = rng.random() + np.cumsum(chances[rows])
        before = np.concatenate(([line[0] - chances[rows[0]]], line[:-1]))  # np.unique: never empty
        picked[rows] = np.floor(line) > np.floor(before)
    return picked


def add_organic(
    conversion_s: np.ndarray, conversion_message: np.ndarray, organic_s: np.ndarray, control: np.ndarray, m: Messages
) -> None:
    """Organic purchases that come before any message-driven one take its place. A treated lead's
    is recorded as the product records any reported sale (app/services/conversions): credited to
    the last message sent in the attribution window before it, if any (last touch cannot tell a
    sale the message caused from one it merely preceded: that is what the hold-out is for)."""
    first = (organic_s >= 0) & ((conversion_s < 0) | (organic_s < conversion_s))
    conversion_s[first] = organic_s[first]
    conversion_message[first] = -1
    treated = first & ~control
    at = organic_s[m.lead]
    sent = (m.status != PENDING) & (m.send_s <= at) & (m.send_s > at - ATTRIBUTION_WINDOW) & treated[m.lead]
    latest = np.full(conversion_s.size, -1, dtype=np.int64)
    np.maximum.at(latest, m.lead[sent], np.flatnonzero(sent))  # messages run in (lead, rung) order: latest = largest
    conversion_message[treated] = latest[treated]


def on_their_own(rng: np.random.Generator, leads: Leads, ctx: Context) -> np.ndarray:
    """When each lead that went quiet before the engine started bought on its own, -1 if never.

    The organic baseline the naive before/after compares against: CONVERT_ON_THEIR_OWN per 30
    days of a lead's life, at any moment of it. A lead of the switch-on backlog buys only before
    the first scan (it then leaves the campaign's audience: `ctx.campaign` is cleared); one no
    campaign covered may buy after the start too. Own random stream, so the loop's draws stay
    the loop's.
    """
    n, anchor = leads.size, ctx.anchor_s
    backlog = (ctx.campaign >= 0) & (leads.quiet_s + ctx.ladder_s[:, 0] < ctx.opens_s)
    life = np.maximum(anchor - leads.created_s, 0)
    buys = (backlog | (ctx.campaign < 0)) & chance(rng, CONVERT_ON_THEIR_OWN * life / (30 * DAY), n)
    at = leads.created_s + (rng.random(n) * life).astype(np.int64)
    buys &= ~backlog | (at < ctx.opens_s)
    ctx.campaign[buys] = -1
    return np.where(buys, at, -1)
