"""`bench/ai_quality.py` runs offline in the suite: on a small set of generated leads and the whole
injection set, against the local fake, every sent message passes every check and every injection
attempt is defeated."""

from __future__ import annotations

from bench.ai_quality import run_with, with_fake
from bench.injections import PAYLOADS, attempts


def test_the_ai_quality_bench_runs_offline_and_defeats_every_injection_attempt() -> None:
    result = run_with(with_fake, 40, seed=3)

    generated, injected = result["generated_leads"], result["injection_set"]
    assert generated["messages_sent"] == 40
    assert generated["sent_messages_passing_every_check"] == 1.0
    assert generated["sms"]["over_the_tenants_limit"] == 0
    assert injected["attempts"] == len(attempts()) == 6 * len(PAYLOADS) >= 60
    assert injected["failures"] == []
    assert injected["defeated_share"] == 1.0
