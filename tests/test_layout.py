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


def test_the_model_imports_nothing_outside_it():
    """model/ is the simulation; analyses and reports (experiments/) build on it."""
    offenders = []
    for path in sorted(ROOT.glob("model/**/*.py")):
        for name in _imports(path):
            if name.split(".")[0] in ("experiments", "scenarios", "app", "tests"):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_every_policy_module_is_in_the_explicit_list():
    from model.policies import BUILTIN_MODULES, REGISTRY, _load_builtin

    helpers = {"__init__", "dated", "metrics", "pensions", "programme"}
    modules = {p.stem for p in (ROOT / "model" / "policies").glob("*.py")} - helpers
    assert set(BUILTIN_MODULES) == modules
    _load_builtin()
    assert {cls.__module__.rsplit(".", 1)[1] for cls in REGISTRY.values()} == modules
