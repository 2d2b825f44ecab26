"""`herdtrap sensitivity SPEC.toml`: Sobol or Morris sensitivity analysis with SALib.

The command: flags and the printed summary. The spec, sampling, runs and indices are
in :mod:`experiments.analysis.sensitivity_compute` (its docstring describes the spec
and the results folder); the report in :mod:`experiments.report.sensitivity_render`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments import argtypes
from experiments.analysis.sensitivity_compute import default_out, load_spec, run_sensitivity
from experiments.errors import UsageError
from experiments.report.sensitivity_render import summary_lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from experiments.run.execution import BACKENDS

    parser.add_argument("spec", type=Path, help="sensitivity spec (TOML), e.g. "
                        "experiments/specs/morris_screening.toml")
    parser.add_argument("--jobs", "-j", type=argtypes.int_range(1, also=(-1,)), default=None,
                        help="parallel workers (default: all cores; -1 = all cores)")
    parser.add_argument("--backend", choices=BACKENDS, default="loky",
                        help="joblib backend: sequential, loky (local processes, default) or dask")
    parser.add_argument("--scheduler", type=argtypes.scheduler_address, default=None,
                        metavar="ADDRESS", help="Dask scheduler address (with --backend dask)")
    parser.add_argument("--worker-timeout", type=float, default=None, metavar="S",
                        help="dask: give up when the scheduler has had no worker for S seconds "
                             "(default 60)")
    parser.add_argument("--out", "-o", type=argtypes.out_folder, default=None,
                        help="results folder (default results/sensitivity-<spec name>)")
    parser.add_argument("--flush-every", type=argtypes.int_range(1), default=None, metavar="N",
                        help="write finished runs to disk every N runs (default: automatic)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    import sys

    if args.flush_every is not None and args.flush_every < 1:
        raise UsageError(f"--flush-every must be at least 1, got {args.flush_every}")
    if args.scheduler and args.backend != "dask":
        raise UsageError(f"--scheduler {args.scheduler} needs --backend dask "
                         f"(got --backend {args.backend})")
    spec = load_spec(args.spec)
    out = args.out or default_out(spec)
    res = run_sensitivity(spec, out, backend=args.backend, jobs=args.jobs,
                          scheduler=args.scheduler, progress=not args.no_progress,
                          flush_every=args.flush_every, worker_timeout=args.worker_timeout)
    rep = res.report
    print(f"herdtrap sensitivity: {spec.name}: {spec.method}, {len(spec.parameters)} parameters, "
          f"{res.manifest['counts']['rows']} rows x {spec.replicates} replicates = {rep.total} "
          f"runs ({rep.ok} ok, {rep.failed} failed, {rep.skipped} already done); ran {rep.ran} "
          f"in {rep.wall_s:.1f} s")
    if rep.failed:
        for tid, err in rep.failures[:10]:
            print(f"  failed {tid}: {err}", file=sys.stderr)
        print(f"herdtrap sensitivity: {rep.failed} run(s) failed, no indices computed; run the "
              "same command again to retry them", file=sys.stderr)
        return 1
    print("most influential parameters:")
    print("\n".join(summary_lines(spec, res.indices)))
    print(f"wrote {out}/ (report.html, indices.csv, convergence.csv, sample.parquet, "
          "outcomes.parquet, runs.parquet, manifest.json)")
    return 0
