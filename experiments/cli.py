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
import math
import os
import sys
from pathlib import Path

from model.parameters import ParameterError
from model.scenario import ScenarioError

#: command -> (module, one-line help). Order is the order of `herdtrap --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("experiments.single", "run one simulation and write its results folder"),
    "batch": ("experiments.batch", "run scenarios x replicates (paired seeds), resumable"),
    "compare": ("experiments.compare", "compare a batch's scenarios with a baseline (CIs, costs)"),
    "demo": ("experiments.demo", "the default policy comparison: batch + report"),
    "sensitivity": ("experiments.sensitivity", "Sobol or Morris sensitivity analysis (SALib)"),
    "discover": ("experiments.discovery", "scenario discovery with PRIM on a results folder"),
    "brief": ("experiments.brief", "write a citable brief (HTML, Markdown, figures) for a batch"),
    "hindcast": ("experiments.hindcast", "replay an aimag's history and compare with the census"),
    "trap": ("experiments.trap", "estimate the poverty-trap threshold from a household panel"),
    "validate": ("experiments.validate", "regenerate docs/VALIDATION.md"),
    "app": ("experiments.app_cmd", "open the browser app (Solara) on localhost"),
    "budget": ("model.policies.budget", "scale a policy lever so its fiscal cost equals a budget"),
    "params": ("experiments.params_cmd", "print the parameter table (or write docs/PARAMETERS.md)"),
    "calibrate": ("experiments.calibrate", "fit the dzud generator and regions from NSO files"),
}
#: commands whose module parses its own argv (argparse inside ``main(argv)``)
RAW_ARGV = {"calibrate", "budget"}


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line is a UsageError: one line, exit code 2
    (argparse's own error prints the whole usage first)."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{message} (see herdtrap {self.prog.split()[-1]} --help)")


# --------------------------------------------------------------------------- flag types
# Checked by argparse while it parses, so a bad flag is refused before anything
# runs or is written. argparse prefixes the message with "argument --flag: ".

def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def int_range(low: int, high: int | None = None, *, also: tuple[int, ...] = (),
              label: str | None = None):
    """An argparse type: a whole number in [low, high] (or one of ``also``); ``label``
    shows the range in messages."""
    def parse(text: str) -> int:
        value = _parse_int(text)
        if value in also or (value >= low and (high is None or value <= high)):
            return value
        allowed = label or (f"[{low}, {high}]" if high is not None else f">= {low}")
        extra = f" or {', '.join(map(str, also))}" if also else ""
        raise argparse.ArgumentTypeError(f"{value} is outside the allowed range {allowed}{extra}")
    parse.__name__ = "whole number"
    return parse


#: seeds: numpy's SeedSequence takes non-negative integers; 2**63 keeps them int64
SEED_MAX = 2**63 - 1
seed = int_range(0, SEED_MAX, label="[0, 2**63 - 1]")


def float_range(low: float, high: float, *, low_open: bool = False, high_open: bool = False):
    """An argparse type: a finite number in the interval (open or closed at each end)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        ok = (math.isfinite(value)
              and (value > low if low_open else value >= low)
              and (value < high if high_open else value <= high))
        if not ok:
            interval = (f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}")
            raise argparse.ArgumentTypeError(f"{text} is outside the allowed range {interval} "
                                             "(a finite number)")
        return value
    parse.__name__ = "number"
    return parse


def finite(text: str) -> float:
    """An argparse type: any finite number (not nan or inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not allowed; give a finite number")
    return value


def out_folder(text: str) -> Path:
    """An argparse type: a folder to write into. It may not exist yet, but it must not be
    a file, and nothing on its path may be a file (checked before anything is written)."""
    if not text.strip() or "\x00" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder name")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file, not a folder")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise argparse.ArgumentTypeError(f"{path} is under {parent}, which is a file")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise argparse.ArgumentTypeError(f"{path}: cannot write into {parent}")
            break
    return path


def existing_folder(text: str) -> Path:
    """An argparse type: a folder that exists."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{path}: no such folder")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file, not a folder")
    return path


#: address schemes of Dask's communication layer (distributed.comm)
DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def scheduler_address(text: str) -> str:
    """An argparse type: a Dask scheduler address, SCHEME://HOST:PORT or HOST:PORT."""
    allowed = "allowed: tcp://HOST:PORT (or tls://, ws://, wss://, ucx://), or HOST:PORT"
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    if scheme not in DASK_SCHEMES:
        raise argparse.ArgumentTypeError(f"{text!r}: unknown scheme {scheme!r}; {allowed}")
    if scheme == "inproc":
        return text
    host, colon, port = rest.rpartition(":")
    host = host.strip("[]")
    if (not colon or not host or any(c.isspace() or c in "/?#@" for c in host)
            or not port.isdigit() or not 1 <= int(port) <= 65535):
        raise argparse.ArgumentTypeError(f"{text!r} is not a scheduler address; {allowed} "
                                         "with PORT in 1-65535")
    return text


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
    from experiments import provenance

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
    # classes the commands raise (experiments.cli.UsageError) are the ones caught here
    from experiments.cli import main as _main

    sys.exit(_main())
