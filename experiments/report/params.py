"""`herdtrap params`: the parameter table, as text or Markdown."""

from __future__ import annotations

import argparse
from pathlib import Path

from model.parameters import markdown_table, parameter_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "PARAMETERS.md"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", action="store_true",
                        help=f"write the table to {DOC.relative_to(DOC.parent.parent)}")


def main(args: argparse.Namespace) -> int:
    if args.markdown:
        DOC.write_text(markdown_table(), encoding="utf-8")
        print(f"wrote {DOC}")
        return 0
    for p in parameter_table().values():
        rng = "" if p.low is None else f"[{p.low:g}, {p.high:g}]"
        print(f"{p.name:40s} {p.default!s:>10s} {rng:>20s}  {p.unit}")
    return 0
