"""Which status a campaign moves to when an operator launches, pauses, resumes or kills it.

- launch: a draft starts `running`, or `scheduled` when its start is still ahead;
- start: a `scheduled` campaign whose start has come runs;
- pause: a running or scheduled campaign stops sending for now (`paused`); its enrollments wait;
- resume: a paused campaign runs again (or waits for its start, when that is still ahead);
- kill: a scheduled, running or paused campaign ends for good (`killed`), its queue canceled.
  A killed campaign cannot be resumed: that is what makes the kill switch safe to press.
Anything else is refused with a sentence the console can show as it is.
"""

from __future__ import annotations

ACTIONS = ("launch", "start", "pause", "resume", "kill")
EDITABLE = frozenset({"draft"})
"""Only a draft's wizard answers may change: a launched plan is what its enrollments run on."""
LIVE = frozenset({"scheduled", "running", "paused"})

_FROM: dict[str, frozenset[str]] = {
    "launch": frozenset({"draft"}),
    "start": frozenset({"scheduled"}),
    "pause": frozenset({"scheduled", "running"}),
    "resume": frozenset({"paused"}),
    "kill": LIVE,
}
_VERB = {"launch": "launched", "start": "started", "pause": "paused", "resume": "resumed", "kill": "killed"}


class CampaignStateError(ValueError):
    """The action does not apply to the campaign's status; the message says why."""


def next_status(action: str, status: str, *, starts_later: bool = False) -> str:
    """The status after `action` on a campaign in `status`; `starts_later`: its start is still ahead."""
    if action not in _FROM:
        raise ValueError(f"unknown campaign action {action!r} ({', '.join(ACTIONS)})")
    if status not in _FROM[action]:
        raise CampaignStateError(_refusal(action, status))
    if action == "pause":
        return "paused"
    if action == "kill":
        return "killed"
    return "scheduled" if starts_later and action in ("launch", "resume") else "running"


def _refusal(action: str, status: str) -> str:
    if status == "killed":
        return "This campaign was killed: it cannot be changed or resumed; start a new campaign instead."
    if action == "launch":
        return f"Only a draft can be launched; this campaign is {status}."
    return f"A {status} campaign cannot be {_VERB[action]}."
