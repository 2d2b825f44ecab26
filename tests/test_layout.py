"""Layout rules (issue 14): only the command line maps errors to exit codes, so no
library module imports it; library code raises from experiments/errors.py."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    """Modules a file imports (``from a import b`` gives a and a.b), at any depth."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_no_module_but_the_command_line_imports_it():
    offenders = []
    for path in sorted([*ROOT.glob("experiments/**/*.py"), *ROOT.glob("model/**/*.py")]):
        if path == ROOT / "experiments" / "cli.py":
            continue
        if "experiments.cli" in _imports(path):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], f"import experiments.errors / experiments.argtypes instead: {offenders}"


def test_the_command_line_catches_the_library_error():
    from experiments import cli, errors

    assert cli.UsageError is errors.UsageError
