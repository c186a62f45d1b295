"""`python -m bench.fuzz`: the suite's fuzz tests with many more generated inputs, and their tallies.

The same four tests the suite runs (the api routes by schemathesis, the CSV importer, the plan
validator, the Settings forms by AppTest), with every example count multiplied by `--scale`
(`FUZZ_SCALE`). They run in-process under pytest, on a database of their own on the server of
`DATABASE_URL` (else the embedded one), with the Redis db given here flushed before and after.
Hypothesis draws derandomized examples, so a run is repeatable. The counts of inputs tried per
target, whether any test failed and the seconds go to `bench/results/fuzz.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests import fuzz_tally

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "fuzz.json"
FUZZ_REDIS_DB = 13
TESTS = {
    "api": ["tests/integration/test_fuzz_api.py"],
    "csv_importer": ["tests/integration/test_fuzz_importer.py"],
    "plan_validator": ["tests/unit/test_fuzz_plan.py"],
    "settings_forms": ["tests/app/test_fuzz_settings.py", "tests/app/test_fuzz_settings_sections.py"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=10, help="times the suite's example counts")
    parser.add_argument("--redis-db", type=int, default=FUZZ_REDIS_DB, help="a Redis db number no one else uses")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    os.environ["FUZZ_SCALE"] = str(args.scale)
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path=f"/{args.redis_db}"))
    started = time.perf_counter()
    paths = [str(ROOT / p) for files in TESTS.values() for p in files]
    status = pytest.main([*paths, "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT)])
    seconds = time.perf_counter() - started
    tried = dict(fuzz_tally.TRIED)
    result = {
        "scale": args.scale,
        "inputs_tried": {target: tried.get(target, 0) for target in TESTS},
        "total_inputs": sum(tried.values()),
        "tests_failed": status != pytest.ExitCode.OK,
        "pytest_exit_code": int(status),
        "seconds": round(seconds, 1),
        "met": status == pytest.ExitCode.OK and all(tried.get(target, 0) > 0 for target in TESTS),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
