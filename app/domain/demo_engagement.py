"""What a demo lead does after a sandbox message reaches it: the simulator's script, decided by hash.

The demo under `make run` sends into the sandbox, where nobody reads anything. So that the
console shows a loop that answers (deliveries, opens, clicks, replies, bounces, opt-outs), the
simulator plays a plausible lead for every sandbox message and POSTs what that lead "did" to
the api as signed provider webhooks. This module is its script: a pure function of the message
id, its channel and when it went, so a rerun replays exactly the same story (and the api's
deduplication makes a replay harmless).

Rates are those of a warm re-engagement list: most mail is delivered, about a third opened,
a few clicks and replies, rare bounces, unsubscribes and spam reports; texts are delivered
almost always, answered more often, and a few leads text STOP. A reply, by mail or text, is
posted through the api's inbound door (SendGrid Inbound Parse, Twilio's inbound SMS), so it is
stored, triaged and shown in the inbox as a real one would be.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

EMAIL_REPLIES = (
    "Thanks for following up. Can you send me the updated pricing?",
    "Not right now, maybe next quarter.",
    "Yes, let's talk. Does Thursday afternoon work?",
    "I'm no longer the right person for this, sorry.",
)
SMS_REPLIES = (
    "Yes, still interested. Call me tomorrow?",
    "Can you text me the price again?",
    "Not now, thanks",
    "Who is this?",
)
STOP_WORDS = ("STOP", "Stop", "stop please")


@dataclass(frozen=True)
class Planned:
    """One thing the simulated lead does, `after` the message went out."""

    kind: str
    """email: delivered, bounce, open, click, reply, unsubscribe, spamreport;
    sms: delivered, undelivered, failed, reply, stop."""
    after: timedelta
    text: str = ""
    """The reply's words (email reply, sms reply or stop)."""
    error_code: str = ""
    """Twilio's code for an undelivered or failed text."""


def _draw(message_id: int, salt: str) -> float:
    """A stable number in [0, 1) for this message and purpose."""
    digest = hashlib.sha256(f"{message_id}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _pick(message_id: int, salt: str, options: tuple[str, ...]) -> str:
    return options[int(_draw(message_id, salt) * len(options))]


def _minutes(message_id: int, salt: str, low: float, high: float) -> timedelta:
    return timedelta(minutes=low + (high - low) * _draw(message_id, salt))


def email_script(message_id: int) -> list[Planned]:
    """Delivered (97 %) or bounced; then opened (35 %), clicked (25 % of opens), and rarely
    unsubscribed (1.5 %) or reported as spam (0.3 %); otherwise answered (6 %)."""
    if _draw(message_id, "bounce") < 0.03:
        return [Planned("bounce", timedelta(seconds=20))]
    script = [Planned("delivered", timedelta(seconds=10))]
    if _draw(message_id, "open") < 0.35:
        opened = _minutes(message_id, "open-at", 1, 90)
        script.append(Planned("open", opened))
        if _draw(message_id, "click") < 0.25:
            script.append(Planned("click", opened + _minutes(message_id, "click-at", 0.2, 5)))
    ending = _draw(message_id, "ending")
    if ending < 0.015:
        script.append(Planned("unsubscribe", _minutes(message_id, "unsub-at", 2, 120)))
    elif ending < 0.018:
        script.append(Planned("spamreport", _minutes(message_id, "spam-at", 2, 120)))
    elif _draw(message_id, "email-answer") < 0.06:
        text = _pick(message_id, "email-reply", EMAIL_REPLIES)
        script.append(Planned("reply", _minutes(message_id, "email-reply-at", 2, 180), text=text))
    return script


def sms_script(message_id: int) -> list[Planned]:
    """Delivered (97 %), carrier-filtered (2 %, 30007) or not a mobile (1 %, 21614); then a
    reply (12 %) or STOP (2.5 %)."""
    fate = _draw(message_id, "fate")
    if fate < 0.01:
        return [Planned("failed", timedelta(seconds=15), error_code="21614")]
    if fate < 0.03:
        return [Planned("undelivered", timedelta(seconds=30), error_code="30007")]
    script = [Planned("delivered", timedelta(seconds=8))]
    answer = _draw(message_id, "answer")
    if answer < 0.025:
        script.append(Planned("stop", _minutes(message_id, "stop-at", 1, 60), text=_pick(message_id, "w", STOP_WORDS)))
    elif answer < 0.145:
        text = _pick(message_id, "reply", SMS_REPLIES)
        script.append(Planned("reply", _minutes(message_id, "reply-at", 1, 180), text=text))
    return script


def script_for(message_id: int, channel: str) -> list[Planned]:
    return email_script(message_id) if channel == "email" else sms_script(message_id)


def due_between(sent_at: datetime, script: list[Planned], start: datetime, end: datetime) -> list[Planned]:
    """The planned steps that fall in (start, end]: what one simulator run should post."""
    return [p for p in script if start < sent_at + p.after <= end]
