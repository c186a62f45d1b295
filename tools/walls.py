"""Check the import walls between the project's layers (docs/architecture.md, "Who may import whom").

The rules live in `pyproject.toml` under `[[tool.walls.rule]]`, so the layering is declared
once, beside the other tool settings, and this checker only reads code. It parses every
module with `ast` (nothing is imported or executed), resolves relative imports to absolute
module names, and reports each import a rule forbids.

Run from anywhere: `python tools/walls.py` (exit status 1 and one line per broken wall).
"""

from __future__ import annotations

import argparse
import ast
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_PARTS = frozenset({"tests", ".venv", ".data", "__pycache__", "migrations"})


@dataclass(frozen=True)
class Rule:
    """Modules under `paths` may not import a module under any of `forbid`, except under `allow`.

    With `only`, the rule is a whitelist instead: the standard library plus those modules.
    """

    paths: tuple[str, ...]
    forbid: tuple[str, ...]
    allow: tuple[str, ...]
    only: tuple[str, ...] | None
    why: str

    def bans(self, module: str) -> bool:
        if self.only is not None:
            top = module.split(".")[0]
            return top not in sys.stdlib_module_names and not any(within(module, o) for o in self.only)
        banned = any(within(module, f) for f in self.forbid)
        return banned and not any(within(module, a) for a in self.allow)


@dataclass(frozen=True)
class Breach:
    file: Path
    line: int
    module: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: imports {self.module} ({self.why})"


def load_rules(pyproject: Path) -> list[Rule]:
    table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("walls", {})
    rules = [
        Rule(
            paths=tuple(raw["paths"]),
            forbid=tuple(raw.get("forbid", ())),
            allow=tuple(raw.get("allow", ())),
            only=tuple(raw["only"]) if "only" in raw else None,
            why=raw["why"],
        )
        for raw in table.get("rule", [])
    ]
    if not rules:
        raise SystemExit(f"walls: no [[tool.walls.rule]] in {pyproject}")
    return rules


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def module_name(file: Path, root: Path) -> str:
    parts = list(file.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module a `from ... import` names, relative levels resolved against the importer."""
    if node.level == 0:
        return node.module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(file: Path, root: Path) -> Iterator[tuple[int, str]]:
    """Every module the file imports, with its line; `from m import x` counts as m.x (x may be a name in m,
    which lies within m for every rule)."""
    tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
    importer = module_name(file, root)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = absolute(node, importer, file.name == "__init__.py")
            for alias in node.names:
                yield node.lineno, base if alias.name == "*" else f"{base}.{alias.name}".lstrip(".")


def python_files(root: Path, path: str) -> list[Path]:
    target = root / path
    if target.is_file():
        return [target]
    return sorted(p for p in target.rglob("*.py") if not SKIPPED_PARTS.intersection(p.relative_to(root).parts))


def breaches(rule: Rule, root: Path) -> Iterator[Breach]:
    for path in rule.paths:
        files = python_files(root, path)
        if not files:
            raise SystemExit(f"walls: the rule for {path!r} matches no Python file; fix pyproject.toml")
        for file in files:
            for line, module in imported_modules(file, root):
                if rule.bans(module):
                    yield Breach(file.relative_to(root), line, module, rule.why)


def check(root: Path) -> list[Breach]:
    found = {b for rule in load_rules(root / "pyproject.toml") for b in breaches(rule, root)}
    return sorted(found, key=lambda b: (str(b.file), b.line, b.module))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="project root holding pyproject.toml")
    root = parser.parse_args(argv).root.resolve()
    found = check(root)
    for breach in found:
        print(breach)
    print(f"walls: {len(found)} broken")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
