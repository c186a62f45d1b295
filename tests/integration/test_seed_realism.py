"""The demo seed's realism on a real database: silence, values, history, hold-out, addresses and
messages as the product's own rules see them (determinism and the CLI are in test_seed.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from app.domain.holdout import is_control
from app.domain.messages import Draft, Facts, check
from app.services import demo
from app.services.activities import SILENCE_BREAKING
from db import roi
from db.demo import vocab
from db.demo import world as world_plan
from tests.integration.seed_world import ANCHOR, rows, scalar
from tests.support import truncate_all

# --- realism -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[Engine]:
    """One realistic demo (three tenants, 9,000 leads) that the realism tests only read."""
    truncate_all(engine)
    demo.seed(tenants=3, leads=9_000, seed=7, anchor=ANCHOR)
    yield engine
    truncate_all(engine)


def test_a_realistic_share_of_leads_is_silent_at_each_rung(world: Engine) -> None:
    ages = rows(
        world,
        """SELECT width_bucket(extract(epoch FROM :anchor - last_activity_at) / 3600, ARRAY[24, 48, 72]) AS rung,
                  count(*)::float / sum(count(*)) OVER () AS share
           FROM leads GROUP BY 1 ORDER BY 1""",
        anchor=ANCHOR,
    )
    share = {int(r[0]): float(r[1]) for r in ages}
    assert 0.3 < share[0] < 0.55, "many leads are active (silent less than a day)"
    assert 0.04 < share[1] < 0.16, "leads sit on rung 1 right now"
    assert 0.03 < share[2] < 0.15, "and on rung 2"
    assert 0.3 < share[3] < 0.55, "a long quiet tail past the last rung"


def test_deal_values_follow_each_industry_and_sources_are_skewed(world: Engine) -> None:
    medians = dict(
        rows(
            world,
            "SELECT t.slug, percentile_cont(0.5) WITHIN GROUP (ORDER BY deal_value) FROM leads l "
            "JOIN tenants t ON t.id = l.tenant_id GROUP BY t.slug",
        )
    )
    for business in vocab.DEMO_BUSINESSES:
        typical = vocab.INDUSTRIES[business.industry].deal_median
        assert 0.75 * typical < float(medians[business.slug]) < 1.3 * typical
    sources = [float(r[1]) for r in rows(world, "SELECT source, count(*) FROM leads GROUP BY 1 ORDER BY 2 DESC")]
    assert rows(world, "SELECT source FROM leads GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0] == "web_form"
    assert sources[0] > 2.5 * sources[len(sources) // 2], "a few sources bring most leads"


def test_every_tenant_has_a_full_history(world: Engine) -> None:
    per_table = {}
    for table in (
        "leads",
        "operators",
        "activities",
        "enrollments",
        "outbound_messages",
        "message_events",
        "inbound_messages",
        "conversions",
        "suppressions",
        "metrics_daily",
        "ai_generations",
        "campaign_transitions",
        "scheduled_actions",
        "agent_runs",
    ):
        per_table[table] = rows(
            world, f"SELECT t.slug, count(x.*) FROM tenants t LEFT JOIN {table} x ON x.tenant_id = t.id GROUP BY 1"
        )
    empty = [(table, slug) for table, counts in per_table.items() for slug, count in counts if not count]
    assert not empty
    assert scalar(world, "SELECT count(*) FROM tenants") == 3
    activities_per_lead = scalar(world, "SELECT count(*)::float / (SELECT count(*) FROM leads) FROM activities")
    assert 2.0 <= float(activities_per_lead) <= 4.0
    contacted = scalar(
        world, "SELECT count(DISTINCT lead_id)::float / (SELECT count(*) FROM leads) FROM outbound_messages"
    )
    assert 0.2 < float(contacted) < 0.4


def test_metrics_daily_adds_up_to_the_raw_rows(world: Engine) -> None:
    totals = rows(
        world,
        """SELECT sum(sent), sum(delivered), sum(opened), sum(clicked), sum(replied), sum(bounced),
                  sum(unsubscribed), sum(conversions), sum(revenue), round(sum(cost_usd), 4) FROM metrics_daily""",
    )[0]
    raw = rows(
        world,
        """SELECT (SELECT count(*) FROM outbound_messages WHERE sent_at IS NOT NULL),
                  (SELECT count(*) FROM message_events WHERE event_type = 'delivered'),
                  (SELECT count(*) FROM message_events WHERE event_type = 'open'),
                  (SELECT count(*) FROM message_events WHERE event_type = 'click'),
                  (SELECT count(*) FROM inbound_messages),
                  (SELECT count(*) FROM message_events WHERE event_type IN ('bounce', 'undelivered')),
                  (SELECT count(*) FROM message_events WHERE event_type = 'unsubscribe')
                    + (SELECT count(*) FROM inbound_messages WHERE intent = 'unsubscribe'),
                  (SELECT count(*) FROM conversions WHERE channel IS NOT NULL),
                  (SELECT sum(value) FROM conversions WHERE channel IS NOT NULL),
                  (SELECT round(sum(m.cost_usd + coalesce(g.cost_usd, 0)), 4) FROM outbound_messages m
                     LEFT JOIN ai_generations g ON g.id = m.ai_generation_id WHERE m.sent_at IS NOT NULL)""",
    )[0]
    assert tuple(totals) == tuple(raw)
    assert all(value for value in raw)


def test_the_control_group_is_a_stable_tenth_never_contacted_and_converts_less(world: Engine) -> None:
    groups = rows(world, "SELECT tenant_id, lead_id, is_control, status FROM enrollments")
    control = [g for g in groups if g[2]]
    assert 0.07 < len(control) / len(groups) < 0.13
    assert all(g[3] == "control" for g in control)
    assert all(is_control(int(g[0]), int(g[1]), 10) == bool(g[2]) for g in groups), "the scanner's md5 bucket"
    assert not scalar(
        world,
        "SELECT count(*) FROM outbound_messages m JOIN enrollments e ON e.lead_id = m.lead_id AND e.is_control",
    )
    lift = rows(
        world,
        """SELECT e.is_control, count(c.id)::float / count(*) FROM enrollments e
           LEFT JOIN conversions c ON c.lead_id = e.lead_id GROUP BY 1 ORDER BY 1""",
    )
    treated, held_out = (float(r[1]) for r in lift)
    assert treated > 1.5 * held_out > 0


def test_the_hold_out_converts_at_its_base_rate_and_the_treated_leads_more(world: Engine) -> None:
    """The ROI page's comparison on the demo, in SQL of the test's own: per group, the leads first
    enrolled in the 90 days before the anchor and those of them with a conversion (any method)
    from that enrolment to the anchor. The hold-out buys on its own (about 1.5 % a month), so
    its rate is above zero and the lift is an estimate, not the treated rate against nothing."""
    found = rows(
        world,
        """WITH firsts AS (
               SELECT DISTINCT ON (lead_id) lead_id, is_control, enrolled_at FROM enrollments
               WHERE enrolled_at > CAST(:anchor AS timestamptz) - interval '90 days' AND enrolled_at <= :anchor
               ORDER BY lead_id, enrolled_at, id
           )
           SELECT f.is_control, count(*) AS leads,
                  count(*) FILTER (WHERE EXISTS (
                      SELECT 1 FROM conversions c WHERE c.lead_id = f.lead_id
                        AND c.converted_at >= f.enrolled_at AND c.converted_at <= :anchor)) AS converted
           FROM firsts f GROUP BY 1 ORDER BY 1""",
        anchor=ANCHOR,
    )
    (treated_leads, treated_won), (held_leads, held_won) = ((int(r[1]), int(r[2])) for r in found)
    assert held_leads >= 100, "enough held-out leads for a rate"
    held_out, treated = held_won / held_leads, treated_won / treated_leads
    assert held_won >= 3, f"the hold-out converts on its own ({held_won} of {held_leads})"
    assert 0.005 < held_out < 0.05, "near the base rate: 1.5 % a month over one to three months"
    assert treated > held_out, (treated, held_out)
    organic_among_treated = scalar(
        world,
        """SELECT count(*) FROM conversions c JOIN enrollments e ON e.lead_id = c.lead_id AND NOT e.is_control
           WHERE c.method = 'organic' AND c.converted_at >= e.enrolled_at""",
    )
    assert organic_among_treated > 0, "contacted leads buy on their own too (no message in the 30 days before)"


def test_each_demo_tenant_pays_a_realistic_fixed_monthly_cost(world: Engine) -> None:
    """Platform $900 + $120 a seat (the admin, the manager and each rep), at most $4,000: a demo
    tenant of 3,000 leads has 3 reps (the minimum: 3,000 ÷ 1,500 leads a rep = 2), so 5 seats and
    900 + 5 × 120 = $1,500 a month, which the ROI page prorates into its cost."""
    found = rows(
        world,
        """SELECT t.settings->>'fixed_monthly_cost', count(o.id) FROM tenants t JOIN operators o ON o.tenant_id = t.id
           GROUP BY t.id ORDER BY t.id""",
    )
    assert found == [("1500", 5)] * 3


def test_addresses_are_valid_and_their_own(world: Engine) -> None:
    leads = rows(world, "SELECT tenant_id, email, phone, timezone FROM leads")
    e164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
    email = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.example$")
    area_zone = {code: zone for zone, codes in vocab.ZONE_AREA_CODES.items() for code in codes}
    for _, mail, phone, zone in leads:
        ZoneInfo(str(zone))
        assert mail is None or email.match(str(mail)), mail
        assert phone is None or (e164.match(str(phone)) and area_zone[str(phone)[2:5]] == zone), (phone, zone)
    assert len({(t, m) for t, m, _, _ in leads if m}) == sum(1 for _, m, _, _ in leads if m), "emails are unique"
    assert len({(t, p) for t, _, p, _ in leads if p}) == sum(1 for _, _, p, _ in leads if p), "phones are unique"


# What the seed alone is responsible for: the history it writes tells a story the product's
# rules allow. Whether the *sender* refuses a suppressed address or holds a message until the
# tenant's send window opens is tested against the real sender, with its clock injected, in
# tests/integration/test_sender.py (test_a_suppressed_address_is_never_sent,
# test_an_email_due_outside_the_tenants_send_window_waits_for_it_to_open); these two check only
# the rows the seeder wrote, and say so in their names.


def test_the_demo_history_sends_nothing_to_an_address_after_its_suppression(world: Engine) -> None:
    assert scalar(world, "SELECT count(*) FROM suppressions") > 0
    # The sender's own match: the address as written or lower-cased (app/services/send.py).
    to_suppressed = """FROM outbound_messages m JOIN suppressions s ON s.tenant_id = m.tenant_id
             AND s.channel = m.channel AND s.address IN (m.to_address, lower(m.to_address))"""
    before = scalar(world, f"SELECT count(*) {to_suppressed} WHERE m.sent_at <= s.created_at")
    assert before > 0, "the bounces and STOPs behind the suppressions answered messages sent before them"
    late = scalar(world, f"SELECT count(*) {to_suppressed} WHERE coalesce(m.sent_at, m.scheduled_for) > s.created_at")
    assert late == 0
    reasons = {r[0] for r in rows(world, "SELECT DISTINCT reason FROM suppressions")}
    assert {"unsubscribe", "bounce", "stop"} <= reasons


def test_the_demo_messages_pass_the_products_checks_and_were_sent_inside_the_tenants_window(world: Engine) -> None:
    sample = rows(
        world,
        """SELECT m.channel, m.subject, m.body, l.first_name, l.company FROM outbound_messages m
           JOIN leads l ON l.id = m.lead_id ORDER BY m.id LIMIT 500""",
    )
    for channel, subject, body, first_name, company in sample:
        verdict = check(Draft(str(channel), str(body), subject and str(subject)), Facts(str(first_name), company))
        assert verdict.ok, (verdict.problems, body)
    # Every demo tenant sends 08:00-20:00 and keeps quiet 21:00-08:00 (SMS may go 08:00-21:00),
    # so a seeded send's local hour is 8 to 19, whatever the channel.
    assert rows(
        world,
        "SELECT DISTINCT send_window_start_hour, send_window_end_hour, quiet_start_hour, quiet_end_hour FROM tenants",
    ) == [(8, 20, 21, 8)]
    hours = rows(
        world,
        """SELECT extract(hour FROM m.sent_at AT TIME ZONE l.timezone)::int AS hour, count(*) FROM outbound_messages m
           JOIN leads l ON l.id = m.lead_id WHERE m.sent_at IS NOT NULL GROUP BY 1 ORDER BY 1""",
    )
    assert sum(n for _, n in hours) > 0
    assert [hour for hour, _ in hours if not 8 <= hour <= 19] == [], "sent in the lead's own 08:00-20:00"


def test_states_agree_with_enrollments_and_replies_with_their_triage(world: Engine) -> None:
    assert not scalar(
        world,
        "SELECT count(*) FROM (SELECT lead_id FROM enrollments WHERE status IN ('active', 'waiting') "
        "GROUP BY lead_id HAVING count(*) > 1) AS twice",
    )
    orphans = scalar(
        world,
        """SELECT count(*) FROM leads l WHERE l.recovery_state IN ('in_recovery', 'control')
           AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.lead_id = l.id AND e.rung = l.silence_level)""",
    )
    assert orphans == 0, "a lead on the ladder stands on its enrollment's rung"
    assert not scalar(
        world,
        """SELECT count(*) FROM leads l WHERE l.recovery_state = 'replied'
           AND NOT EXISTS (SELECT 1 FROM inbound_messages i WHERE i.lead_id = l.id)""",
    )
    assert not scalar(world, "SELECT count(*) FROM leads WHERE recovery_state = 'active' AND silence_level > 0")
    woken = scalar(
        world,
        """SELECT count(*) FROM leads l WHERE l.silence_level > 0 AND EXISTS (
               SELECT 1 FROM message_events e WHERE e.lead_id = l.id AND e.event_type IN ('click', 'reply'))""",
    )
    assert woken == 0, "a click or a reply resets the silence ladder (app/services/activities.py)"
    breaking = list(SILENCE_BREAKING)
    mismatched = scalar(
        world,
        """SELECT count(*) FROM leads l LEFT JOIN LATERAL (
               SELECT max(a.occurred_at) AS last FROM activities a
               WHERE a.lead_id = l.id AND a.kind = ANY(CAST(:kinds AS text[]))) AS own ON true
           WHERE own.last IS DISTINCT FROM l.last_activity_at""",
        kinds=breaking,
    )
    assert mismatched == 0, "last_activity_at is the lead's latest own activity on its timeline"
    recovered = rows(
        world,
        "SELECT count(*), count(c.id) FROM leads l LEFT JOIN conversions c ON c.lead_id = l.id "
        "WHERE l.recovery_state = 'recovered'",
    )[0]
    assert recovered[0] == recovered[1] > 0
    verdicts = {
        (r[0], r[1], r[2]) for r in rows(world, "SELECT DISTINCT intent, sentiment, priority FROM inbound_messages")
    }
    for intent, sentiment, priority in verdicts:
        assert (sentiment, priority) == vocab.REPLIES[str(intent)][:2]
    stops = rows(world, "SELECT body FROM inbound_messages WHERE intent = 'unsubscribe' AND channel = 'sms'")
    assert stops
    assert all(str(b[0]).strip().upper() in {"STOP", "UNSUBSCRIBE"} for b in stops)


def test_the_naive_before_after_has_a_before_and_an_after(world: Engine) -> None:
    """The ROI page's comparison (30 days, the default) has something on both sides for every
    demo tenant: older leads bought on their own before the engine's first enrollment (organic,
    no campaign, channel or message), and the first month after it adds the loop's deals."""
    starts = dict(rows(world, "SELECT tenant_id, min(enrolled_at) FROM enrollments GROUP BY 1"))
    assert len(starts) == 3
    for tenant_id, start in starts.items():
        assert abs(start - (ANCHOR - timedelta(days=world_plan.HISTORY_DAYS))) < timedelta(days=1)
        found = roi.before_after(world, tenant_id, days=30, now=ANCHOR)
        assert found.start == start
        assert found.before is not None
        assert found.after is not None
        expected = rows(
            world,
            """SELECT (SELECT count(*) FROM leads WHERE tenant_id = :t AND created_at < :s),
                      (SELECT count(*) FROM leads WHERE tenant_id = :t AND created_at < :s + interval '30 days'),
                      (SELECT count(DISTINCT lead_id) FROM conversions WHERE tenant_id = :t
                         AND converted_at >= :s - interval '30 days' AND converted_at < :s),
                      (SELECT count(DISTINCT lead_id) FROM conversions WHERE tenant_id = :t
                         AND converted_at >= :s AND converted_at < :s + interval '30 days')""",
            t=tenant_id,
            s=start,
        )[0]
        assert (found.before.leads, found.after.leads, found.before.recovered, found.after.recovered) == expected
        assert found.before.rate is not None
        assert 0 < found.before.rate < 0.05, "a realistic organic baseline"
        assert found.after.rate is not None
        assert found.after.rate > 0
        assert scalar(world, "SELECT min(created_at) FROM leads WHERE tenant_id = :t", t=tenant_id) < start - timedelta(
            days=45
        ), "the CRM's history starts well before the engine"
    before_the_engine = rows(
        world,
        """SELECT DISTINCT c.method, c.campaign_id IS NULL, c.channel IS NULL, c.message_id IS NULL, l.recovery_state,
                  l.stage, l.recovered_at = c.converted_at
           FROM conversions c JOIN leads l ON l.id = c.lead_id
           WHERE c.converted_at < (SELECT min(enrolled_at) FROM enrollments e WHERE e.tenant_id = c.tenant_id)""",
    )
    assert before_the_engine == [("organic", True, True, True, "recovered", "won", True)]
    pooled = [roi.before_after(world, t, days=30, now=ANCHOR) for t in starts]
    before = sum(p.before.recovered for p in pooled if p.before) / sum(p.before.leads for p in pooled if p.before)
    after = sum(p.after.recovered for p in pooled if p.after) / sum(p.after.leads for p in pooled if p.after)
    assert after > before, "the switch-on backlog's deals lift the naive 'after'"
