"""`herdtrap frontier SPEC.toml`: which design does most at the same budget?

Runs every design's lever grid and the baseline as one batch (paired replicates,
resumable: run the same command again after an interruption, even ``kill -9``; joblib
or Dask like `herdtrap batch`), then writes ``OUT/frontier/``:

* ``points.csv`` — per grid point: extra fiscal cost per household per year and the
  gain on each outcome, with 95% CIs, and whether it is on the frontier;
* ``equal_budget.csv`` — each design's gain at the spec's budgets, ranked, with the
  paired margin of each over the next;
* ``summary.txt``, ``report.html`` (self-contained), ``frontier.png``/``.svg`` per outcome.

The batch folder (``OUT``) also holds ``frontier.json`` (the spec), so `herdtrap brief
OUT` adds the frontier to the brief. Statistics: :mod:`experiments.analysis.frontier_compute`;
text, figures and page: :mod:`experiments.report.frontier_render`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from experiments import argtypes
from experiments.analysis.frontier_compute import (
    FrontierSpec,
    build_all,
    compute_all,
    load_spec,
    outcome_table,
    parse_spec,
    robustness,
)
from experiments.errors import UsageError
from experiments.report.provenance import atomic_write_bytes, check_output_folder

OUT = "frontier"
SPEC_FILE = "frontier.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", type=Path, metavar="SPEC.toml", help="frontier spec (TOML)")
    parser.add_argument("--out", "-o", type=argtypes.out_folder, default=None,
                        help="results folder (default results/frontier-<name>)")
    parser.add_argument("--jobs", "-j", type=argtypes.int_range(1, also=(-1,)), default=None,
                        help="parallel workers (default: all cores; -1 = all cores)")
    parser.add_argument("--backend", choices=("sequential", "loky", "dask"), default="loky",
                        help="joblib backend (dask: a LocalCluster, or --scheduler)")
    parser.add_argument("--scheduler", type=argtypes.scheduler_address, default=None,
                        metavar="ADDRESS", help="Dask scheduler address (with --backend dask)")
    parser.add_argument("--no-images", action="store_true",
                        help="skip the PNG/SVG export (no Chromium needed)")
    parser.add_argument("--flush-every", type=argtypes.int_range(1, 1_000_000), default=None,
                        metavar="N", help="write results to disk every N runs (default: "
                        "as `herdtrap batch`)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


@dataclass
class FrontierResult:
    spec: FrontierSpec
    points: pd.DataFrame
    equal_budget: pd.DataFrame
    text: str
    out_dir: Path


def read_spec_of(folder: Path) -> FrontierSpec | None:
    """The spec a frontier batch folder was run with (None: not a frontier folder)."""
    path = Path(folder) / SPEC_FILE
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: unreadable ({exc}); run `herdtrap frontier` again") from None
    designs = [{"name": d["name"], "scenario": d["scenario"], "policy": d["policy"],
                **({"levers": d["levers"], "scale": d["values"]} if d["scaled"] else
                   {"lever": d["levers"][0], "values": d["values"]})} for d in raw["designs"]]
    keep = {k: v for k, v in raw.items() if k != "designs" and v is not None}
    return parse_spec({**keep, "designs": designs}, where=str(path))


def analyse(folder: Path, spec: FrontierSpec, *, images: bool = True,
            log=print) -> FrontierResult:
    """Read the frontier's batch and write OUT/frontier/ (never re-runs the model)."""
    from experiments.report import frontier_render as fr
    from experiments.report.provenance import read_batch

    tables = read_batch(folder, UsageError, panel=False)
    baseline = spec.baseline
    points, eq, per = compute_all(spec, tables.runs, str(folder), tables.timeseries)
    figs, stems = [], []
    for future, (p, _) in per.items():
        for o in spec.outcomes:
            figs.append(fr.figure(spec, p, o, future=future))
            stem = "frontier" if o == spec.outcomes[0] else f"frontier_{o}"
            stems.append(stem + (f"_{future}" if future is not None else ""))
    per_future = {f: v for f, v in per.items() if f is not None}
    robust = robustness(spec, per_future) if per_future and spec.budgets else pd.DataFrame()
    long = outcome_table(spec, per)
    text = fr.text_report(spec, points, eq, baseline, robust, long)
    out = check_output_folder(Path(folder) / OUT, UsageError)
    out.mkdir(exist_ok=True)
    atomic_write_bytes(out / "points.csv", points.to_csv(index=False).encode())
    if spec.budgets:
        atomic_write_bytes(out / "equal_budget.csv", eq.to_csv(index=False).encode())
    if not robust.empty:
        atomic_write_bytes(out / "robustness.csv", robust.to_csv(index=False).encode())
    if not long.empty:
        atomic_write_bytes(out / "equal_budget_by_outcome.csv",
                           long.to_csv(index=False).encode())
    atomic_write_bytes(out / "summary.txt", (text + "\n").encode())
    atomic_write_bytes(out / "report.html",
                       fr.html_report(spec, points, eq, baseline, tables.manifest, figs,
                                      robust, long).encode())
    if images:
        from experiments.report.figures import FigureExportError, export_figure, figure_exporter

        try:
            with figure_exporter():
                for stem, fig in zip(stems, figs, strict=True):
                    export_figure(fig, out / stem)
        except FigureExportError as exc:
            log(f"herdtrap frontier: PNG/SVG figures skipped ({exc}); report.html has them")
    return FrontierResult(spec, points, eq, text, out)


def run_frontier(spec: FrontierSpec, out: Path, *, backend: str = "loky", jobs: int | None = None,
                 scheduler: str | None = None, progress: bool = True, images: bool = True,
                 flush_every: int | None = None, log=print) -> FrontierResult:
    from experiments.run.batch import DEFAULT_ROOT_SEED, BatchError, print_report, run_batch

    scenarios = [sc for points in build_all(spec).values() for sc in points.scenarios]
    out = Path(out)
    try:
        report, _ = run_batch(scenarios, spec.replicates, out,
                              root_seed=spec.seed if spec.seed is not None
                              else DEFAULT_ROOT_SEED, backend=backend, jobs=jobs,
                              scheduler=scheduler, progress=progress, flush_every=flush_every)
    except BatchError as exc:  # a locked or foreign folder, limits, a lost cluster
        raise UsageError(str(exc)) from None
    print_report(report, out)
    if report.failed:
        raise UsageError(f"{out}: {report.failed} runs failed; fix them (runs.parquet, column "
                         "error) and run the same command again")
    atomic_write_bytes(out / SPEC_FILE, json.dumps(spec.to_dict(), indent=1).encode())
    return analyse(out, spec, images=images, log=log)


def main(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    out = args.out or Path("results") / f"frontier-{spec.name}"
    if args.scheduler and args.backend != "dask":
        raise UsageError("--scheduler needs --backend dask")
    result = run_frontier(spec, out, backend=args.backend, jobs=args.jobs,
                          scheduler=args.scheduler, progress=not args.no_progress,
                          images=not args.no_images, flush_every=args.flush_every)
    print(result.text)
    images = sorted(p.name for p in result.out_dir.glob("frontier*.png"))
    print(f"\nwrote {result.out_dir}/ (points.csv, "
          + ("equal_budget.csv, " if spec.budgets else "") + "summary.txt, report.html"
          + "".join(f", {n} (+ .svg)" for n in images) + ")")
    return 0
