"""The `herdtrap` command line: one subcommand per task.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``main(args) -> int``; a module is imported only when its command runs, so
`herdtrap --help` is fast. Bad input (a missing or malformed scenario, an
unknown key, an out-of-range value) ends with a one-line message and exit
code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from experiments.argtypes import (  # noqa: F401  (re-exported: cli.int_range ...)
    DASK_SCHEMES,
    SEED_MAX,
    existing_folder,
    finite,
    float_range,
    int_range,
    out_folder,
    scheduler_address,
    seed,
)
from experiments.errors import UsageError
from model.parameters import ParameterError
from model.scenario import ScenarioError

#: command -> (module, one-line help). Order is the order of `herdtrap --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("experiments.run.run", "run one simulation and write its results folder"),
    "batch": ("experiments.run.batch", "run scenarios x replicates (paired seeds), resumable"),
    "compare": ("experiments.analysis.compare", "compare a batch's scenarios with a baseline (CIs, costs)"),
    "demo": ("experiments.run.demo", "the default policy comparison: batch + report"),
    "sensitivity": ("experiments.analysis.sensitivity", "Sobol or Morris sensitivity analysis (SALib)"),
    "discover": ("experiments.analysis.discover", "scenario discovery with PRIM on a results folder"),
    "brief": ("experiments.report.brief", "write a citable brief (HTML, Markdown, figures) for a batch"),
    "hindcast": ("experiments.analysis.hindcast", "replay an aimag's history and compare with the census"),
    "trap": ("experiments.analysis.trap", "estimate the poverty-trap threshold from a household panel"),
    "validate": ("experiments.analysis.validate", "regenerate docs/VALIDATION.md"),
    "app": ("experiments.webapp.app", "open the browser app (Solara) on localhost"),
    "budget": ("experiments.analysis.budget", "scale a policy lever so its fiscal cost equals a budget"),
    "frontier": ("experiments.analysis.frontier", "compare policy designs at equal budgets (cost-effect frontier)"),
    "params": ("experiments.report.params", "print the parameter table (or write docs/PARAMETERS.md)"),
    "calibrate": ("experiments.analysis.calibrate", "fit the dzud generator and regions from NSO files"),
    "fit": ("experiments.analysis.fit", "calibrate parameters to data with ABC-SMC (pyabc)"),
    "adopt": ("experiments.analysis.adopt", "make a fit's posterior medians the default parameters"),
}
#: commands whose module parses its own argv (argparse inside ``main(argv)``)
RAW_ARGV = {"calibrate"}


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line is a UsageError: one line, exit code 2
    (argparse's own error prints the whole usage first)."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{message} (see herdtrap {self.prog.split()[-1]} --help)")


def _available() -> dict[str, tuple[str, str]]:
    return {
        name: spec for name, spec in COMMANDS.items()
        if importlib.util.find_spec(spec[0]) is not None
    }


def _top_help() -> str:
    lines = [
        "usage: herdtrap COMMAND [options]   (herdtrap COMMAND --help for a command's options)",
        "",
        "Poverty traps among Mongolian herder households: simulation and policy tools.",
        "",
        "commands:",
    ]
    for name, (_, text) in _available().items():
        lines.append(f"  {name:12s} {text}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_top_help())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    from experiments.report import provenance

    provenance.INVOCATION = list(argv)
    commands = _available()
    if command not in commands:
        print(f"herdtrap: error: unknown command {command!r}; commands: {', '.join(commands)} "
              "(herdtrap --help)", file=sys.stderr)
        return 2
    module = importlib.import_module(commands[command][0])
    try:
        if command in RAW_ARGV:
            return int(module.main(rest) or 0)
        parser = ArgumentParser(prog=f"herdtrap {command}", description=commands[command][1])
        module.add_arguments(parser)
        args = parser.parse_args(rest)
        args.command = command
        return int(module.main(args) or 0)
    except (ScenarioError, ParameterError, UsageError) as exc:
        print(f"herdtrap {command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"herdtrap {command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # `python -m experiments.cli`: run the imported module's main, so that the error
    # classes the commands raise (experiments.errors.UsageError) are the ones caught here
    from experiments.cli import main as _main

    sys.exit(_main())
