"""`python -m app classify`: JSON lines in, the same lines with the reading out, bad lines kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(stdin: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    return subprocess.run(
        [sys.executable, "-m", "app", "classify"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )


def test_each_line_comes_back_with_intent_sentiment_and_priority() -> None:
    lines = [
        {"text": "please remove me from your list", "channel": "email", "id": 7},
        {"text": "wrong number", "channel": "sms"},
    ]
    done = run("".join(json.dumps(line) + "\n" for line in lines))
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["intent"] for o in out] == ["unsubscribe", "wrong_person"]
    assert out[0]["id"] == 7
    assert out[0]["text"] == "please remove me from your list"
    assert out[0]["priority"] in {"high", "medium", "low"}
    assert -1 <= out[0]["sentiment"] <= 1


def test_a_bad_line_is_reported_in_place_and_the_rest_still_read() -> None:
    done = run('not json\n{"channel": "sms"}\n{"text": "yes", "channel": "fax"}\n{"text": "no thanks"}\n')
    assert done.returncode == 1
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o.get("line") for o in out[:3]] == [1, 2, 3]
    assert out[0]["raw"] == "not json"
    assert "channel" in out[2]["error"]
    assert out[3]["intent"] == "not_interested"
