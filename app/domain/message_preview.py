"""A campaign message as one lead would get it: the template filled with the lead's values, held to
the same checks the writer holds every draft to, with its SMS segments.

The writer (`app/ai/writer.py`) uses an operator's template only when every slot has a value
for the lead and the filled text passes `messages.check`; otherwise it drafts that lead's
message itself from the brief. The preview says which will happen, lead by lead, so an
operator sees "{{interest}} has no value for Ben" before launch rather than after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.domain.messages import Draft, Facts, check
from app.domain.plan.wizard import MessageText
from app.domain.sms_segments import SmsSegments, count_segments
from app.domain.templates import MissingVariable, render


@dataclass(frozen=True)
class Preview:
    """The text this lead would get, or why the writer drafts theirs instead (`problems`)."""

    channel: str
    subject: str | None
    body: str
    segments: SmsSegments | None
    problems: tuple[str, ...] = ()

    @property
    def uses_template(self) -> bool:
        return not self.problems


def preview_message(channel: str, text: MessageText, slots: Mapping[str, str], facts: Facts) -> Preview | None:
    """The message `text` gives this lead on `channel`; None when it has no text for the channel."""
    subject_template, body_template = text.for_channel(channel)
    if not body_template:
        return None
    try:
        subject = render(subject_template, slots) if subject_template else None
        body = render(body_template, slots)
    except MissingVariable as missing:
        return Preview(channel, subject_template, body_template, _segments(channel, body_template), (str(missing),))
    verdict = check(Draft(channel, body, subject), facts)
    return Preview(channel, subject, body, _segments(channel, body), tuple(verdict.problems))


def _segments(channel: str, body: str) -> SmsSegments | None:
    return count_segments(body) if channel == "sms" else None
