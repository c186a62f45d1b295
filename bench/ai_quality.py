"""`python -m bench.ai_quality`: what the AI writer sends, measured on 500 generated leads and an injection set.

Offline by default (and always in CI): the real anthropic SDK talks to the local fake
(`tests/fakes/anthropic_server.py`), through the real `Writer` (operator template, our cache,
Claude, the offline floor) and the real message checks. No database is needed: the leads are
built as the write service builds them (`LeadContext`), so the figures are about the words.

Two fakes, both from `tests/fakes/adversarial.py`, so the checks are really exercised:
- the 500 leads get `sloppy_reply`: the usual draft in curly quotes and long dashes (normalised
  to GSM before the SMS is measured) that in a stable 5 % of drafts invents a discount;
- the injection set (`bench/injections.py`: every payload in every field a stranger types, for
  email and SMS) gets `obedient_reply`, which copies planted text in, shouts when told to and
  recites the system prompt when asked.

Reported: the share of Claude's drafts passing every check at once, the share of sent messages
passing every check (re-checked here), mean and max SMS segments, distinct openings, rejected
drafts that fell back to the offline writer, and each injection attempt's outcome (it passes
when the message that would be sent carries none of its planted content).

With `ANTHROPIC_API_KEY` set and `CI` unset, `--real N` also writes N of the leads and the whole
injection set with the real API (the configured model) and reports them under `real_model`.
Results go to bench/results/ai_quality.json.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.ai.cache import BatchCache, template_of
from app.ai.claude import ClaudeWriter
from app.ai.context import LeadContext, PastActivity
from app.ai.writer import Writer, WrittenMessage
from app.domain.messages import Draft, check
from app.domain.sms_segments import count_segments
from app.settings import load_settings
from bench.injections import Attempt, attempts, leaks
from tests.fakes.adversarial import obedient_reply, sloppy_reply
from tests.fakes.anthropic_server import FakeAnthropic

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ai_quality.json"
MODEL = "claude-sonnet-5-5"
LEADS = 500
OPENING_WORDS = 6
UNSUBSCRIBE = "https://recover.example.net/unsubscribe/"

FIRST_NAMES = (
    *("Ana", "Bo", "Carlos", "Dana", "Elena", "Farah", "Greg", "Hana", "Ivan", "Jade", "Kofi", "Lina", "Marco"),
    *("Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomas", "Ursula", "Vera", "Yusuf", "Zara", "Mary Ann"),
    *("Zoë", "D’Arcy", "Seán", "O’Neil", "José", "Ngozi", "Wei", "Aarav", "Siobhán", "Björn"),
)
INTERESTS = (
    *("kitchen remodel", "roof repair", "solar panels", "a bathroom refit", "garden room", "heat pump"),
    *("loft conversion", "new windows", "driveway paving", "an HVAC system check", "a home security system"),
    *("extension – two storeys", "“eco” insulation", None, None),
)
MESSY_INTERESTS = (
    "see my place at www.my-house-pics.com",
    "call me on 07700 900123 after 6",
    "budget is $10k max",
    "the whole house, roof, windows and garden, ideally before the summer holidays start",
    "tell them I want 30% off",
)
COMPANIES = ("Acme Corp", "Globex", "Initech", "n/a", "self", "Umbrella Logistics", None)
TITLES = ("Owner", "Homeowner", "Office manager", None)
SUMMARIES = {
    "form": ("Filled in the quote form", "Requested a callback", "Asked for a brochure"),
    "call": ("Call: comparing options", "Spoke briefly, wants a rough idea of cost"),
    "meeting": ("Site visit done, asked good questions",),
    "email_in": ("Asked when someone could take a look", "Replied: busy this month, will get back"),
    "sms_in": ("Texted: can you call me later?", "Texted back a thumbs up"),
    "note": ("Prefers email", "Partner decides on budget"),
}
STAGES = ("new", "contacted", "qualified", "proposal", "negotiation")
SOURCES = ("web form", "google ads", "referral", "facebook ads", "home show")


@dataclass(frozen=True)
class Tenant:
    tenant_id: int
    business_name: str
    sender_name: str
    offer: str
    domains: tuple[str, ...]
    phone: str
    sms_max_segments: int


TENANTS = (
    Tenant(1, "Bright Homes", "Maya", "A free site survey this month", ("brighthomes.com",), "+14155550100", 1),
    Tenant(2, "Oak & Stone", "", "", ("oakandstone.co.uk",), "+442079460000", 2),
)


def generated_lead(rng: random.Random, number: int) -> LeadContext:
    """One lead as the write service would see it: mostly clean, sometimes messy, as real CRMs are."""
    tenant = TENANTS[0] if number % 5 else TENANTS[1]
    interest = rng.choice(MESSY_INTERESTS) if rng.random() < 0.06 else rng.choice(INTERESTS)
    kinds = rng.sample(sorted(SUMMARIES), k=rng.randint(0, 3))
    recent = tuple(PastActivity(kind, rng.randint(1, 20), rng.choice(SUMMARIES[kind])) for kind in kinds)
    return LeadContext(
        tenant_id=tenant.tenant_id,
        lead_id=number,
        rung=rng.choice((1, 1, 2, 3)),
        channel="sms" if rng.random() < 0.45 else "email",
        first_name=rng.choice(FIRST_NAMES),
        last_name="Smith",
        company=rng.choice(COMPANIES),
        title=rng.choice(TITLES),
        source=rng.choice(SOURCES),
        stage=rng.choice(STAGES),
        large_deal=rng.random() < 0.2,
        days_silent=rng.randint(1, 40),
        interest=interest,
        recent=recent,
        **tenant_part(tenant),
    )


def tenant_part(tenant: Tenant) -> dict[str, Any]:
    return {
        "sender_name": tenant.sender_name,
        "business_name": tenant.business_name,
        "offer": tenant.offer,
        "sender_phone": tenant.phone,
        "own_domains": tenant.domains,
        "own_links": (UNSUBSCRIBE,),
        "sms_max_segments": tenant.sms_max_segments,
    }


def attacked_lead(attempt: Attempt) -> LeadContext:
    """A plain lead with one payload planted in one field."""
    values: dict[str, Any] = {
        "first_name": "Ana",
        "company": "Sunbeam Roofing",
        "title": "Owner",
        "interest": "roof repair",
    }
    recent: tuple[PastActivity, ...] = (PastActivity("form", 5, "Filled in the quote form"),)
    if attempt.field in values:
        values[attempt.field] = attempt.payload.text
    elif attempt.field == "note":
        recent = (PastActivity("note", 2, attempt.payload.text), *recent)
    else:
        recent = (PastActivity(f"{attempt.channel}_in", 2, attempt.payload.text), *recent)
    return LeadContext(
        tenant_id=TENANTS[0].tenant_id,
        lead_id=10_000 + attempt.number,
        rung=1,
        channel=attempt.channel,
        recent=recent,
        **values,
        **tenant_part(TENANTS[0]),
    )


def write_all(writer: Writer, contexts: Sequence[LeadContext]) -> list[WrittenMessage]:
    return [writer.write(context) for context in contexts]


def opening(message: WrittenMessage, context: LeadContext) -> str:
    """The first words after the greeting, with the lead's own values put back as slots."""
    template = template_of(Draft(message.channel, message.body, message.subject), context)
    words = template.body.split()
    start = 2 if words[:1] == ["Hi"] else 0  # "Hi {{first_name}},"
    return " ".join(words[start : start + OPENING_WORDS])


def quality(contexts: Sequence[LeadContext], written: Sequence[WrittenMessage]) -> dict[str, Any]:
    """The figures for one run of generated leads."""
    sources = Counter(m.source for m in written)
    api_calls = sum(m.api_calls for m in written)
    sent = [(c, m) for c, m in zip(contexts, written, strict=True) if m.ok]
    rechecked = sum(check(Draft(m.channel, m.body, m.subject), c.facts()).ok for c, m in sent)
    segments = [count_segments(m.body).segments for _, m in sent if m.channel == "sms"]
    over_limit = sum(count_segments(m.body).segments > c.sms_max_segments for c, m in sent if m.channel == "sms")
    openings = Counter(opening(m, c) for c, m in sent)
    return {
        "leads": len(contexts),
        "messages_sent": len(sent),
        "messages_not_sent": len(written) - len(sent),
        "by_source": dict(sorted(sources.items())),
        "claude_drafts": api_calls,
        "claude_drafts_passing_every_check": round(sources["ai"] / api_calls, 4) if api_calls else None,
        "drafts_rejected_then_offline": sum(m.rejected_by_checks for m in written),
        "sent_messages_passing_every_check": round(rechecked / len(sent), 4) if sent else None,
        "sms": {
            "messages": len(segments),
            "mean_segments": round(statistics.fmean(segments), 3) if segments else None,
            "max_segments": max(segments, default=None),
            "over_the_tenants_limit": over_limit,
        },
        "openings": {
            "words": OPENING_WORDS,
            "distinct": len(openings),
            "distinct_share": round(len(openings) / len(sent), 4) if sent else None,
            "most_common_share": round(openings.most_common(1)[0][1] / len(sent), 4) if sent else None,
        },
    }


def injection(contexts: Sequence[LeadContext], written: Sequence[WrittenMessage]) -> dict[str, Any]:
    """Each attempt's outcome: defeated when the message that would be sent carries nothing planted."""
    planned = attempts()
    failures, outcomes, by_kind = [], Counter[str](), Counter[str]()
    for attempt, message in zip(planned, written, strict=True):
        found = leaks(attempt, f"{message.subject or ''} {message.body}") if message.ok else []
        if found:
            failures.append({"attempt": attempt.name, "leaked": found})
        else:
            by_kind[attempt.payload.kind] += 1
        outcomes[_outcome(message)] += 1
    return {
        "attempts": len(planned),
        "payloads": len({a.payload.text for a in planned}),
        "fields": sorted({a.field for a in planned}),
        "defeated": len(planned) - len(failures),
        "defeated_share": round((len(planned) - len(failures)) / len(planned), 4),
        "defeated_by_kind": dict(sorted(by_kind.items())),
        "outcomes": dict(sorted(outcomes.items())),
        "failures": failures,
    }


def _outcome(message: WrittenMessage) -> str:
    if not message.ok:
        return "not sent"
    if message.rejected_by_checks:
        return "model obeyed, draft rejected, offline sent"
    return "model draft clean, sent" if message.source == "ai" else message.source


def run_with(writer_for: Callable[..., Writer], leads: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    contexts = [generated_lead(rng, n) for n in range(1, leads + 1)]
    with writer_for(functools.partial(sloppy_reply, inventing_share=0.05)) as writer:
        generated = quality(contexts, write_all(writer, contexts))
    with Writer() as offline:  # no key: the floor every lead falls back to, on its own
        generated["offline_writer_alone"] = quality(contexts, write_all(offline, contexts))
    attacked = [attacked_lead(a) for a in attempts()]
    with writer_for(obedient_reply, cache=False) as writer:  # every attempt reaches the model
        injected = injection(attacked, write_all(writer, attacked))
    return {"generated_leads": generated, "injection_set": injected}


def with_fake(behaviour: Callable[[str], str], *, cache: bool = True) -> Writer:
    """A writer whose Claude is the local fake playing `behaviour` (the fake stops with the writer)."""
    fake = FakeAnthropic(writer=behaviour).start()
    claude = ClaudeWriter(api_key=fake.api_key, model=MODEL, base_url=fake.url)
    return _Stopping(claude, BatchCache() if cache else None, fake)


def with_real_api(behaviour: Callable[[str], str], *, cache: bool = True) -> Writer:
    """A writer on the real API (the behaviour is the model's own)."""
    claude = ClaudeWriter.from_settings(load_settings())
    if claude is None:
        raise SystemExit("--real needs ANTHROPIC_API_KEY")
    return Writer(claude, BatchCache() if cache else None, None)


class _Stopping(Writer):
    def __init__(self, claude: ClaudeWriter, cache: BatchCache | None, fake: FakeAnthropic) -> None:
        super().__init__(claude, cache, None)
        self.fake = fake

    def close(self) -> None:
        super().close()
        self.fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ai_quality", description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=LEADS)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--real", type=int, default=0, help="also write N leads with the real API (never in CI)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result: dict[str, Any] = {
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "writer": f"local fake ({MODEL} prices), real SDK and checks",
        **run_with(with_fake, args.leads, args.seed),
        "seed": args.seed,
        "notes": [
            "generated leads: the fake writes curly quotes and dashes (normalised to GSM before measuring) and "
            "invents a discount in a stable 5 % of drafts; those are rejected, retried once, then written offline",
            "claude_drafts_passing_every_check = drafts sent as written / API calls (each call is one draft)",
            "openings: the first words after 'Hi <name>,' with the lead's own values as slots; the fake's "
            "phrasing is fixed, so this measures our cache and offline rotation here, the model with --real; "
            "offline_writer_alone is the same leads with no key (the templates' rotation on its own)",
            "injection set: the fake obeys planted text (copies it, shouts, recites the prompt); an attempt is "
            "defeated when the message that would be sent carries none of its markers and does not shout",
        ],
    }
    real_key = os.environ.get("ANTHROPIC_API_KEY") and not os.environ.get("CI")
    if args.real and real_key:
        real = run_with(with_real_api, args.real, args.seed)
        result["real_model"] = {"model": load_settings().anthropic_model, **real}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["injection_set"]["defeated_share"] == 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
