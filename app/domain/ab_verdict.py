"""A test's verdict as JSON, for `campaigns.variants['decision']` and the audit row, and back.

The verdict is stored with the figures it was made on (counts, rates, evidence, settings, the
rule's sentence), so the console can show why a variant won long after the counts moved on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.domain.ab_test import ArmStats, Decision, Settings, State


def decision_to_json(decision: Decision, decided_at: dt.datetime) -> dict[str, Any]:
    """The verdict with the figures it was made on, for `campaigns.variants['decision']`."""
    if decided_at.tzinfo is None:
        raise ValueError("decided_at needs its time zone")
    return {
        "state": decision.state.value,
        "winner": decision.winner,
        "leader": decision.leader,
        "decided_at": decided_at.isoformat(),
        "settings": decision.settings.to_json(),
        "threshold": decision.threshold,
        "rule": decision.rule,
        "summary": decision.summary,
        "arms": [
            {
                "name": s.name,
                "sent": s.sent,
                "successes": s.successes,
                "rate": s.rate,
                "low": s.low,
                "high": s.high,
                "evidence": s.evidence,
                "p_best": s.p_best,
                "expected_loss": s.expected_loss,
            }
            for s in decision.arms
        ],
    }


def decision_from_json(raw: Any) -> tuple[Decision, dt.datetime]:
    """The stored verdict and when it was made; ValueError when the JSON is not one."""
    try:
        arms = tuple(
            ArmStats(
                str(a["name"]),
                int(a["sent"]),
                int(a["successes"]),
                _optional(a["rate"]),
                _optional(a["low"]),
                _optional(a["high"]),
                _optional(a["evidence"]),
                float(a["p_best"]),
                float(a["expected_loss"]),
            )
            for a in raw["arms"]
        )
        decided_at = dt.datetime.fromisoformat(raw["decided_at"])
        decision = Decision(
            State(raw["state"]),
            raw["winner"],
            raw["leader"],
            arms,
            Settings.from_json(raw["settings"]),
            float(raw["threshold"]),
            str(raw["rule"]),
            str(raw["summary"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a stored A/B decision: {error}") from None
    if decided_at.tzinfo is None:
        raise ValueError("not a stored A/B decision: decided_at has no time zone")
    return decision, decided_at


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)
