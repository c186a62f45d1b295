"""Rows for the lead-centred tables: leads, enrollments, transitions, conversions.

Each builder turns the simulated columns into an Arrow table whose column names are the
database's, ready for COPY. Ids are assigned here from ranges reserved in the database
(see `load.reserve_ids`), so rows can point at each other before any of them is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import vocab
from .columns import DAY, HOUR, digits, join, masked, money, nullable_ids, timestamps, words
from .leads import SOURCE_NAMES, STAGE_NAMES, Leads, tag_combos
from .story import CHANNELS, ENROLLMENT_STATUSES, INTENTS, LEAD_STATES, STOP_EVENTS, Journey
from .world import TenantPlan

VARIANTS = ("A", "B")


@dataclass
class Ids:
    """Database ids of the small rows, and the first id of each reserved range."""

    tenant: np.ndarray  # per tenant plan
    campaign: np.ndarray  # per global campaign index
    template_version: np.ndarray  # [tenant, rung, channel] -> current version id
    lead_base: int = 0
    enrollment_base: int = 0
    message_base: int = 0
    ai_base: int = 0


def lead_ids(ids: Ids, rows: np.ndarray) -> np.ndarray:
    return ids.lead_base + np.asarray(rows, dtype=np.int64)


def enrollment_rows(journey: Journey) -> np.ndarray:
    """Row number of each enrolled lead's enrollment, -1 for the others."""
    rank = np.cumsum(journey.enrolled) - 1
    return np.where(journey.enrolled, rank, -1)


def leads_table(leads: Leads, journey: Journey, plans: list[TenantPlan], ids: Ids, anchor_s: int) -> pa.Table:
    n = leads.size
    state = journey.state
    recovered = journey.conversion_s >= 0
    value = np.where(recovered, _recovered_value(leads), 0.0)
    updated = np.maximum.reduce([leads.created_s, journey.last_activity_s, journey.last_contacted_s, journey.ended_s])
    return pa.table(
        {
            "id": pa.array(lead_ids(ids, np.arange(n))),
            "tenant_id": pa.array(ids.tenant[leads.tenant]),
            "external_id": join(_crm_prefix(plans, leads.tenant), "-", digits(leads.position + 1, 7)),
            "first_name": leads.first_name,
            "last_name": leads.last_name,
            "company": leads.company,
            "title": leads.title,
            "email": leads.email,
            "phone": leads.phone,
            "timezone": words(vocab.ZONES, leads.zone),
            "source": words(SOURCE_NAMES, leads.source),
            "owner_id": nullable_ids(leads.owner, leads.owner >= 0),
            "stage": _stages(leads, journey),
            "deal_value": money(leads.deal_value),
            "intent_score": pa.array(_intent_scores(leads, journey, anchor_s), pa.int16()),
            "last_activity_at": timestamps(journey.last_activity_s),
            "last_contacted_at": timestamps(journey.last_contacted_s, journey.last_contacted_s >= 0),
            "silence_level": pa.array(journey.silence_level, pa.int16()),
            "recovery_state": words(LEAD_STATES, state),
            "tags": _tags(leads, plans),
            "attributes": leads.attributes,
            "consent_email": pa.array(leads.consent_email & ~_opted_out(journey, n, "email")),
            "consent_sms": pa.array(leads.consent_sms & ~_opted_out(journey, n, "sms")),
            "recovered_at": timestamps(journey.conversion_s, recovered),
            "recovered_value": money(value, recovered),
            "created_at": timestamps(leads.created_s),
            "updated_at": timestamps(updated),
        }
    )


def _crm_prefix(plans: list[TenantPlan], tenant: np.ndarray) -> pa.Array:
    prefixes = ["".join(part[0] for part in p.slug.split("-") if part and not part.isdigit()).upper() for p in plans]
    return words(prefixes, tenant)


def _recovered_value(leads: Leads) -> np.ndarray:
    """What the deal closed at: near the pipeline value, rounded like the pipeline value."""
    wobble = 0.85 + 0.25 * ((leads.position * 2654435761) % 1000) / 1000
    return np.round(leads.deal_value * wobble, 0)


def _stages(leads: Leads, journey: Journey) -> pa.Array:
    names = [*STAGE_NAMES, "won", "lost"]
    stage = leads.stage.copy()
    stage[journey.conversion_s >= 0] = len(STAGE_NAMES)
    refused = np.isin(_closing_intent(journey, leads.size), [INTENTS.index("not_interested")])
    stage[refused & (journey.conversion_s < 0)] = len(STAGE_NAMES) + 1
    return words(names, stage)


def _closing_intent(journey: Journey, n: int) -> np.ndarray:
    m = journey.messages
    intent = np.full(n, -1, dtype=np.int64)
    replied = m.intent >= 0
    intent[m.lead[replied]] = m.intent[replied]
    return intent


def _intent_scores(leads: Leads, journey: Journey, anchor_s: int) -> np.ndarray:
    """Warm, recent and answering leads score high; unsubscribed and lost ones low."""
    days = (anchor_s - journey.last_activity_s) / DAY
    score = 72 * leads.warmth + 24 * np.exp(-days / 4) + 4 * ((leads.position * 40503) % 7 - 3) / 3
    state = journey.state
    score = score + np.where(state == LEAD_STATES.index("replied"), 12, 0)
    score = score + np.where(state == LEAD_STATES.index("recovered"), 15, 0)
    score = score - np.where(state == LEAD_STATES.index("lost"), 12, 0)
    return np.clip(np.round(score), 0, 100).astype(np.int16)


def _tags(leads: Leads, plans: list[TenantPlan]) -> pa.Array:
    combos = [combo for p in plans for combo in tag_combos(p)]
    offsets = np.cumsum([0] + [len(tag_combos(p)) for p in plans])[:-1]
    index = np.where(leads.tag_combo >= 0, offsets[leads.tenant] + leads.tag_combo, len(combos))
    return words([*combos, "{}"], index)


def _opted_out(journey: Journey, n: int, channel: str) -> np.ndarray:
    """Leads who unsubscribed (link or STOP) on `channel`: their consent is withdrawn."""
    m = journey.messages
    on_channel = m.channel == CHANNELS.index(channel)
    stopped = (m.unsubscribe_s >= 0) | (m.spam_s >= 0) | (m.intent == INTENTS.index("unsubscribe"))
    out = np.zeros(n, dtype=bool)
    out[m.lead[on_channel & stopped]] = True
    return out


def enrollments_table(leads: Leads, journey: Journey, ids: Ids) -> pa.Table:
    """One row per enrolled lead in the campaign of its silence episode, as the scan leaves it."""
    rows = np.flatnonzero(journey.enrolled)
    count = rows.size
    status = journey.enrollment_status[rows]
    level = journey.level[rows]
    stop_event = journey.stop_event[rows]
    node = np.where(np.isin(status, (0, 1, 4)), 0, np.where(np.isin(stop_event, (4, 5, -1)), 1, 2))
    current = pc.if_else(pa.array(node == 0), join("rung-", digits(level, 1)), words(["", "done", "stop"], node))
    sent = np.bincount(journey.messages.lead, minlength=leads.size)[rows]
    last_event = words(["held_out" if s == "control" else s for s in ENROLLMENT_STATUSES], status)
    last_event = pc.if_else(pa.array(stop_event >= 0), words(STOP_EVENTS, np.maximum(stop_event, 0)), last_event)
    state = join('{"messages": ', digits(sent, 1), ', "last_event": "', last_event, '"}')
    climbs = journey.rung_due_s[rows]
    first_climb = climbs[:, 0]
    last_climb = climbs[np.arange(count), np.maximum(level - 1, 0)]
    ended = journey.ended_s[rows]
    return pa.table(
        {
            "id": pa.array(ids.enrollment_base + np.arange(count)),
            "tenant_id": pa.array(ids.tenant[leads.tenant[rows]]),
            "campaign_id": pa.array(ids.campaign[journey.campaign[rows]]),
            "lead_id": pa.array(lead_ids(ids, rows)),
            "current_node": current,
            "variant": masked(words(VARIANTS, journey.variant[rows]), ~journey.control[rows]),
            "rung": pa.array(level, pa.int16()),
            "is_control": pa.array(journey.control[rows]),
            "status": words(ENROLLMENT_STATUSES, status),
            "state": state,
            "next_action_at": timestamps(journey.next_action_s[rows], journey.next_action_s[rows] >= 0),
            "enrolled_at": timestamps(last_climb),
            "completed_at": timestamps(ended, ended >= 0),
            "created_at": timestamps(first_climb),
            "updated_at": timestamps(np.maximum(last_climb, ended)),
        }
    )


STOP_REASONS = {
    "replied": "the lead replied",
    "unsubscribed": "unsubscribed",
    "spamreport": "marked as spam",
    "converted": "recovered",
    "exhausted": "no reply after the last rung",
    "campaign_completed": "campaign completed",
}


def transitions_table(leads: Leads, journey: Journey, plans: list[TenantPlan], ids: Ids) -> pa.Table:
    """The scan's audit row for every rung climbed, and one row for each enrollment that ended."""
    rows = np.flatnonzero(journey.enrolled)
    enrollment = ids.enrollment_base + np.arange(rows.size)
    level = journey.level[rows]
    climb_enrollment = np.repeat(np.arange(rows.size), level)
    rung = _ranks(level) + 1
    lead = rows[climb_enrollment]
    control = journey.control[lead]
    ladder = np.array([len(p.ladder_hours) for p in plans])[leads.tenant[lead]]
    before = np.where(rung == 1, 0, np.where(control, 1, 2))
    climbs = {
        "enrollment_id": pa.array(enrollment[climb_enrollment]),
        "tenant_id": pa.array(ids.tenant[leads.tenant[lead]]),
        "from_node": masked(
            pc.if_else(pa.array(before == 1), join("rung-", digits(rung - 1, 1)), pa.scalar("done")), before > 0
        ),
        "to_node": join("rung-", digits(rung, 1)),
        "event": words(["enrolled", "held_out"], control.astype(np.int64)),
        "reason": join("scan: rung ", digits(rung, 1), " of ", digits(ladder, 1)),
        "at": timestamps(journey.rung_due_s[lead, rung - 1]),
    }
    ended = np.flatnonzero(journey.stop_event[rows] >= 0)
    end_lead = rows[ended]
    event = journey.stop_event[end_lead]
    endings = {
        "enrollment_id": pa.array(enrollment[ended]),
        "tenant_id": pa.array(ids.tenant[leads.tenant[end_lead]]),
        "from_node": join("rung-", digits(journey.level[end_lead], 1)),
        "to_node": words(["stop", "done"], np.isin(event, (4, 5)).astype(np.int64)),
        "event": words(STOP_EVENTS, event),
        "reason": words([STOP_REASONS[e] for e in STOP_EVENTS], event),
        "at": timestamps(journey.ended_s[end_lead]),
    }
    return pa.concat_tables([pa.table(climbs), pa.table(endings)])


def scheduled_actions_table(leads: Leads, journey: Journey, ids: Ids) -> pa.Table:
    """The running campaign's scheduled sends (the scan's "fresh rung" check reads their dedupe
    keys) and the no-reply timers the waiting enrollments are waiting on."""
    treated = journey.enrolled & ~journey.control & journey.campaign_running
    rows = np.flatnonzero(treated)
    level = journey.level[rows]
    which = np.repeat(np.arange(rows.size), level)
    lead = rows[which]
    rung = _ranks(level) + 1
    m = journey.messages
    written = np.zeros(journey.rung_due_s.shape, dtype=bool)
    written[m.lead, m.rung - 1] = True
    sent = written[lead, rung - 1]
    waiting = np.flatnonzero(treated & (journey.enrollment_status == ENROLLMENT_STATUSES.index("waiting")))
    wait_rung = journey.level[waiting]
    lead_all = np.concatenate([lead, waiting])
    rung_all = np.concatenate([rung, wait_rung])
    kind = np.concatenate([np.zeros(lead.size, np.int64), np.ones(waiting.size, np.int64)])
    status = np.concatenate([np.where(sent, 1, 2), np.zeros(waiting.size, np.int64)])
    due = np.concatenate([journey.rung_due_s[lead, rung - 1], journey.next_action_s[waiting]])
    tenant = ids.tenant[leads.tenant[lead_all]]
    campaign = ids.campaign[journey.campaign[lead_all]]
    node = join("rung-", digits(rung_all, 1))
    kinds = words(["send", "no_reply"], kind)
    key = join(
        pa.array(tenant.astype(str)),
        pa.array(campaign.astype(str)),
        pa.array(lead_ids(ids, lead_all).astype(str)),
        node,
        kinds,
        sep=":",
    )
    enrollment = ids.enrollment_base + enrollment_rows(journey)[lead_all]
    return pa.table(
        {
            "tenant_id": pa.array(tenant),
            "enrollment_id": pa.array(enrollment),
            "lead_id": pa.array(lead_ids(ids, lead_all)),
            "kind": kinds,
            "node": node,
            "due_at": timestamps(due),
            "status": words(["pending", "done", "canceled"], status),
            "dedupe_key": key,
            "payload": join('{"rung": ', digits(rung_all, 1), ', "source": "scan"}'),
        }
    )


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0..count-1 for each entry, concatenated."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def conversions_table(leads: Leads, journey: Journey, ids: Ids, message_source: np.ndarray, anchor_s: int) -> pa.Table:
    """Treated conversions credit the touch before them (the one that worked, or the last in the
    attribution window before a purchase the lead made on its own); control ones are organic
    baselines of their campaign's hold-out; the other organic ones (a treated lead with no message
    in the window, a lead no campaign covered) have no campaign, channel or message."""
    rows = np.flatnonzero(journey.conversion_s >= 0)
    message = journey.conversion_message[rows]
    treated = message >= 0
    m = journey.messages
    safe = np.where(treated, message, 0)
    has = m.size > 0
    channel = m.channel[safe] if has else np.zeros(rows.size, np.int64)
    ai = np.isin(message_source[safe], (0, 1)) if has else np.zeros(rows.size, bool)
    method = np.where(treated, np.where(ai, 0, 1), 2)
    rung = m.rung[safe] if has else np.zeros(rows.size, np.int64)
    converted = journey.conversion_s[rows]
    days = (converted - m.send_s[safe]) // DAY if has else np.zeros(rows.size, np.int64)
    credited = join(
        '{"model": "last_touch", "group": "treatment", "rung": ',
        digits(rung, 1),
        ', "variant": "',
        words(VARIANTS, journey.variant[rows]),
        '", "days_to_convert": ',
        digits(np.maximum(days, 0), 1),
        "}",
    )
    held_out = journey.control[rows]
    campaign = np.where(treated | held_out, journey.campaign[rows], -1)
    organic = pc.if_else(
        pa.array(held_out), pa.scalar('{"model": "holdout", "group": "control"}'), pa.scalar('{"model": "none"}')
    )
    attribution = pc.if_else(pa.array(treated), credited, organic)
    created = timestamps(np.minimum(converted + HOUR, anchor_s))
    return pa.table(
        {
            "tenant_id": pa.array(ids.tenant[leads.tenant[rows]]),
            "lead_id": pa.array(lead_ids(ids, rows)),
            "campaign_id": nullable_ids(ids.campaign[np.maximum(campaign, 0)], campaign >= 0),
            "message_id": nullable_ids(ids.message_base + safe, treated),
            "channel": masked(words(CHANNELS, channel), treated),
            "value": money(_recovered_value(leads)[rows]),
            "method": words(["ai", "template", "organic"], method),
            "attribution": attribution,
            "converted_at": timestamps(converted),
            "created_at": created,
            "updated_at": created,
        }
    )
