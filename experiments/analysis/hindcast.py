"""`herdtrap hindcast`: replay an aimag's observed winters and compare its stock with the census.

    herdtrap hindcast --data DIR --aimag NAME [--start 1992] [--end 2024] [--replicates R]

Writes ``hindcast_years.csv``, ``hindcast_runs.csv``, ``hindcast_species.csv``,
``hindcast_summary.json`` and the figure to ``--out``. The data contract, the calendar
and the policies a hindcast runs under are described in
:mod:`experiments.analysis.hindcast_compute` (the replay and the comparison); the figure
and the printed summary are :mod:`experiments.report.hindcast_render`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments import argtypes
from experiments.analysis.hindcast_compute import (
    DEFAULT_POLICIES,
    HindcastError,
    HindcastResult,
    run_hindcast,
)
from experiments.report.figures import save_figure
from experiments.report.hindcast_render import figure, format_summary
from model.region import default_data_dir


def write_outputs(result: HindcastResult, out: Path, formats=("html", "png")) -> list[Path]:
    """hindcast_years.csv, hindcast_runs.csv, hindcast_species.csv, summary.json, figure."""
    from experiments.report.provenance import atomic_write_bytes, atomic_write_json, now_iso

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, df in (("hindcast_years.csv", result.years.reset_index()),
                     ("hindcast_runs.csv", result.runs),
                     ("hindcast_species.csv", result.species)):
        atomic_write_bytes(out / name, df.to_csv(index=False, float_format="%.6g").encode())
        files.append(out / name)
    atomic_write_json(out / "hindcast_summary.json", {
        "kind": "hindcast", "aimag": result.aimag, "start": result.start, "end": result.end,
        "replicates": result.replicates, "households": result.households,
        "summary": result.summary, "notes": result.notes, "data": result.data,
        "finished": now_iso(),
    })
    files.append(out / "hindcast_summary.json")
    files += save_figure(figure(result), out / "hindcast", formats)
    return files


# ---------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=argtypes.existing_folder, default=None,
                        help="folder with the NSO-format tables (default: $HERDTRAP_NSO_DATA, "
                             "else ../shared/data/nso if present, else model/data/nso)")
    parser.add_argument("--aimag", required=True, help="aimag name as spelled in the tables")
    parser.add_argument("--start", type=argtypes.int_range(1900, 2200), default=1992,
                        help="census year used as the initial condition (default 1992)")
    parser.add_argument("--end", type=argtypes.int_range(1900, 2200), default=2024,
                        help="last census year (default 2024)")
    parser.add_argument("--replicates", type=argtypes.int_range(1, 1000), default=5,
                        help="seeds, 1-1000 (default 5)")
    parser.add_argument("--seed", type=argtypes.seed, default=0, help="root seed (default 0)")
    parser.add_argument("--households", type=argtypes.int_range(10, 1_000_000), default=None,
                        help="simulated households (default: population.households)")
    parser.add_argument("--out", type=argtypes.out_folder, default=None,
                        help="output folder (default results/hindcast-<aimag>-<start>-<end>)")
    parser.add_argument("--no-png", action="store_true", help="write the figure as HTML only")
    parser.add_argument("--policies", default=DEFAULT_POLICIES, metavar="NAME",
                        help="run under the policies of scenarios/NAME.toml in force each year "
                             f"(default {DEFAULT_POLICIES}; no_policy for none)")


def main(args: argparse.Namespace) -> int:
    from experiments.errors import UsageError

    data = args.data if args.data is not None else default_data_dir()
    try:
        result = run_hindcast(data, args.aimag, args.start, args.end, args.replicates,
                              households=args.households, seed=args.seed,
                              policies=args.policies)
    except HindcastError as exc:
        raise UsageError(str(exc)) from None
    out = args.out or Path("results") / f"hindcast-{result.aimag.lower()}-{args.start}-{args.end}"
    files = write_outputs(result, out, ("html",) if args.no_png else ("html", "png"))
    print(format_summary(result))
    print(f"wrote {out}/ ({', '.join(p.name for p in files)})")
    return 0
