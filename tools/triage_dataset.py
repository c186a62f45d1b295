"""Writes app/domain/triage/data/replies.jsonl from hand-written phrasings.

Why a generator: each hand-written phrasing is shipped in an SMS register (lower case, clipped,
sometimes a typo) and an email register (greeting and sign-off), so the model sees both ways a
person answers; the output is deterministic (fixed seed) so the file only changes when the
phrasings do. Each row names its phrasing (`group`) so a held-out split keeps every variant
of one phrasing on the same side. Run: `.venv/bin/python tools/triage_dataset.py`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "app" / "domain" / "triage" / "data" / "replies.jsonl"

PHRASES: dict[str, list[str]] = {
    "interested": [
        "Yes I'm interested, call me",
        "Sounds good, let's talk",
        "Sure, what times work for you this week?",
        "Yes please book me in",
        "I'd like to come back, can you set it up",
        "Great timing, I was just thinking about this",
        "Count me in",
        "Let's do it",
        "Yes, send me the details and I'll sign",
        "Ok I'm in, what's the next step",
        "Happy to chat, call me after 3",
        "Please give me a call tomorrow morning",
        "That works for me, go ahead",
        "Interested! When can we start?",
        "Yes definitely, I've been meaning to get back to you",
        "Absolutely, let's set up a time",
        "Perfect, book me for Thursday",
        "I want to renew, how do I do that",
        "Yes we're ready to move forward",
        "Good idea, let's get it scheduled",
        "Sure thing, call anytime today",
        "Yeah I'd love that",
        "Sign me up",
        "Let's reconnect, I'm keen",
        "We'd like a quote, please send one over",
        "I'm ready to buy, send the invoice",
        "Yes, that offer sounds great",
        "Let's meet next week to go over it",
        "ok sounds great lets go",
        "Can't wait, set it up",
    ],
    "question": [
        "How much does it cost?",
        "What's the price for the basic plan?",
        "Do you offer financing?",
        "What are your hours?",
        "Is this still available?",
        "Can you tell me more about what's included?",
        "Does the discount apply to existing customers?",
        "Where are you located?",
        "How long does it take?",
        "Do you work weekends?",
        "What's the difference between the two packages?",
        "Is there a contract or can I cancel anytime?",
        "Do you take credit cards?",
        "How did you get my number?",
        "Can I bring a friend?",
        "What does the warranty cover?",
        "Is parking available?",
        "Who would I be working with?",
        "Do you have any reviews I can read?",
        "What's the earliest date you could do?",
        "Is the price per month or per year?",
        "Does it include installation?",
        "Are there any hidden fees?",
        "Can I pay in installments?",
        "What happens if I need to reschedule?",
        "which option would you recommend for a small team?",
        "is the offer still valid?",
        "do you ship to canada?",
        "how does the trial work?",
        "what's included in the price?",
    ],
    "not_now": [
        "Not right now, maybe next month",
        "Busy at the moment, try me in a few weeks",
        "Can you reach out again in March?",
        "Not this quarter, check back later",
        "Ask me again after the holidays",
        "Timing isn't great, follow up next month",
        "Maybe later this year",
        "We're mid-move, contact me in 2 weeks",
        "Not yet, I'll be ready in the spring",
        "Try me again next week",
        "Too busy right now, circle back in a month",
        "Please follow up in January",
        "Can we revisit this after June 1?",
        "Hold off for now, budget opens next quarter",
        "Not a good time, ping me later",
        "Check in with me in a couple of months",
        "I'm swamped, maybe next month",
        "Let's talk again in the new year",
        "Can you text me back in 3 weeks",
        "Not now but don't give up on me",
        "We'll revisit once the project wraps up",
        "Reach out again after the 15th",
        "Later please, I'm at work",
        "Give me a month or so",
        "Maybe in the fall",
        "Interested but not until next month",
        "Circle back after our budget meeting",
        "Not for a while, try again in April",
        "Bad timing, follow up in 30 days",
        "hit me up next month",
    ],
    "not_interested": [
        "No thanks",
        "Not interested",
        "We went with someone else",
        "No longer need this",
        "I'm all set, thanks",
        "We're happy with our current provider",
        "Nope",
        "Not for us",
        "No thank you, we decided against it",
        "I don't need it anymore",
        "Pass",
        "We found another company",
        "Not interested at all",
        "We're good, thanks anyway",
        "That's not something we need",
        "I already bought elsewhere",
        "Too expensive for us, no",
        "No, we closed that project",
        "I'm not looking for this",
        "We don't need your services",
        "Thanks but no thanks",
        "Decided not to go ahead",
        "We're going in a different direction",
        "I changed my mind, not doing it",
        "Not interested, sorry",
        "Please don't follow up, we chose a competitor",
        "No we're fine",
        "Not what I'm looking for",
        "We've moved on",
        "nah im good",
    ],
    "unsubscribe": [
        "Please remove me from your list",
        "Unsubscribe",
        "Stop texting me",
        "Stop emailing me",
        "Take me off your mailing list",
        "Do not contact me again",
        "Remove my number",
        "Remove my email from your database",
        "Stop messaging me please",
        "I want to opt out",
        "Don't text this number again",
        "Please stop sending me these",
        "Quit contacting me",
        "Delete my info",
        "Stop spamming me",
        "Unsubscribe me from all emails",
        "Leave me alone, remove me",
        "I never signed up, stop",
        "Cease all communication",
        "No more messages please",
        "Please take me off this list",
        "opt me out",
        "Stop contacting me or I'll report you",
        "Don't email me anymore",
        "Remove me now",
        "Lose my number",
        "I asked you to stop already",
        "Unsubscribe this address",
        "Please stop calling and texting",
        "stop stop stop",
    ],
    "out_of_office": [
        "I am out of the office until Monday with limited access to email",
        "Thank you for your email. I'm on vacation until January 5 and will reply when I return",
        "Out of office: back on March 3",
        "I'm currently away and will be back on the 12th",
        "Automatic reply: I am on leave until 2 February",
        "I'm travelling this week with no access to email, back next Tuesday",
        "Auto-reply: I am out of the office. For urgent matters contact my colleague",
        "On holiday until the 20th, will respond after",
        "I'm away on parental leave until April",
        "Out of office until further notice",
        "I am attending a conference and will return on 10/14",
        "Away from my desk until Friday",
        "I'm on annual leave returning 3 June",
        "Thanks for your message, I'm out until next week",
        "Automatic reply: away until Dec 28, limited connectivity",
        "I'm off sick today, back tomorrow",
        "Out of the office on business travel, returning Jan 8",
        "This is an automated response: I'm on vacation",
        "I will be out of office from now until the 3rd",
        "Currently out on holiday, back Monday",
        "Away this week, will respond when I'm back",
        "OOO until 11/2",
        "I'm out of the country until the end of the month",
        "Autoreply: this mailbox is not monitored while I'm away until 15 March",
        "On vacation, back on Wednesday",
        "I'm out on maternity leave until September",
        "Currently away with no phone signal, back on the 9th",
        "I'm out of the office today and tomorrow",
        "Away until 7 January, for urgent issues call the front desk",
        "on vacay til monday",
    ],
    "wrong_person": [
        "Wrong number",
        "You have the wrong person",
        "Who is this?",
        "I'm not the person you're looking for",
        "This isn't Sarah, wrong number",
        "I don't know who that is",
        "Never heard of your company",
        "I think you have the wrong email",
        "He doesn't work here anymore",
        "She left the company last year",
        "This is not my account",
        "Wrong contact, I'm not in charge of that",
        "You want my colleague, not me",
        "I'm not the owner, try the manager",
        "This number belongs to someone else now",
        "New number, who dis",
        "I never did business with you",
        "You've got the wrong guy",
        "I'm not the decision maker here",
        "Not me, I think you mean my brother",
        "I don't handle purchasing, contact procurement",
        "This email is for a different person",
        "No one by that name here",
        "I just got this number",
        "You must have me confused with someone else",
        "The person you want retired",
        "Not the right person, sorry",
        "I have no idea what this is about",
        "I'm not a customer of yours",
        "wrong persn",
    ],
}

GREETINGS = ["Hi,", "Hello,", "Hi there,", "Good morning,", "Dear team,", ""]
SIGNOFFS = ["Thanks", "Best regards", "Cheers", "Kind regards", "Thanks,\nSam", "Regards,\nJordan"]
SMS_TAILS = ["", "", " thx", " !", " :)", " pls", "."]
SMS_SWAPS = [("you", "u"), ("your", "ur"), ("please", "pls"), ("thanks", "thx"), ("are", "r"), ("okay", "ok")]


def typo(text: str, rng: random.Random) -> str:
    """One dropped or doubled letter in a word of four letters or more, as a thumb would."""
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not long_words:
        return text
    i = rng.choice(long_words)
    word = words[i]
    j = rng.randrange(1, len(word) - 1)
    words[i] = word[:j] + word[j + 1 :] if rng.random() < 0.5 else word[:j] + word[j] + word[j:]
    return " ".join(words)


def sms(text: str, rng: random.Random) -> str:
    out = text.lower() if rng.random() < 0.7 else text
    for long, short in SMS_SWAPS:
        if rng.random() < 0.5:
            out = " ".join(short if w == long else w for w in out.split(" "))
    out = out.rstrip(".?!") + rng.choice(SMS_TAILS) if rng.random() < 0.5 else out
    return out.strip()


def email(text: str, rng: random.Random) -> str:
    greeting = rng.choice(GREETINGS)
    body = text if text.endswith((".", "?", "!")) else text + "."
    parts = [greeting, body, rng.choice(SIGNOFFS)] if greeting else [body, rng.choice(SIGNOFFS)]
    return "\n\n".join(parts)


def rows() -> list[dict[str, str]]:
    rng = random.Random(11)
    out: list[dict[str, str]] = []
    for intent, phrases in PHRASES.items():
        for n, phrase in enumerate(phrases):
            group = f"{intent}-{n:02d}"
            variants = [("sms", sms(phrase, rng)), ("sms", sms(typo(phrase, rng), rng)), ("email", email(phrase, rng))]
            if rng.random() < 0.5:
                variants.append(("email", email(typo(phrase, rng), rng)))
            out.extend({"text": t, "channel": c, "intent": intent, "group": group} for c, t in variants)
    return out


def main() -> None:
    data = rows()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")
    print(f"{len(data)} examples -> {OUT}")


if __name__ == "__main__":
    main()
