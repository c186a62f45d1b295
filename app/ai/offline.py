"""The writer that needs no network: hand-written templates, several per channel and rung.

It runs the demo with no key and catches every lead Claude could not write for (rate limit,
outage, a draft that failed the checks twice). Which template a lead gets comes from a hash
of the tenant, lead, rung and channel, so a screen of recovered leads reads like a person
wrote to each of them, and the same lead always gets the same words when a send is retried.
Templates that need a value the lead lacks (an interest) are skipped, never rendered
with a hole; an SMS that would take more segments than the tenant allows (long names) moves on
to a shorter one. Lead-typed values fill slots only when `LeadContext.slots` lets them (no link,
phone number, price or instruction, at most 60 characters), and a lead without a usable first
name is greeted "Hi there" by the templates that do not put the name in a subject line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from app.ai.context import NO_NAME, LeadContext
from app.domain.messages import Draft, check
from app.domain.templates import render, variables

MODEL = "offline"


@dataclass(frozen=True)
class Template:
    body: str
    subject: str | None = None

    def needs(self) -> set[str]:
        return set(variables(self.body)) | set(variables(self.subject or ""))

    def fill(self, channel: str, slots: dict[str, str]) -> Draft:
        subject = render(self.subject, slots) if self.subject else None
        return Draft(channel, render(self.body, slots), subject)


@dataclass(frozen=True)
class OfflineDraft:
    draft: Draft
    template: Template
    problems: tuple[str, ...] = ()


def _email(subject: str, *paragraphs: str) -> Template:
    return Template(body="\n\n".join(paragraphs), subject=subject)


EMAIL = {
    1: (
        _email(
            "Your {{interest}} enquiry",
            "Hi {{first_name}},",
            "Thanks again for getting in touch about {{interest}}. I didn't want your request to slip "
            "through the cracks in a busy week.",
            "Is it still something you're looking at? If it helps, I can send over a couple of options "
            "so you have something concrete to react to.",
            "Best,\n{{sender_name}}",
        ),
        _email(
            "Picking up where we left off",
            "Hi {{first_name}},",
            "You got in touch with us a little while ago and I wanted to make sure you got everything you needed.",
            "Is there one question I could answer that would make the next step easier?",
            "Thanks,\n{{sender_name}}",
        ),
        _email(
            "A quick question, {{first_name}}",
            "Hi {{first_name}},",
            "I was going through my notes and realised we never settled on a next step.",
            "Would a short call this week be useful, or would you rather I sent the details by email?",
            "All the best,\n{{sender_name}}, {{business_name}}",
        ),
        _email(
            "Still thinking it over, {{first_name}}?",
            "Hi {{first_name}},",
            "No rush at all, I just wanted to check whether you had any questions after our last conversation.",
            "Reply with whatever is on your mind and I'll get back to you personally.",
            "Cheers,\n{{sender_name}}",
        ),
    ),
    2: (
        _email(
            "Another angle on {{interest}}",
            "Hi {{first_name}},",
            "A lot of people we help with {{interest}} find it easier to start small and decide from there.",
            "Would a short, no-commitment chat about what that could look like for you be useful?",
            "Best,\n{{sender_name}}",
        ),
        _email(
            "One thing that might help",
            "Hi {{first_name}},",
            "Sometimes the hardest part is knowing what to ask. If you tell me the one thing holding you back, "
            "I'll give you a straight answer.",
            "Thanks,\n{{sender_name}}",
        ),
        _email(
            "Is now a better time?",
            "Hi {{first_name}},",
            "I know timing is everything. If things have been busy, I'm happy to pick this up whenever suits you.",
            "Just reply with a good week and I'll follow up then.",
            "Best regards,\n{{sender_name}}",
        ),
    ),
    3: (
        _email(
            "Should I close your file?",
            "Hi {{first_name}},",
            "I don't want to crowd your inbox, so this is my last note for now.",
            "If the timing isn't right, just reply \"not now\" and I'll check back later. If you'd like to "
            "go ahead, reply and I'll pick it up from there.",
            "Thanks,\n{{sender_name}}",
        ),
        _email(
            "Closing the loop on {{interest}}",
            "Hi {{first_name}},",
            "I'll stop following up about {{interest}} after this one, I promise.",
            "If you're still interested, a one-word reply is enough and I'll take it from there.",
            "All the best,\n{{sender_name}}",
        ),
        _email(
            "Last note from {{business_name}}",
            "Hi {{first_name}},",
            "Plans change, and that's completely fine. Should I keep your details on file, or close this for now?",
            "Either answer helps me not bother you.",
            "Kind regards,\n{{sender_name}}",
        ),
    ),
}

SMS = {
    1: (
        Template(
            "Hi {{first_name}}, it's {{sender_name}} from {{business_name}}. Still interested in "
            "{{interest}}? Happy to help by text. Reply STOP to opt out."
        ),
        Template(
            "Hi {{first_name}}, {{sender_name}} here. Any questions since we last spoke? "
            "Just reply here. Reply STOP to opt out."
        ),
        Template(
            "Hi {{first_name}}, it's {{sender_name}}. Want me to send over the details we "
            "discussed? Reply STOP to opt out."
        ),
    ),
    2: (
        Template(
            "Hi {{first_name}}, {{sender_name}} from {{business_name}}. Is {{interest}} still on "
            "your list? A yes or no is plenty. Reply STOP to opt out."
        ),
        Template(
            "Hi {{first_name}}, it's {{sender_name}}. Is there one question I can answer to make "
            "this easier? Reply STOP to opt out."
        ),
        Template("Hi {{first_name}}, {{sender_name}} here. Would a quick call this week help? Reply STOP to opt out."),
    ),
    3: (
        Template(
            "Hi {{first_name}}, {{sender_name}} here. Should I close your file for now? "
            "Reply 'not now' or 'go'. Reply STOP to opt out."
        ),
        Template(
            "Hi {{first_name}}, last text from {{sender_name}}. If you still want help with "
            "{{interest}}, just reply. Reply STOP to opt out."
        ),
        Template("Hi {{first_name}}, it's {{sender_name}}. No pressure, still interested? Reply STOP to opt out."),
    ),
}

# When a name is so long that nothing above fits in one SMS, this still might.
SHORTEST_SMS = Template("Hi {{first_name}}, still interested? -{{sender_name}}. Reply STOP to opt out.")


def templates_for(channel: str, rung: int) -> tuple[Template, ...]:
    table = SMS if channel == "sms" else EMAIL
    return table[min(max(rung, 1), max(table))]


def all_text() -> list[str]:
    """Every word the offline writer can say: vocabulary common to all leads."""
    templates = [t for table in (EMAIL, SMS) for group in table.values() for t in group]
    return [f"{t.subject or ''} {t.body}" for t in templates]


def stable_index(context: LeadContext, size: int) -> int:
    """Same lead, same rung, same channel: same choice, in every process."""
    seed = f"{context.tenant_id}:{context.lead_id}:{context.rung}:{context.channel}"
    return int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) % size


def rotation(context: LeadContext) -> list[Template]:
    """The usable templates, starting at this lead's own pick."""
    slots = context.slots()
    nameless = slots["first_name"] == NO_NAME  # "Still thinking it over, there?" reads like a robot
    usable = [
        t
        for t in templates_for(context.channel, context.rung)
        if t.needs() <= slots.keys() and not (nameless and "first_name" in variables(t.subject or ""))
    ]
    if context.channel == "sms":
        usable.append(SHORTEST_SMS)
    start = stable_index(context, len(usable)) if usable else 0
    return usable[start:] + usable[:start]


def write_offline(context: LeadContext) -> OfflineDraft:
    """The first template in this lead's rotation that passes the checks (or the last tried, with its problems)."""
    slots, facts = context.slots(), context.facts()
    last: OfflineDraft | None = None
    for template in rotation(context):
        draft = template.fill(context.channel, slots)
        verdict = check(draft, facts)
        last = OfflineDraft(draft, template, tuple(verdict.problems))
        if verdict.ok:
            return last
    if last is None:
        raise ValueError(f"no offline template fits channel {context.channel!r} for lead {context.lead_id}")
    return last
