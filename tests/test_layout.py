"""Layout rules (issue 14): only the command line maps errors to exit codes, so no
library module imports it; library code raises from experiments/errors.py; the model
imports nothing outside model/; the policy modules are an explicit list; batch folders
have one reader; `herdtrap NAME` is experiments/<folder>/NAME.py."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import pytest

from experiments.analysis import compare_compute
from experiments.errors import UsageError
from experiments.report import brief_compute
from experiments.report.provenance import read_batch

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
    from experiments import cli

    assert cli.UsageError is UsageError


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

    helpers = {"__init__", "dated", "levers", "metrics", "pensions", "programme"}
    modules = {p.stem for p in (ROOT / "model" / "policies").glob("*.py")} - helpers
    assert set(BUILTIN_MODULES) == modules
    _load_builtin()
    assert {cls.__module__.rsplit(".", 1)[1] for cls in REGISTRY.values()} == modules


def test_one_batch_reader_with_one_finished_rule(tmp_path):
    """compare and brief read batch folders through provenance.read_batch: a folder
    with runs waiting in parts/, or a manifest still running, is refused by both."""
    folder = tmp_path / "batch"
    folder.mkdir()
    manifest = {"kind": "batch", "scenarios": {"a": {}}, "finished": "2026-12-01T00:00:00"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    pd.DataFrame({"task_id": ["a-0", "a-0", "a-1"], "scenario": ["a", "a", "a"],
                  "replicate": [0, 0, 1], "status": ["failed", "ok", "ok"]}
                 ).to_parquet(folder / "runs.parquet")
    pd.DataFrame({"scenario": ["a", "a"], "replicate": [0, 1], "year": [1, 1]}
                 ).to_parquet(folder / "timeseries.parquet")
    files = read_batch(folder, UsageError)
    assert len(files.runs) == 2 and (files.runs["status"] == "ok").all()  # a rerun counts once
    (folder / "parts" / "part-000001").mkdir(parents=True)
    for reader, error in ((compare_compute.load_batch, UsageError),
                          (brief_compute.load_batch, brief_compute.BriefError)):
        with pytest.raises(error, match="has not finished"):
            reader(folder)
    (folder / "parts" / "part-000001").rmdir()
    (folder / "manifest.json").write_text(json.dumps({**manifest, "finished": None}))
    for reader, error in ((compare_compute.load_batch, UsageError),
                          (brief_compute.load_batch, brief_compute.BriefError)):
        with pytest.raises(error, match="has not finished"):
            reader(folder)


def test_outcome_tables_are_views_of_the_catalogue():
    """An outcome is declared once (experiments/outcomes.py); the tables of the runner,
    compare, brief and sensitivity read it."""
    from experiments.analysis import sensitivity_compute
    from experiments.outcomes import BY_NAME, CATALOGUE
    from experiments.run import runner

    assert {n: BY_NAME[n].better for n in runner.OUTCOMES} == runner.OUTCOMES
    assert all(BY_NAME[n].kind == "yearly" and BY_NAME[n].better == b
               for n, b in compare_compute.YEARLY_OUTCOMES.items())
    assert set(compare_compute.LABELS) == {o.name for o in CATALOGUE}
    assert all(BY_NAME[o.runs_column].better == o.better for o in brief_compute.OUTCOMES)
    assert sensitivity_compute.TRAP_OUTCOME in BY_NAME


def test_every_command_is_a_module_of_its_name():
    """A reader finds any command's code from its name: `herdtrap NAME` is implemented
    by experiments/<folder>/NAME.py (cli.COMMANDS is the one mapping), with the
    command interface (``main``, and ``add_arguments`` unless it parses its own argv)."""
    from experiments import cli

    folders = {"run", "analysis", "report", "webapp"}
    for name, (module, _help) in cli.COMMANDS.items():
        package, _, stem = module.rpartition(".")
        path = ROOT / Path(*module.split(".")).with_suffix(".py")
        assert stem == name and path.is_file(), f"herdtrap {name}: {module}"
        assert package.split(".") in (["experiments", f] for f in folders), module
        defined = {node.name for node in ast.parse(path.read_text(encoding="utf-8")).body
                   if isinstance(node, ast.FunctionDef)}
        needed = {"main"} if name in cli.RAW_ARGV else {"main", "add_arguments"}
        assert needed <= defined, f"{path.relative_to(ROOT)} lacks {needed - defined}"


def test_every_experiments_folder_is_a_package():
    """pyproject's package discovery (setuptools find) installs only folders with an
    __init__.py: a module in a folder without one would be missing from a wheel."""
    for path in ROOT.glob("experiments/**/*.py"):
        assert (path.parent / "__init__.py").is_file(), path.relative_to(ROOT)


def _module_imports() -> dict[str, set[str]]:
    """Module-level imports between herdtrap's modules (imports inside functions, under
    ``if TYPE_CHECKING:`` and under ``if __name__ == "__main__":`` excluded; ``from pkg
    import sub`` counts as an import of the submodule, not of the package)."""
    mods = {}
    for base in ("model", "experiments"):
        for p in (ROOT / base).rglob("*.py"):
            name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = p
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for node in ast.parse(p.read_text()).body:
            if isinstance(node, ast.If) and any(k in ast.dump(node.test)
                                                for k in ("TYPE_CHECKING", "__main__")):
                continue
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            for n in ast.walk(node):
                if isinstance(n, ast.Import):
                    graph[m].update(a.name for a in n.names if a.name in mods)
                elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                    subs = {f"{n.module}.{a.name}" for a in n.names} & set(mods)
                    graph[m].update(subs)
                    if len(subs) < len(n.names) and n.module in mods:
                        graph[m].add(n.module)
    return graph


def test_no_import_cycles():
    """Issue 14: no import cycle between modules, other than TYPE_CHECKING-only ones."""
    graph = _module_imports()
    assert len(graph) > 60 and graph["experiments.run.batch"]
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(u: str) -> None:
        state[u] = 1
        path.append(u)
        for v in sorted(graph[u]):
            assert state.get(v) != 1, "import cycle: " + " -> ".join(path[path.index(v):] + [v])
            if not state.get(v):
                visit(v)
        path.pop()
        state[u] = 2

    for m in sorted(graph):
        if not state.get(m):
            visit(m)
