"""The import walls of DESIGN.md §3 hold (the shared checker reads the code's own imports)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WALLS = ROOT.parent / "shared" / "tools" / "walls.py"


def test_no_import_wall_is_broken() -> None:
    assert WALLS.exists(), f"the shared wall checker is missing at {WALLS}"
    result = subprocess.run([sys.executable, str(WALLS)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
