"""The activity timeline of each lead: how it arrived, what it did, and what it answered.

Organic history runs from the first touch (`created_at`) to the last thing the lead did
itself, which is exactly `leads.last_activity_at` unless a reply or a deal came later; the
recovery loop adds the replies and clicks (the lead's own signs of life, which move
`last_activity_at`) and the "marked recovered" step. Outbound sends and opens of the loop stay
in `outbound_messages`/`message_events`, so a million-lead seed keeps its history to a few
rows per lead.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import vocab
from .columns import digits, join, masked, pick, shares, timestamps, words
from .leads import SOURCE_NAMES, Leads
from .story import CHANNELS, INTENTS, OOO, Journey
from .tables import Ids, lead_ids

EXTRA_TOUCHES = 0.5  # Poisson mean of touches between the first and the last
MAX_TOUCHES = 8
FIRST_TOUCH = {"cold_outbound": "email_out", "referral": "note", "partner": "note", "trade_show": "note"}
FIRST_TOUCH.update(dict.fromkeys(("home_show", "door_to_door", "open_house", "walk_in", "bar_referral"), "note"))

KINDS = list(vocab.ACTIVITY_TEXT)
_TEXTS = [(kind, summary, details) for kind in KINDS for summary, details in vocab.ACTIVITY_TEXT[kind][1]]
_FIRST_TEXT = {kind: next(i for i, t in enumerate(_TEXTS) if t[0] == kind) for kind in KINDS}
_COUNT = {kind: len(vocab.ACTIVITY_TEXT[kind][1]) for kind in KINDS}


def organic_counts(rng: np.random.Generator, leads: Leads) -> np.ndarray:
    """Touches per lead: one when it went quiet the moment it arrived, else two or more."""
    extra = np.minimum(rng.poisson(EXTRA_TOUCHES, leads.size), MAX_TOUCHES - 2)
    return np.where(leads.quiet_s == leads.created_s, 1, 2 + extra)


def activities_table(leads: Leads, journey: Journey, ids: Ids, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, 9])
    organic = _organic(rng, leads, ids)
    journey_rows = [_replies(leads, journey, ids), _clicks(leads, journey, ids), _recoveries(leads, journey, ids)]
    return pa.concat_tables([organic, *journey_rows])


def _organic(rng: np.random.Generator, leads: Leads, ids: Ids) -> pa.Table:
    counts = organic_counts(rng, leads)
    lead = np.repeat(np.arange(leads.size), counts)
    total = lead.size
    step = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    last = step == counts[lead] - 1
    first = step == 0
    span = leads.quiet_s[lead] - leads.created_s[lead]
    at = leads.created_s[lead] + (rng.random(total) * span).astype(np.int64)
    at = np.where(first, leads.created_s[lead], np.where(last, leads.quiet_s[lead], at))
    first_kind = np.array([KINDS.index(FIRST_TOUCH.get(name, "form")) for name in SOURCE_NAMES])[leads.source[lead]]
    middle_names, middle_p = shares(vocab.MIDDLE_ACTIVITY_SHARES)
    last_names, last_p = shares(vocab.LAST_ACTIVITY_SHARES)
    middle_kind = np.array([KINDS.index(k) for k in middle_names])[pick(rng, total, middle_p)]
    last_kind = np.array([KINDS.index(k) for k in last_names])[pick(rng, total, last_p)]
    kind = np.where(last, last_kind, np.where(first, first_kind, middle_kind))  # the last touch is the lead's own
    text = (
        np.array([_FIRST_TEXT[k] for k in KINDS])[kind]
        + rng.integers(0, 1000, total) % np.array([_COUNT[k] for k in KINDS])[kind]
    )
    channels = [vocab.ACTIVITY_TEXT[k][0] for k in KINDS]
    channel_index = np.array([i if c is not None else -1 for i, c in enumerate(channels)])[kind]
    return _table(
        ids,
        leads,
        lead,
        kind=words(KINDS, kind),
        channel=masked(words([c or "" for c in channels], np.maximum(channel_index, 0)), channel_index >= 0),
        at=at,
        summary=words([t[1] for t in _TEXTS], text),
        details=words([t[2] for t in _TEXTS], text),
    )


def _replies(leads: Leads, journey: Journey, ids: Ids) -> pa.Table:
    m = journey.messages
    rows = np.flatnonzero(m.reply_s >= 0)
    channel = m.channel[rows]
    intent = m.intent[rows]
    summary = join(words(["Replied by email: ", "Replied by SMS: "], channel), words(INTENTS, intent))
    details = join(
        '{"intent": "',
        words(INTENTS, intent),
        '", "auto_reply": ',
        words(["false", "true"], (intent == OOO).astype(np.int64)),
        "}",
    )
    return _table(
        ids,
        leads,
        m.lead[rows],
        kind=words(["email_in", "sms_in"], channel),
        channel=words(CHANNELS, channel),
        at=m.reply_s[rows],
        summary=summary,
        details=details,
    )


def _clicks(leads: Leads, journey: Journey, ids: Ids) -> pa.Table:
    m = journey.messages
    rows = np.flatnonzero(m.click_s >= 0)
    k = rows.size
    return _table(
        ids,
        leads,
        m.lead[rows],
        kind=pa.array(["click"] * k, pa.string()),
        channel=pa.array(["email"] * k, pa.string()),
        at=m.click_s[rows],
        summary=join("Clicked the link in the rung ", digits(m.rung[rows], 1), " email"),
        details=join('{"rung": ', digits(m.rung[rows], 1), ', "path": "/book"}'),
    )


def _recoveries(leads: Leads, journey: Journey, ids: Ids) -> pa.Table:
    lead = np.flatnonzero(journey.conversion_s >= 0)
    k = lead.size
    return _table(
        ids,
        leads,
        lead,
        kind=pa.array(["stage_change"] * k, pa.string()),
        channel=pa.nulls(k, pa.string()),
        at=journey.conversion_s[lead],
        summary=words(["Marked recovered: deal won", "Deal won"], (journey.campaign[lead] < 0).astype(np.int64)),
        details=pa.array(['{"to": "won", "recovered": true}'] * k, pa.string()),
    )


def _table(
    ids: Ids,
    leads: Leads,
    lead: np.ndarray,
    *,
    kind: pa.Array,
    channel: pa.Array,
    at: np.ndarray,
    summary: pa.Array,
    details: pa.Array,
) -> pa.Table:
    return pa.table(
        {
            "tenant_id": pa.array(ids.tenant[leads.tenant[lead]]),
            "lead_id": pa.array(lead_ids(ids, lead)),
            "kind": kind,
            "channel": channel,
            "occurred_at": timestamps(at),
            "summary": summary,
            "details": details,
        }
    )
