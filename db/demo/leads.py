"""The people: who each lead is, how to reach them, and when they went quiet.

Identity columns (names, company, addresses) and the moment each lead last did something on
its own initiative are drawn here; what happened after that moment is `journey`'s business.
Leads are stored tenant after tenant, so a tenant's leads are one contiguous slice.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import vocab
from .columns import DAY, HOUR, chance, digits, join, masked, pick, shares, words, zipf
from .world import HISTORY_DAYS, LEAD_HISTORY_DAYS, TenantPlan

# How long ago each lead last did something itself: (share, lowest hours, highest hours).
# Most CRMs hold a mix: a recent, busy top and a long quiet tail; the middle rows put a
# realistic share of leads on each rung of the 24/48/72 h ladder at once.
SILENCE_BANDS = ((0.42, 0, 24), (0.09, 24, 48), (0.07, 48, 72), (0.42, 72, (HISTORY_DAYS - 2) * 24))
QUIET_TAIL_MEAN_DAYS = 16
# Of the quiet tail, the share that went quiet before the first campaign ran: the CRM's older
# leads, which give the ROI page's naive before/after a "before" (journey.py: the most recent of
# them are the first scan's backlog, the rest no campaign ever covers).
BEFORE_ENGINE_SHARE = 0.4
BEFORE_ENGINE_HISTORY_MEAN_DAYS = 20
EMAIL_SHARE = 0.93
EMAIL_CONSENT = 0.94
UNASSIGNED_SHARE = 0.03
PHONE_LINES = 10_000
LINE_STRIDE = 7919  # coprime with 10,000: rank -> line is a bijection, so numbers never repeat

EMAIL_PATTERNS = {
    "first.last": 0.38,
    "flast": 0.18,
    "firstlast": 0.12,
    "first_last": 0.06,
    "first.l": 0.06,
    "firstNN": 0.2,
}
WORK_EMAIL_SHARE = 0.55

SOURCE_NAMES = list(
    dict.fromkeys([*vocab.SOURCES, *(s for industry in vocab.INDUSTRIES.values() for s in industry.extra_sources)])
)
STAGE_NAMES, STAGE_WEIGHTS = shares(vocab.STAGES)


T = TypeVar("T")


class Background(Generic[T]):
    """A value computed on its own thread from the moment it is created; `get` waits for it.

    Arrow's string kernels release the GIL, so the addresses (a second of work for a million
    leads) are built while numpy plays the recovery loop, which only needs to know who has one.
    """

    def __init__(self, compute: Callable[[], T]) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(compute,), name="seed-addresses", daemon=True)
        self._thread.start()

    def _run(self, compute: Callable[[], T]) -> None:
        try:
            self._value = compute()
        except BaseException as error:  # re-raised by get(), on the thread that needs the value
            self._error = error

    def get(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return cast(T, self._value)


@dataclass
class Leads:
    """Column arrays, one entry per lead, in tenant order."""

    tenant: np.ndarray  # index into the tenant plans
    position: np.ndarray  # index within the tenant
    first_name: pa.Array
    last_name: pa.Array
    company: pa.Array
    title: pa.Array
    has_email: np.ndarray
    has_phone: np.ndarray
    addresses: Background[tuple[pa.Array, pa.Array]]  # (email, phone), built while the loop is played
    zone: np.ndarray  # index into vocab.ZONES
    source: np.ndarray  # index into SOURCE_NAMES
    owner: np.ndarray  # operator id, -1 when unassigned
    stage: np.ndarray  # index into STAGE_NAMES
    deal_value: np.ndarray
    warmth: np.ndarray  # 0..1, how likely the lead is to answer; drives intent score and replies
    topic: pa.Array
    created_s: np.ndarray
    quiet_s: np.ndarray  # the last thing the lead did itself, before any recovery
    consent_email: np.ndarray
    consent_sms: np.ndarray
    attributes: pa.Array
    tag_combo: np.ndarray  # index into the tenant's tag combos, -1 for none

    @property
    def size(self) -> int:
        return len(self.tenant)

    @property
    def email(self) -> pa.Array:
        return self.addresses.get()[0]

    @property
    def phone(self) -> pa.Array:
        return self.addresses.get()[1]


def make_leads(plans: list[TenantPlan], owners: list[list[int]], seed: int, anchor_s: int) -> Leads:
    """Every lead of every tenant; `owners[t]` are the rep operator ids of tenant t."""
    rng = np.random.default_rng([seed, 2])
    tenant = np.repeat(np.arange(len(plans)), [p.leads for p in plans])
    position = np.concatenate([np.arange(p.leads) for p in plans]) if plans else np.zeros(0, np.int64)
    n = len(tenant)
    industry = [vocab.INDUSTRIES[p.industry] for p in plans]
    first_i = pick(rng, n, zipf(len(vocab.FIRST_NAMES), 0.7))
    last_i = pick(rng, n, zipf(len(vocab.LAST_NAMES), 0.8))
    share_company = np.array([i.company_share for i in industry])[tenant]
    has_company = chance(rng, share_company, n)
    company_i = _companies(rng, tenant, len(plans))
    zone = _zones(rng, tenant, plans)
    quiet_s, created_s = _before_the_engine(np.random.default_rng([seed, 13]), *_silence(rng, n, anchor_s), anchor_s)
    warmth = rng.beta(2.0, 3.2, n)
    stage = pick(rng, n, STAGE_WEIGHTS)
    consent_sms_share = np.array([i.sms_consent for i in industry])[tenant]
    area, line, has_phone = _phone_numbers(rng, tenant, zone, np.array([i.phone_share for i in industry])[tenant])
    has_email = chance(rng, EMAIL_SHARE, n)
    address_rng = np.random.default_rng([seed, 12])
    addresses = Background(
        lambda: (
            _emails(address_rng, tenant, position, first_i, last_i, has_company, company_i, has_email),
            masked(join("+1", words(_AREA_CODES, area), "555", digits(line, 4)), has_phone),
        )
    )
    consent_email = chance(rng, EMAIL_CONSENT, n) & has_email
    consent_sms = chance(rng, consent_sms_share, n) & has_phone
    source = _sources(rng, tenant, plans)
    deal = _deal_values(rng, tenant, plans, source, stage)
    topic_i = rng.integers(0, 4, n)
    return Leads(
        tenant=tenant,
        position=position,
        first_name=words(vocab.FIRST_NAMES, first_i),
        last_name=words(vocab.LAST_NAMES, last_i),
        company=masked(words(_COMPANY_NAMES, company_i), has_company),
        title=masked(words(vocab.TITLES, pick(rng, n, zipf(len(vocab.TITLES), 0.9))), has_company),
        has_email=has_email,
        has_phone=has_phone,
        addresses=addresses,
        zone=zone,
        source=source,
        owner=_owners(rng, tenant, owners),
        stage=stage,
        deal_value=deal,
        warmth=warmth,
        topic=_topics(tenant, plans, topic_i),
        created_s=created_s,
        quiet_s=quiet_s,
        consent_email=consent_email,
        consent_sms=consent_sms,
        attributes=_attributes(rng, tenant, plans, source),
        tag_combo=_tag_combos(rng, tenant, plans),
    )


# --- companies ------------------------------------------------------------------------------

_COMPANY_BASES = [(stem, trade) for stem in vocab.COMPANY_STEMS for trade in vocab.COMPANY_TRADES]
_COMPANY_NAMES = [
    f"{stem} {trade}{vocab.COMPANY_SUFFIXES[k % len(vocab.COMPANY_SUFFIXES)]}"
    for k, (stem, trade) in enumerate(_COMPANY_BASES)
]
_COMPANY_DOMAINS = [f"{stem}{trade}.example".lower() for stem, trade in _COMPANY_BASES]


def _companies(rng: np.random.Generator, tenant: np.ndarray, tenants: int) -> np.ndarray:
    """Each tenant sees its own big accounts: a per-tenant shuffle of one Zipf popularity list."""
    orders = np.stack([rng.permutation(len(_COMPANY_BASES)) for _ in range(tenants)]) if tenants else None
    rank = pick(rng, len(tenant), zipf(len(_COMPANY_BASES), 1.0, 8.0))
    return np.asarray(orders[tenant, rank]) if orders is not None else rank


# --- time -----------------------------------------------------------------------------------


def _silence(rng: np.random.Generator, n: int, anchor_s: int) -> tuple[np.ndarray, np.ndarray]:
    band = pick(rng, n, np.array([b[0] for b in SILENCE_BANDS]))
    low = np.array([b[1] for b in SILENCE_BANDS])[band] * HOUR
    high = np.array([b[2] for b in SILENCE_BANDS])[band] * HOUR
    uniform = low + rng.random(n) * (high - low)
    tail_span = SILENCE_BANDS[-1][2] * HOUR - SILENCE_BANDS[-1][1] * HOUR
    tail = SILENCE_BANDS[-1][1] * HOUR + np.mod(rng.exponential(QUIET_TAIL_MEAN_DAYS * DAY, n), tail_span)
    age = np.where(band == len(SILENCE_BANDS) - 1, tail, uniform).astype(np.int64)
    quiet = anchor_s - age
    history = rng.exponential(9 * DAY, n).astype(np.int64)
    created = np.minimum(np.maximum(quiet - history, anchor_s - HISTORY_DAYS * DAY + HOUR), quiet)
    return quiet, np.where(quiet - created < HOUR, quiet, created)  # one touch: arrived and went quiet at once


def _before_the_engine(
    rng: np.random.Generator, quiet: np.ndarray, created: np.ndarray, anchor_s: int
) -> tuple[np.ndarray, np.ndarray]:
    """Move a share of the quiet tail back to before the first campaign (HISTORY_DAYS ago).

    They stay in the tail (the ladder shares are unchanged), but only the first campaign's
    switch-on backlog reaches the latest of them (journey.campaign_context); created up to
    LEAD_HISTORY_DAYS ago. Own stream of random numbers, so every other column is drawn
    exactly as before.
    """
    n = quiet.size
    tail = anchor_s - quiet > SILENCE_BANDS[-1][1] * HOUR
    older = tail & chance(rng, BEFORE_ENGINE_SHARE, n)
    earliest, latest = anchor_s - (LEAD_HISTORY_DAYS - 1) * DAY, anchor_s - (HISTORY_DAYS + 2) * DAY
    old_quiet = earliest + (rng.random(n) * (latest - earliest)).astype(np.int64)
    history = rng.exponential(BEFORE_ENGINE_HISTORY_MEAN_DAYS * DAY, n).astype(np.int64)
    old_created = np.maximum(old_quiet - history, anchor_s - LEAD_HISTORY_DAYS * DAY + HOUR)
    old_created = np.where(old_quiet - old_created < HOUR, old_quiet, old_created)
    return np.where(older, old_quiet, quiet), np.where(older, old_created, created)


# --- where they live and how to reach them ----------------------------------------------------


def _zones(rng: np.random.Generator, tenant: np.ndarray, plans: list[TenantPlan]) -> np.ndarray:
    zone = np.zeros(len(tenant), dtype=np.int64)
    for t, plan in enumerate(plans):
        rows = np.flatnonzero(tenant == t)
        region = vocab.REGIONS[plan.region]
        weights = np.array([region.get(name, 0.0) for name in vocab.ZONES])
        zone[rows] = pick(rng, rows.size, weights / weights.sum())
    return zone


_AREA_CODES = [code for name in vocab.ZONES for code in vocab.ZONE_AREA_CODES[name]]
_AREA_ZONE_START = np.cumsum([0] + [len(vocab.ZONE_AREA_CODES[name]) for name in vocab.ZONES])


def _phone_numbers(
    rng: np.random.Generator, tenant: np.ndarray, zone: np.ndarray, share: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(area code index, line, has a phone) for +1 <area> 555 <line>: the area code matches
    the lead's zone and no two leads of a tenant share a number; a crowded area code simply
    leaves the overflow without a phone."""
    n = len(tenant)
    area = np.zeros(n, dtype=np.int64)
    for z in range(len(vocab.ZONES)):
        rows = np.flatnonzero(zone == z)
        count = _AREA_ZONE_START[z + 1] - _AREA_ZONE_START[z]
        area[rows] = _AREA_ZONE_START[z] + pick(rng, rows.size, zipf(int(count), 0.9, 2.0))
    rank = _rank_within(tenant * len(_AREA_CODES) + area)
    line = (rank * LINE_STRIDE + tenant * 389 + area * 97) % PHONE_LINES
    return area, line, chance(rng, share, n) & (rank < PHONE_LINES)


def _rank_within(group: np.ndarray) -> np.ndarray:
    """0, 1, 2… within each group value, in row order."""
    order = np.argsort(group, kind="stable")
    sorted_groups = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    run = np.arange(len(group)) - np.repeat(starts, np.diff(np.r_[starts, len(group)]))
    rank = np.empty_like(run)
    rank[order] = run
    return rank


def _ascii(names: tuple[str, ...]) -> list[str]:
    return [re.sub("[^a-z]", "", name.lower()) for name in names]


_FIRST_TOKENS = _ascii(vocab.FIRST_NAMES)
_LAST_TOKENS = _ascii(vocab.LAST_NAMES)


def _emails(
    rng: np.random.Generator,
    tenant: np.ndarray,
    position: np.ndarray,
    first_i: np.ndarray,
    last_i: np.ndarray,
    has_company: np.ndarray,
    company_i: np.ndarray,
    has_email: np.ndarray,
) -> pa.Array:
    """first.last@their-company.example or a personal mailbox; unique within a tenant."""
    n = len(tenant)
    names, weights = shares(EMAIL_PATTERNS)
    pattern = pick(rng, n, weights)
    first = words(_FIRST_TOKENS, first_i)
    last = words(_LAST_TOKENS, last_i)
    initial_f = pc.utf8_slice_codeunits(first, 0, 1)
    initial_l = pc.utf8_slice_codeunits(last, 0, 1)
    year = digits(rng.integers(0, 100, n), 2)
    forms = {
        "first.last": join(first, ".", last),
        "flast": join(initial_f, last),
        "firstlast": join(first, last),
        "first_last": join(first, "_", last),
        "first.l": join(first, ".", initial_l),
        "firstNN": join(first, year),
    }
    local = forms[names[0]]
    for number, name in enumerate(names[1:], start=1):
        local = pc.if_else(pa.array(pattern == number), forms[name], local)
    work = has_company & chance(rng, WORK_EMAIL_SHARE, n)
    personal = words(vocab.PERSONAL_DOMAINS, pick(rng, n, zipf(len(vocab.PERSONAL_DOMAINS), 1.2, 1.0)))
    domain = pc.if_else(pa.array(work), words(_COMPANY_DOMAINS, company_i), personal)
    return masked(_unique_emails(tenant, position, local, domain), has_email)


def _unique_emails(tenant: np.ndarray, position: np.ndarray, local: pa.Array, domain: pa.Array) -> pa.Array:
    """A repeated address gets a number (jsmith2@…); the rare clash that remains gets the
    lead's own number after a dot, which no other address of the tenant can carry."""
    repeat = _repeat_number(tenant, join(local, "@", domain))
    suffix = pc.if_else(pa.array(repeat > 0), digits(repeat + 1, 1), pa.scalar(""))
    local = join(local, suffix)
    clash = _repeat_number(tenant, join(local, "@", domain)) > 0
    local = pc.if_else(pa.array(clash), join(local, ".", digits(position, 1)), local)
    return join(local, "@", domain)


def _repeat_number(tenant: np.ndarray, text: pa.Array) -> np.ndarray:
    """How many earlier rows of the same tenant hold the same text (0 for the first)."""
    codes = pc.dictionary_encode(text).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return _rank_within(tenant * (int(codes.max(initial=0)) + 1) + codes)


# --- what they want --------------------------------------------------------------------------


def _sources(rng: np.random.Generator, tenant: np.ndarray, plans: list[TenantPlan]) -> np.ndarray:
    source = np.zeros(len(tenant), dtype=np.int64)
    for t, plan in enumerate(plans):
        rows = np.flatnonzero(tenant == t)
        table = {**vocab.SOURCES, **vocab.INDUSTRIES[plan.industry].extra_sources}
        weights = np.array([table.get(name, 0.0) for name in SOURCE_NAMES])
        source[rows] = pick(rng, rows.size, weights / weights.sum())
    return source


SOURCE_VALUE = {"referral": 1.2, "partner": 1.15, "trade_show": 1.1, "cold_outbound": 0.85, "meta_ads": 0.9}
STAGE_VALUE = {"new": 0.9, "contacted": 0.95, "qualified": 1.0, "proposal": 1.1, "negotiation": 1.15}


def _deal_values(
    rng: np.random.Generator, tenant: np.ndarray, plans: list[TenantPlan], source: np.ndarray, stage: np.ndarray
) -> np.ndarray:
    """Log-normal around the industry's typical deal, a little richer for referrals and late stages."""
    industry = [vocab.INDUSTRIES[p.industry] for p in plans]
    median = np.array([i.deal_median for i in industry])[tenant]
    sigma = np.array([i.deal_sigma for i in industry])[tenant]
    step = np.array([i.deal_step for i in industry])[tenant]
    by_source = np.array([SOURCE_VALUE.get(name, 1.0) for name in SOURCE_NAMES])[source]
    by_stage = np.array([STAGE_VALUE[name] for name in STAGE_NAMES])[stage]
    raw = median * np.exp(sigma * rng.standard_normal(len(tenant))) * by_source * by_stage
    return np.asarray(np.maximum(step, np.round(raw / step) * step), dtype=float)


def _owners(rng: np.random.Generator, tenant: np.ndarray, owners: list[list[int]]) -> np.ndarray:
    """Reps carry uneven books: the first reps of a team own more leads."""
    owner = np.full(len(tenant), -1, dtype=np.int64)
    for t, ids in enumerate(owners):
        rows = np.flatnonzero(tenant == t)
        if not ids:
            continue
        owner[rows] = np.asarray(ids)[pick(rng, rows.size, zipf(len(ids), 0.6, 2.0))]
    owner[chance(rng, UNASSIGNED_SHARE, len(tenant))] = -1
    return owner


def _topics(tenant: np.ndarray, plans: list[TenantPlan], topic_i: np.ndarray) -> pa.Array:
    topics = [topic for p in plans for topic in vocab.INDUSTRIES[p.industry].topics]
    return words(topics, tenant * 4 + topic_i) if plans else pa.array([], pa.string())


def _attributes(rng: np.random.Generator, tenant: np.ndarray, plans: list[TenantPlan], source: np.ndarray) -> pa.Array:
    """A small JSON object per lead: the industry's own facts plus where the lead came from."""
    blocks: list[pa.Array] = []
    for t, plan in enumerate(plans):
        rows = np.flatnonzero(tenant == t)  # contiguous: leads are stored tenant after tenant
        fields: list[pa.Array | str] = ["{"]
        for key, values in vocab.INDUSTRIES[plan.industry].attributes.items():
            fields += [f'"{key}": "', words(values, rng.integers(0, len(values), rows.size)), '", ']
        page_views = digits(rng.poisson(4, rows.size) + 1, 1)
        fields += ['"page_views": ', page_views, "}"]
        blocks.append(join(*fields))
    return pa.concat_arrays(blocks) if blocks else pa.array([], pa.string())


def tag_combos(plan: TenantPlan) -> list[str]:
    """Postgres array literals of one or two of the industry's tags."""
    tags = vocab.INDUSTRIES[plan.industry].tags
    singles = [f"{{{tag}}}" for tag in tags]
    pairs = [f"{{{a},{b}}}" for i, a in enumerate(tags) for b in tags[i + 1 :]]
    return singles + pairs


def _tag_combos(rng: np.random.Generator, tenant: np.ndarray, plans: list[TenantPlan]) -> np.ndarray:
    counts = np.array([len(tag_combos(p)) for p in plans]) if plans else np.zeros(0, np.int64)
    n = len(tenant)
    combo = (rng.random(n) * counts[tenant]).astype(np.int64) if n else np.zeros(0, np.int64)
    return np.where(chance(rng, 0.6, n), combo, -1)
