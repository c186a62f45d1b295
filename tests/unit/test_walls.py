"""The import walls hold, and the checker that says so catches what it must (tools/walls.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / "tools" / "walls.py"

RULES = """
[[tool.walls.rule]]
paths = ["app/domain"]
only = ["app.domain"]
why = "pure"

[[tool.walls.rule]]
paths = ["db"]
forbid = ["app"]
why = "data layer"

[[tool.walls.rule]]
paths = ["components"]
forbid = ["app"]
allow = ["app.domain"]
why = "widgets"
"""


def run_checker(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECKER), "--root", str(root)], capture_output=True, text=True, check=False
    )


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text(RULES)
    packages = {"app/domain/__init__.py": "", "db/__init__.py": "", "components/__init__.py": ""}
    for name, text in {**packages, **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_project_breaks_no_wall() -> None:
    result = run_checker(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("walls: 0 broken")


@pytest.mark.parametrize(
    ("files", "breach"),
    [
        ({"app/domain/rules.py": "import sqlalchemy\n"}, "app/domain/rules.py:1: imports sqlalchemy (pure)"),
        ({"app/domain/rules.py": "from app.services import scan\n"}, "app/domain/rules.py:1: imports app.services"),
        ({"app/domain/rules.py": "\n\nfrom ..services import scan\n"}, "app/domain/rules.py:3: imports app.services"),
        ({"db/models.py": "from app.settings import get_settings\n"}, "db/models.py:1: imports app.settings"),
        ({"components/cards.py": "from app import runtime\n"}, "components/cards.py:1: imports app.runtime"),
        ({"components/cards.py": "import app.services.scan\n"}, "components/cards.py:1: imports app.services.scan"),
    ],
)
def test_a_forbidden_import_is_reported_with_its_line(tmp_path: Path, files: dict[str, str], breach: str) -> None:
    result = run_checker(project(tmp_path, files))
    assert result.returncode == 1
    assert breach in result.stdout
    assert result.stdout.strip().endswith("walls: 1 broken")


def test_allowed_imports_pass(tmp_path: Path) -> None:
    files = {
        "app/domain/rules.py": "import datetime\nfrom zoneinfo import ZoneInfo\nfrom app.domain import other\n"
        "from . import other\n",
        "app/domain/other.py": "",
        "components/cards.py": "import streamlit\nfrom app.domain.rules import x\n",
        "db/models.py": "import sqlalchemy\n",
    }
    result = run_checker(project(tmp_path, files))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "walls: 0 broken"


def test_a_rule_naming_a_missing_folder_is_an_error_not_a_pass(tmp_path: Path) -> None:
    root = project(tmp_path, {})
    (root / "pyproject.toml").write_text(RULES + '\n[[tool.walls.rule]]\npaths = ["gone"]\nforbid = ["x"]\nwhy = "w"\n')
    result = run_checker(root)
    assert result.returncode != 0
    assert "matches no Python file" in result.stdout + result.stderr
