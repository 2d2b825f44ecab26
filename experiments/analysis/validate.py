"""`herdtrap validate`: regenerate docs/VALIDATION.md and its figures.

    herdtrap validate [--replicates R] [--data DIR] [--out docs/VALIDATION.md]

Sections: (1) the stochastic dzud generator against NSO 1992-2024; (2) hindcasts
of Zavkhan and Khuvsgul 1992-2024 (experiments/analysis/hindcast_compute.py) and of another
region in the same file formats (Mongolia as a whole, built from the national
NSO tables), with a what-if on the offtake rate; (3) the poverty-trap threshold
with its CI over weather replicates from a baseline batch (experiments/analysis/trap_compute.py),
against the rule of thumb of 100-200 head per household; (4) the RIMA-II
resilience index and whether it predicts recovery after the 2009/10 dzud
(experiments/analysis/resilience.py); (5) model checks at t = 0 against NSO (poverty
headcount, herd-size classes, species mix). Figures go to docs/validation/
(PNG and SVG through kaleido when Chromium is available, HTML otherwise), with
the measured trap threshold as docs/validation/trap.json (what the app reads).
Validation may run the model: it regenerates a report, it is not an analysis of
a results folder.

This module is the command (flags, the order of the sections, the files); the numbers
are computed by :mod:`experiments.analysis.validate_compute`, the Markdown and figures
rendered by :mod:`experiments.report.validate_render`.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path
from typing import Any

import numpy as np

from experiments.analysis import resilience
from experiments.analysis import validate_compute as vc
from experiments.analysis.hindcast_compute import F_MORT, F_POP, HindcastError
from experiments.analysis.trap_compute import MIN_REPLICATES, TrapEstimate
from experiments.analysis.validate_compute import AIMAGS, DEFAULT_OUT, FIG_DIR_NAME, TRAP_JSON_NAME
from experiments.report import validate_render as vr
from model.region import data_dir_label, default_data_dir


def _plain(x: Any) -> Any:
    """numpy scalars as Python numbers, for JSON."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, np.generic):
        return x.item()
    return x


def write_trap_json(fig_dir: Path, est: TrapEstimate, *, replicates: int, seed: int,
                    git: dict[str, Any]) -> Path:
    """Write ``<fig_dir>/trap.json``: the threshold of section 3, in ``herdtrap trap``'s format."""
    from experiments.report.provenance import atomic_write_json, now_iso

    thr = est.threshold
    path = fig_dir / TRAP_JSON_NAME
    atomic_write_json(path, {
        "kind": "validation-trap",
        "report": "VALIDATION.md, section 3 (the poverty-trap threshold)",
        "reference_scenario": est.scenario,
        "threshold_sfu_per_person": None if thr is None else float(thr["h"]),
        "threshold": None if thr is None else _plain(dict(thr)),
        "message": est.message(),
        "measure": est.curve.measure,
        "batch": {"scenario": "baseline", "replicates": int(replicates), "root_seed": int(seed)},
        "model_commit": git.get("commit"),
        "model_commit_dirty": git.get("dirty"),
        "generated": now_iso(),
    })
    return path


# ---------------------------------------------------------------- driver
def build_report(*, data_dir: Path, replicates: int, seed: int, out: Path,
                 static: bool = True, progress: bool = True) -> tuple[str, list[Path]]:
    from tqdm.auto import tqdm

    from experiments.report.provenance import git_commit, now_iso, package_versions

    t0 = time.perf_counter()
    fig_dir = out.parent / FIG_DIR_NAME
    figs = vr.Figures(fig_dir, out.parent, static=static)
    stages = tqdm(total=7, desc="validate", unit="section", disable=not progress)
    exporter = contextlib.nullcontext()
    if static:
        try:
            from experiments.report.figures import FigureExportError, figure_exporter

            exporter = figure_exporter()
            exporter.__enter__()
        except (ImportError, FigureExportError) as exc:
            print(f"note: PNG/SVG export unavailable ({exc}); figures as HTML")
            figs.static = False
            exporter = contextlib.nullcontext()
    try:
        gen = vr.generator_section(vc.generator_fit(AIMAGS))
        stages.update()
        hind = vc.hindcast_checks(data_dir, replicates, seed, progress)
        hind_md = vr.hindcast_section(hind, replicates, figs)
        stages.update()
        trap_reps = max(2, min(replicates, MIN_REPLICATES))
        trap_out = vc.trap_checks(trap_reps, seed, progress)
        trap_md = vr.trap_section(trap_out, figs)
        figs.written.append(write_trap_json(fig_dir, trap_out.estimate, replicates=trap_reps,
                                            seed=seed, git=git_commit()))
        stages.update()
        rima_reps = max(2, min(replicates, 4))
        rima = resilience.run_rima(replicates=rima_reps, seed=seed, progress=progress)
        rima_md = vr.rima_section(rima, rima_reps)
        stages.update()
        checks = vr.model_checks_section(vc.model_checks(data_dir))
        stages.update()
        from experiments.analysis.household_checks import section as household_section

        econ_md, _ = household_section(hind, seed=seed, progress=progress)
        stages.update()
        from experiments.analysis.demography_checks import section as demography_section

        demo_md, _ = demography_section(replicates=replicates, seed=seed, progress=progress)
        stages.update()
        from experiments.analysis.adopt import SEEDS, compare_centers, medoid_attribution
        from experiments.analysis.fit import COMMITTED_FIT, fit_section

        # the defaults against the committed posterior's central sets (issue 16)
        comparison = attribution = None
        if (COMMITTED_FIT / "summary.json").is_file():
            # adopt's seeds at the default R, fewer for the quick runs of the tests
            comparison = compare_centers(COMMITTED_FIT, seeds=min(3 * replicates, SEEDS))
            attribution = medoid_attribution(COMMITTED_FIT, comparison, jobs=2)
        fit_md = fit_section(comparison=comparison, attribution=attribution)
    finally:
        if not isinstance(exporter, contextlib.nullcontext):
            exporter.__exit__(None, None, None)
        stages.close()
    git = git_commit()
    commit = git.get("commit") if isinstance(git, dict) else None
    head = vr.header(replicates=replicates, data=data_dir_label(data_dir), commit=commit,
                     version=package_versions().get("herdtrap", "?"), date=now_iso()[:10],
                     seed=seed, runtime_s=time.perf_counter() - t0)
    md = "\n".join(head + vr.findings(hind, trap_out, rima) + gen + [""] + hind_md + trap_md
                   + rima_md + checks + econ_md + demo_md + fit_md
                   + vr.discrepancies(hind)) + "\n"
    return md, figs.written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from experiments.analysis.adopt import SEEDS

    parser.add_argument("--replicates", type=int, default=10,
                        help="seeds per hindcast (default 10); the trap batch uses "
                             f"min(R, {MIN_REPLICATES}), the RIMA-II runs min(R, 4), the "
                             "comparison of the defaults with the committed fit "
                             f"min(3R, {SEEDS}) seeds")
    parser.add_argument("--data", type=Path, default=None,
                        help="NSO tables (default: $HERDTRAP_NSO_DATA, else ../shared/data/nso "
                             "if present, else model/data/nso)")
    parser.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="report path (default docs/VALIDATION.md; figures go to "
                             "<its folder>/validation/)")
    parser.add_argument("--html-figures", action="store_true",
                        help="write figures as interactive HTML instead of PNG+SVG")


def main(args: argparse.Namespace) -> int:
    from experiments.errors import UsageError
    from experiments.report.provenance import atomic_write_bytes

    data = args.data if args.data is not None else default_data_dir()
    if args.replicates < 1:
        raise UsageError(f"--replicates must be at least 1, got {args.replicates}")
    from experiments.run.limits import check_limits

    check_limits(replicates=args.replicates, error=UsageError)
    missing = [f for f in (F_MORT, F_POP, "poverty_headcount_aimag.csv",
                           "livestock_population_national_species.csv",
                           "livestock_losses_national_annual.csv")
               if not (Path(data) / f).is_file()]
    if missing:
        raise UsageError(f"{data} lacks NSO table(s): {', '.join(missing)}")
    try:
        md, files = build_report(data_dir=Path(data), replicates=args.replicates, seed=args.seed,
                                 out=Path(args.out), static=not args.html_figures)
    except HindcastError as exc:
        raise UsageError(str(exc)) from None
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(Path(args.out), md.encode("utf-8"))
    print(f"wrote {args.out} and {len(files)} figure file(s) in "
          f"{Path(args.out).parent / FIG_DIR_NAME}/")
    return 0
