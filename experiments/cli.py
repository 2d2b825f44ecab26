"""The `herdtrap` command line: one subcommand per task.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``main(args) -> int``; modules are imported only when their command runs, so
`herdtrap --help` is fast. Bad input (a missing or malformed scenario, an
unknown key, an out-of-range value) ends with a one-line message and exit
code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from model.parameters import ParameterError
from model.scenario import ScenarioError

#: command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("experiments.single", "run one simulation and write its results folder"),
    "params": ("experiments.params_cmd", "print the parameter table (or write docs/PARAMETERS.md)"),
    "calibrate": ("experiments.calibrate", "fit the dzud generator and regions from NSO files"),
}


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="herdtrap",
        description="Poverty traps among Mongolian herder households: simulation and policy tools.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        if name == "calibrate":
            p.add_argument("argv", nargs=argparse.REMAINDER, help="see `python -m experiments.calibrate --help`")
            continue
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "calibrate":
        from experiments import calibrate

        return calibrate.main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    module = importlib.import_module(args._module)
    try:
        return int(module.main(args) or 0)
    except (ScenarioError, ParameterError, UsageError) as exc:
        print(f"herdtrap {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"herdtrap {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
