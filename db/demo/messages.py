"""Rows for the message tables: outbox, AI generations, provider events, replies, suppressions.

All of them derive from `journey.Messages`, one entry per outbound message, so a delivery
event always belongs to a sent message, a reply to a delivered one, and a suppression to the
event that caused it.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import vocab
from .columns import (
    HEX,
    HOUR,
    chance,
    cost,
    hex_strings,
    join,
    masked,
    nullable_ids,
    ordered_hex,
    pick,
    render,
    timestamps,
    words,
)
from .leads import Leads
from .story import CHANNELS, EMAIL, FAILED, INTENTS, PENDING, SMS, STATUSES, Journey
from .tables import VARIANTS, Ids, enrollment_rows, lead_ids
from .world import TenantPlan

SOURCES = ("ai", "ai_cache", "template", "offline")
AI, AI_CACHE, TEMPLATE, OFFLINE = range(4)
SOURCE_SHARES = np.array([0.81, 0.15, 0.04])  # the AI writer, a template, the offline fallback
CACHE_HIT = 0.8  # a repeat of a near-identical request is served from our cache unless it expired
MODEL = "claude-sonnet-4-5"
EMAIL_COST = 0.00095
SMS_COST = 0.0079
INPUT_PRICE = 3e-6
OUTPUT_PRICE = 15e-6
BOUNCE_ERROR = "550 5.1.1 The email account that you tried to reach does not exist"
SMS_ERROR = "30003 Unreachable destination handset"


class Drafted:
    """What the writer produced for each message, shared by the outbox and the AI ledger.

    Which writer served each message (`source`, `ai_row`) is decided up front, because the
    AI ledger's size must be known to reserve its ids; the texts are built on first use, on
    the encoder thread, while COPY streams earlier tables.
    """

    def __init__(self, leads: Leads, journey: Journey, plans: list[TenantPlan], seed: int) -> None:
        self.leads, self.journey, self.plans, self.seed = leads, journey, plans, seed
        rng = np.random.default_rng([seed, 4])
        m = journey.messages
        family = pick(rng, m.size, SOURCE_SHARES)
        self.key = _prompt_key(leads, journey)
        chosen = np.where(family == 1, TEMPLATE, OFFLINE)
        self.source = np.where(family == 0, _ai_or_cache(rng, self.key, m.send_s), chosen)
        is_ai = np.isin(self.source, (AI, AI_CACHE))
        self.ai_row = np.where(is_ai, np.cumsum(is_ai) - 1, -1)

    @functools.cached_property
    def texts(self) -> tuple[pa.Array, pa.Array]:
        """(subject, body) per message."""
        m, leads = self.journey.messages, self.leads
        template = ((m.channel * 3 + (m.rung - 1)) * 2 + m.variant).astype(np.int64)
        slots = {
            "first": leads.first_name.take(pa.array(m.lead)),
            "topic": leads.topic.take(pa.array(m.lead)),
            "sender": words([p.sender_first for p in self.plans], leads.tenant[m.lead]),
        }
        bodies = [b for channel in (vocab.EMAIL_BODIES, vocab.SMS_BODIES) for r in (1, 2, 3) for b in channel[r]]
        subjects = [subject for r in (1, 2, 3) for subject in vocab.EMAIL_SUBJECTS[r]]
        subject = render(subjects, np.where(m.channel == EMAIL, template, -1), slots)
        return subject, render(bodies, template, slots)

    @functools.cached_property
    def provider_id(self) -> pa.Array:
        m = self.journey.messages
        rng = np.random.default_rng([self.seed, 11])
        sequence = np.arange(m.size)
        return pc.if_else(
            pa.array(m.channel == EMAIL),
            join(ordered_hex(sequence, rng, 11), ".filter0", pa.array((m.lead % 9 + 1).astype(str))),
            join("SM", ordered_hex(sequence, rng, 16)),
        )

    @functools.cached_property
    def prompt_hash(self) -> pa.Array:
        return _hash_text(self.key)


def _prompt_key(leads: Leads, journey: Journey) -> np.ndarray:
    """Requests that differ only in the lead's own facts share a key (our cache generalises them)."""
    m = journey.messages
    band = np.digitize(leads.deal_value[m.lead], np.quantile(leads.deal_value, [0.33, 0.66])) if m.size else m.lead
    topic = pc.index_in(leads.topic.take(pa.array(m.lead)), value_set=pc.unique(leads.topic))
    topic_i = np.asarray(topic.to_numpy(zero_copy_only=False), dtype=np.int64)
    parts = (journey.campaign[m.lead], m.rung, m.channel, m.variant, topic_i, band)
    key = np.zeros(m.size, dtype=np.int64)
    for part, size in zip(parts, (10**6, 4, 2, 2, 10**3, 3), strict=True):
        key = key * size + np.asarray(part, dtype=np.int64)
    return key


def _ai_or_cache(rng: np.random.Generator, key: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The first request of a key reaches the model; later ones mostly hit our cache."""
    order = np.lexsort((at, key))
    first = np.r_[True, key[order][1:] != key[order][:-1]] if key.size else np.zeros(0, bool)
    hit = ~first & chance(rng, CACHE_HIT, key.size)
    source = np.empty(key.size, dtype=np.int64)
    source[order] = np.where(hit, AI_CACHE, AI)
    return source


def _hash_text(key: np.ndarray) -> pa.Array:
    """A stable 32-hex prompt hash per key (splitmix64 twice), like an md5 of the prompt."""
    halves = [_splitmix(key.astype(np.uint64) + np.uint64(salt)) for salt in (0x9E37, 0x7F4A)]
    raw = np.stack(halves, axis=1).astype(">u8").view(np.uint8).reshape(len(key), 16)
    text = np.ascontiguousarray(HEX[raw]).view("S32").ravel()
    return pa.array(text).cast(pa.string())


def _splitmix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(z ^ (z >> np.uint64(31)))


def address(leads: Leads, lead: np.ndarray, channel: np.ndarray) -> pa.Array:
    rows = pa.array(lead)
    return pc.if_else(pa.array(channel == EMAIL), leads.email.take(rows), leads.phone.take(rows))


def outbound_table(leads: Leads, journey: Journey, plans: list[TenantPlan], ids: Ids, drafted: Drafted) -> pa.Table:
    m = journey.messages
    n = m.size
    tenant = ids.tenant[leads.tenant[m.lead]]
    campaign = ids.campaign[journey.campaign[m.lead]]
    lead = lead_ids(ids, m.lead)
    node = join("rung-", pa.array(m.rung.astype(str)))
    channel = words(CHANNELS, m.channel)
    dedupe = join(
        pa.array(tenant.astype(str)), pa.array(campaign.astype(str)), pa.array(lead.astype(str)), node, channel, sep=":"
    )
    went = m.status != PENDING
    is_template = np.isin(drafted.source, (2, 3))
    version = ids.template_version[leads.tenant[m.lead], m.rung, m.channel]
    error = np.where(m.status == FAILED, np.where(m.channel == EMAIL, 0, 1), 2)
    updated = np.maximum.reduce([m.send_s, m.delivered_s, m.failed_s])
    return pa.table(
        {
            "id": pa.array(ids.message_base + np.arange(n)),
            "tenant_id": pa.array(tenant),
            "campaign_id": pa.array(campaign),
            "enrollment_id": pa.array(ids.enrollment_base + enrollment_rows(journey)[m.lead]),
            "lead_id": pa.array(lead),
            "node": node,
            "channel": channel,
            "to_address": address(leads, m.lead, m.channel),
            "subject": drafted.texts[0],
            "body": drafted.texts[1],
            "source": words(SOURCES, drafted.source),
            "template_version_id": nullable_ids(version, is_template),
            "ai_generation_id": nullable_ids(ids.ai_base + drafted.ai_row, drafted.ai_row >= 0),
            "variant": words(VARIANTS, m.variant),
            "status": words(STATUSES, m.status),
            "provider": masked(words(["sendgrid", "twilio"], m.channel), went),
            "provider_message_id": masked(drafted.provider_id, went),
            "attempts": pa.array(went.astype(np.int16)),
            "last_error": masked(words([BOUNCE_ERROR, SMS_ERROR, ""], error), error < 2),
            "cost_usd": cost(np.where(went, np.where(m.channel == EMAIL, EMAIL_COST, SMS_COST), 0.0)),
            "scheduled_for": timestamps(m.send_s),
            "claimed_at": timestamps(m.send_s - 1, went),
            "sent_at": timestamps(m.send_s, went),
            "delivered_at": timestamps(m.delivered_s, m.delivered_s >= 0),
            "dedupe_key": dedupe,
            "created_at": timestamps(m.due_s + 20),
            "updated_at": timestamps(updated),
        }
    )


def ai_generations_table(leads: Leads, journey: Journey, ids: Ids, drafted: Drafted, seed: int) -> pa.Table:
    """One ledger row per AI draft (cache hits cost nothing): the writer is the only agent that
    calls a model (the replies' intents are CRM history; insights are asked for one lead at a time)."""
    rng = np.random.default_rng([seed, 5])
    m = journey.messages
    rows = np.flatnonzero(drafted.ai_row >= 0)
    hit = drafted.source[rows] == AI_CACHE
    k = rows.size
    tokens_in = np.where(hit, 0, rng.integers(900, 1700, k))
    tokens_out = np.where(hit, 0, np.where(m.channel[rows] == SMS, rng.integers(40, 90, k), rng.integers(120, 280, k)))
    cache_read = np.where(hit, 0, np.where(chance(rng, 0.6, k), 1024, 0))
    latency = np.where(hit, rng.integers(3, 25, k), rng.integers(1200, 4800, k))
    spend = tokens_in * INPUT_PRICE + tokens_out * OUTPUT_PRICE - cache_read * INPUT_PRICE * 0.9
    return _ledger(
        ids,
        first_id=ids.ai_base,
        tenant=ids.tenant[leads.tenant[m.lead[rows]]],
        lead=lead_ids(ids, m.lead[rows]),
        purpose="write",
        prompt_hash=drafted.prompt_hash.take(pa.array(rows)),
        output=drafted.texts[1].take(pa.array(rows)),
        tokens=(tokens_in, tokens_out, cache_read),
        spend=np.maximum(spend, 0),
        cached=hit,
        latency=latency,
        at=m.due_s[rows] + 15,
    )


def _ledger(
    ids: Ids,
    *,
    first_id: int,
    tenant: np.ndarray,
    lead: np.ndarray,
    purpose: str,
    prompt_hash: pa.Array,
    output: pa.Array,
    tokens: tuple[np.ndarray, np.ndarray, np.ndarray],
    spend: np.ndarray,
    cached: np.ndarray,
    latency: np.ndarray,
    at: np.ndarray,
) -> pa.Table:
    k = len(tenant)
    created = timestamps(at)
    return pa.table(
        {
            "id": pa.array(first_id + np.arange(k)),
            "tenant_id": pa.array(tenant),
            "purpose": pa.array([purpose] * k, pa.string()),
            "model": pa.array([MODEL] * k, pa.string()),
            "prompt_hash": prompt_hash,
            "lead_id": pa.array(lead),
            "output": output,
            "tokens_in": pa.array(tokens[0]),
            "tokens_out": pa.array(tokens[1]),
            "tokens_cache_read": pa.array(tokens[2]),
            "cost_usd": cost(spend),
            "served_from_cache": pa.array(cached),
            "latency_ms": pa.array(latency),
            "created_at": created,
            "updated_at": created,
        }
    )


# event name, the Messages column with its time, channels it exists on
EVENTS = (
    ("delivered", "delivered_s", (EMAIL, SMS)),
    ("bounce", "failed_s", (EMAIL,)),
    ("undelivered", "failed_s", (SMS,)),
    ("open", "open_s", (EMAIL,)),
    ("click", "click_s", (EMAIL,)),
    ("unsubscribe", "unsubscribe_s", (EMAIL,)),
    ("spamreport", "spam_s", (EMAIL,)),
    ("reply", "reply_s", (EMAIL, SMS)),
)


def events_table(
    leads: Leads, journey: Journey, plans: list[TenantPlan], ids: Ids, drafted: Drafted, seed: int
) -> pa.Table:
    rng = np.random.default_rng([seed, 6])
    m = journey.messages
    blocks = []
    counter = 0
    for name, column, channels in EVENTS:
        at = getattr(m, column)
        rows = np.flatnonzero((at >= 0) & np.isin(m.channel, channels))
        k = rows.size
        email = m.channel[rows] == EMAIL
        provider_id = drafted.provider_id.take(pa.array(rows))
        url = None
        if name == "click":
            url = join("https://", words([p.slug for p in plans], leads.tenant[m.lead[rows]]), ".example/book")
        block = {
            "tenant_id": pa.array(ids.tenant[leads.tenant[m.lead[rows]]]),
            "message_id": pa.array(ids.message_base + rows),
            "lead_id": pa.array(lead_ids(ids, m.lead[rows])),
            "channel": words(CHANNELS, m.channel[rows]),
            "event_type": pa.array([name] * k, pa.string()),
            "occurred_at": timestamps(at[rows]),
            "provider_event_id": masked(ordered_hex(counter + np.arange(k), rng, 11), email),
            "natural_key": join(provider_id, ":", name),
            "url": pa.nulls(k, pa.string()) if url is None else url,
        }
        blocks.append(pa.table(block))
        counter += k
    return pa.concat_tables(blocks)


def replies_table(leads: Leads, journey: Journey, ids: Ids, drafted: Drafted, seed: int, anchor_s: int) -> pa.Table:
    """Inbound replies with the triage verdict their text deserves, most of the old ones handled."""
    rng = np.random.default_rng([seed, 7])
    m = journey.messages
    rows = np.flatnonzero(m.reply_s >= 0)
    k = rows.size
    intent = m.intent[rows]
    channel = m.channel[rows]
    texts: list[str] = []
    which = np.zeros(k, dtype=np.int64)
    pick_i = rng.integers(0, 1000, k)
    for number, name in enumerate(INTENTS):
        _, _, by_email, by_sms, _ = vocab.REPLIES[name]
        for options, code in ((by_email, EMAIL), (by_sms, SMS)):
            mask = (intent == number) & (channel == code)
            which[mask] = len(texts) + pick_i[mask] % len(options)
            texts.extend(options)
    received = m.reply_s[rows]
    age = anchor_s - received
    handled = chance(rng, np.where(age > 24 * HOUR, 0.9, 0.3), k) & (age > HOUR)
    handled_s = np.minimum(received + rng.integers(10 * 60, 6 * HOUR, k), anchor_s)
    owner = leads.owner[m.lead[rows]]
    suggested = [vocab.REPLIES[name][4] for name in INTENTS]
    provider_id = pc.if_else(
        pa.array(channel == EMAIL),
        join("<", hex_strings(rng, k, 12), "@mail.inbound.example>"),
        join("SM", hex_strings(rng, k, 16)),
    )
    return pa.table(
        {
            "tenant_id": pa.array(ids.tenant[leads.tenant[m.lead[rows]]]),
            "lead_id": pa.array(lead_ids(ids, m.lead[rows])),
            "message_id": pa.array(ids.message_base + rows),
            "channel": words(CHANNELS, channel),
            "from_address": address(leads, m.lead[rows], channel),
            "body": words(texts, which),
            "provider_message_id": provider_id,
            "intent": words(INTENTS, intent),
            "sentiment": words([vocab.REPLIES[name][0] for name in INTENTS], intent),
            "priority": words([vocab.REPLIES[name][1] for name in INTENTS], intent),
            "suggested_reply": masked(words(suggested, intent), np.array([bool(s) for s in suggested])[intent]),
            "received_at": timestamps(received),
            "handled_by": nullable_ids(owner, handled & (owner >= 0)),
            "handled_at": timestamps(handled_s, handled),
            "created_at": timestamps(received),
            "updated_at": timestamps(np.where(handled, handled_s, received)),
        }
    )


# (reason, note) per cause of a suppression
SUPPRESSION_CAUSES = (
    ("bounce", BOUNCE_ERROR),
    ("unsubscribe", "Clicked the unsubscribe link"),
    ("spam", "Marked the message as spam"),
    ("stop", "Replied STOP"),
    ("unsubscribe", "Asked to be removed"),
    ("manual", "Asked the rep not to be contacted"),
)
MANUAL_SHARE = 0.002


def suppressions_table(leads: Leads, journey: Journey, ids: Ids, seed: int, anchor_s: int) -> pa.Table:
    """Every address that must never hear from us again, from the event that said so."""
    rng = np.random.default_rng([seed, 8])
    m = journey.messages
    causes: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []  # (message rows, times, channels, cause)
    for cause, column in enumerate(("failed_s", "unsubscribe_s", "spam_s")):
        when_s = getattr(m, column)
        rows = np.flatnonzero((when_s >= 0) & (m.channel == EMAIL))
        causes.append((m.lead[rows], when_s[rows], m.channel[rows], cause))
    for cause, medium in ((3, SMS), (4, EMAIL)):
        rows = np.flatnonzero((m.intent == INTENTS.index("unsubscribe")) & (m.channel == medium))
        causes.append((m.lead[rows], m.reply_s[rows], m.channel[rows], cause))
    quiet = np.flatnonzero(~journey.enrolled & leads.has_email & chance(rng, MANUAL_SHARE, leads.size))
    when = np.minimum(leads.quiet_s[quiet] + rng.integers(HOUR, 20 * HOUR, quiet.size), anchor_s)
    causes.append((quiet, when, np.full(quiet.size, EMAIL), 5))
    lead = np.concatenate([c[0] for c in causes])
    at = np.concatenate([c[1] for c in causes])
    channel = np.concatenate([c[2] for c in causes])
    cause_of = np.concatenate([np.full(c[0].size, c[3]) for c in causes])
    first = _first_per(lead * 2 + channel, at)
    lead, at, channel, cause_of = lead[first], at[first], channel[first], cause_of[first]
    return pa.table(
        {
            "tenant_id": pa.array(ids.tenant[leads.tenant[lead]]),
            "channel": words(CHANNELS, channel),
            "address": address(leads, lead, channel),
            "reason": words([c[0] for c in SUPPRESSION_CAUSES], cause_of),
            "note": words([c[1] for c in SUPPRESSION_CAUSES], cause_of),
            "created_at": timestamps(at),
            "updated_at": timestamps(at),
        }
    )


def _first_per(key: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Row of the earliest entry per key: one suppression per (tenant, channel, address)."""
    order = np.lexsort((at, key))
    keep = np.r_[True, key[order][1:] != key[order][:-1]] if key.size else np.zeros(0, bool)
    return order[keep]
