"""`herdtrap batch`: scenarios x replicates with common random numbers, resumable.

Replicate r of every scenario runs with the same seed
(``model.streams.run_seed_sequence(root_seed, r)``), so it sees the same
weather and household luck: differences between scenarios are paired by
replicate. Results stream into the output folder (see docs/BATCHES.md);
running the same command again resumes the batch.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from experiments import argtypes
from experiments.errors import UsageError
from experiments.report.provenance import (
    atomic_write_json,
    command_line,
    model_code_hash,
    now_iso,
    nso_data,
    run_record,
)
from experiments.run.execution import (
    BACKENDS,
    WORKER_TIMEOUT,
    ExecutionError,
    Report,
    Task,
    check_backend,
    folder_lock,
    resumable_manifest,
    run_tasks,
)
from experiments.run.limits import check_limits
from experiments.run.posterior import Posterior, PosteriorError, check_scenarios, load_posterior
from experiments.run.runner import simulate
from model.scenario import Scenario, load_scenario

DEFAULT_ROOT_SEED = 20200101
MANIFEST = "manifest.json"


class BatchError(ValueError):
    """Bad batch input (reported by the CLI as one line, exit code 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                        help="scenario files or names in scenarios/ (the first one is the "
                             "default baseline of `herdtrap compare` unless one is called baseline)")
    add_run_options(parser, replicates_required=True)


def add_run_options(parser: argparse.ArgumentParser, *, replicates_required: bool,
                    replicates_default: int | None = None, out_help: str | None = None) -> None:
    """Options shared by `batch` and `demo`."""
    parser.add_argument("--replicates", "-r", type=argtypes.int_range(1), required=replicates_required,
                        metavar="R",
                        default=replicates_default,
                        help="replicates per scenario (same seeds for every scenario)"
                        + (f"; default {replicates_default}" if replicates_default else ""))
    parser.add_argument("--years", type=argtypes.int_range(1, 200), default=None,
                        help="override every scenario's horizon (1-200 years)")
    parser.add_argument("--seed", type=argtypes.seed, default=DEFAULT_ROOT_SEED,
                        help=f"root seed of the replicate seeds (default {DEFAULT_ROOT_SEED})")
    parser.add_argument("--jobs", "-j", type=argtypes.int_range(1, also=(-1,)), default=None,
                        help="parallel workers (default: all cores; -1 = all cores)")
    parser.add_argument("--backend", choices=BACKENDS, default="loky",
                        help="joblib backend: sequential, loky (local processes, default) or "
                             "dask (a LocalCluster, or the cluster at --scheduler)")
    parser.add_argument("--scheduler", type=argtypes.scheduler_address, default=None, metavar="ADDRESS",
                        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --backend dask)")
    parser.add_argument("--worker-timeout", type=float, default=WORKER_TIMEOUT, metavar="S",
                        help="dask: give up when the scheduler has had no worker for S seconds "
                             f"(at the start or later; default {WORKER_TIMEOUT:g})")
    parser.add_argument("--out", "-o", type=argtypes.out_folder, default=None,
                        help=out_help or "results folder (default results/batch-<scenarios>-r<R>)")
    parser.add_argument("--household-panel", type=argtypes.float_range(0.0, 1.0), default=0.0,
                        metavar="FRACTION",
                        help="also keep a yearly panel of this share of households (0-1]; "
                             "input of `herdtrap trap` and the app's results page")
    parser.add_argument("--flush-every", type=argtypes.int_range(1), default=None, metavar="N",
                        help="write finished runs to disk every N runs (default: automatic)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--futures", type=Path, default=None, metavar="FILE",
                        help="run every scenario under every climate future of FILE (e.g. "
                             "experiments/specs/futures.toml) as SCENARIO@FUTURE; `herdtrap "
                             "compare --futures` ranks the designs in each future")
    parser.add_argument("--posterior", type=Path, default=None, metavar="FILE",
                        help="draw one parameter set per replicate from a fitted posterior "
                             "(the posterior.csv of `herdtrap fit`); every scenario gets the "
                             "same draw, so intervals include parameter uncertainty")


# --------------------------------------------------------------------------- the batch


def load_scenarios(refs: Sequence[str], years: int | None) -> list[Scenario]:
    """Load and resolve the scenarios; names must be unique."""
    scenarios = [load_scenario(ref, **({"years": years} if years is not None else {}))
                 for ref in refs]
    seen: dict[str, str] = {}
    for ref, sc in zip(refs, scenarios, strict=True):
        if sc.name in seen:
            raise BatchError(f"two scenarios are named {sc.name!r} ({seen[sc.name]} and {ref}); "
                             "scenario names must be unique in a batch")
        seen[sc.name] = ref
    return scenarios


def batch_spec(scenarios: Sequence[Scenario], replicates: int, root_seed: int,
               panel_fraction: float, posterior: Posterior | None = None) -> dict[str, Any]:
    """What identifies a batch: a folder holds exactly one."""
    years = sorted({sc.years for sc in scenarios})
    spec = {
        "scenarios": {sc.name: sc.hash for sc in scenarios},
        "replicates": int(replicates),
        "root_seed": int(root_seed),
        "years": years[0] if len(years) == 1 else {sc.name: sc.years for sc in scenarios},
        "household_panel_fraction": float(panel_fraction),
        "model_code": model_code_hash(),
    }
    if posterior is not None:
        spec["posterior"] = posterior.sha256
    return spec


def _spec_difference(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    diffs = []
    for key in ("replicates", "root_seed", "years", "household_panel_fraction", "posterior"):
        if old.get(key) != new.get(key):
            diffs.append(f"{key} {old.get(key)} vs {new.get(key)}")
    o, n = old.get("scenarios", {}), new.get("scenarios", {})
    if set(o) != set(n):
        diffs.append(f"scenarios {', '.join(o) or '-'} vs {', '.join(n)}")
    else:
        diffs += [f"scenario {k} changed (hash {o[k]} vs {n[k]})" for k in n if o[k] != n[k]]
    return "; ".join(diffs) or None


def make_tasks(scenarios: Sequence[Scenario], replicates: int, root_seed: int,
               panel_fraction: float, posterior: Posterior | None = None) -> list[Task]:
    """Scenario-major task list: replicate r of every scenario has the same seed (and,
    with a posterior, the same parameter draw)."""
    width = max(4, len(str(replicates - 1)))
    draws = ([posterior.draw(root_seed, r) for r in range(replicates)]
             if posterior is not None else None)
    return [
        Task(
            task_id=f"{sc.name}/r{r:0{width}d}",
            scenario=sc if draws is None else sc.with_overrides(params=draws[r]),
            seed=(root_seed, r),
            panel_fraction=panel_fraction,
            labels={"scenario": sc.name, "replicate": r},
            extra={"scenario_hash": sc.hash, "root_seed": root_seed},
        )
        for sc in scenarios
        for r in range(replicates)
    ]


def default_out(scenarios: Sequence[Scenario], replicates: int) -> Path:
    names = "-".join(sc.name for sc in scenarios)
    if len(names) > 60:
        names = f"{scenarios[0].name}-and-{len(scenarios) - 1}-more"
    return Path("results") / f"batch-{names}-r{replicates}"


def write_manifest(out: Path, *, spec: dict[str, Any], scenarios: Sequence[Scenario],
                   backend: str, jobs: int, old: dict[str, Any] | None,
                   session: dict[str, Any], counts: dict[str, int],
                   finished: str | None, posterior: Posterior | None = None) -> dict[str, Any]:
    manifest = {
        "kind": "batch",
        "command": command_line(),
        "spec": spec,
        "scenarios": {
            sc.name: {"hash": sc.hash, "resolved": sc.to_dict(), "source": sc.source}
            for sc in scenarios
        },
        "scenario_order": [sc.name for sc in scenarios],
        "years": spec["years"],
        **run_record(spec["root_seed"], spec["replicates"], old, session, finished),
        "counts": counts,
        "backend": backend,
        "jobs": jobs,
        # how the latest session that ran something ran (a session with nothing left to
        # run keeps the previous one's)
        "parallelism": session.get("parallelism") or (old or {}).get("parallelism"),
        "household_panel_fraction": spec["household_panel_fraction"],
        "files": sorted(p.name for p in out.glob("*.parquet")),
    }
    data = {sc.name: nso_data(sc) for sc in scenarios if nso_data(sc)}
    if data:
        manifest["nso_data"] = data
    if posterior is not None:
        manifest["posterior"] = posterior.describe(spec["root_seed"], spec["replicates"])
    atomic_write_json(out / MANIFEST, manifest)
    return manifest


def run_batch(
    scenarios: Sequence[Scenario],
    replicates: int,
    out: Path,
    *,
    root_seed: int = DEFAULT_ROOT_SEED,
    backend: str = "loky",
    jobs: int | None = None,
    scheduler: str | None = None,
    panel_fraction: float = 0.0,
    progress: bool = True,
    flush_every: int | None = None,
    worker_timeout: float = WORKER_TIMEOUT,
    run=None,
    posterior: Posterior | None = None,
) -> tuple[Report, dict[str, Any]]:
    """Run (or resume) a batch into ``out``; returns the report and the manifest."""
    if replicates < 1:
        raise BatchError(f"--replicates must be at least 1, got {replicates}")
    if root_seed < 0:
        raise BatchError(f"--seed must be a non-negative integer, got {root_seed}")
    if not 0.0 <= panel_fraction <= 1.0:
        raise BatchError(f"--household-panel must be a fraction in (0, 1], got {panel_fraction}")
    if jobs is None or jobs == -1:
        jobs = os.cpu_count() or 1
    if jobs < 1:
        raise BatchError(f"--jobs must be at least 1 (or -1 for all cores), got {jobs}")
    if flush_every is not None and flush_every < 1:
        raise BatchError(f"--flush-every must be at least 1, got {flush_every}")
    if backend == "sequential":
        jobs = 1
    check_limits(replicates=replicates, runs=replicates * len(scenarios), jobs=jobs,
                 error=BatchError)
    if posterior is not None:
        try:
            check_scenarios(posterior, scenarios)
        except PosteriorError as exc:
            raise BatchError(str(exc)) from None
    spec = batch_spec(scenarios, replicates, root_seed, panel_fraction, posterior)
    tasks = make_tasks(scenarios, replicates, root_seed, panel_fraction, posterior)
    desc = f"{len(scenarios)} scenarios x {replicates}"
    try:
        check_backend(backend, scheduler, worker_timeout)
        # The lock first, then the manifest check, then (once the backend is connected)
        # the manifest: a start refused or failing on the way writes nothing.
        with folder_lock(out):
            old = resumable_manifest(out, "batch", "spec", spec, _spec_difference, BatchError,
                                     what="batch", resume="repeat the original command")
            started = now_iso()
            session: dict[str, Any] = {"started": started, "finished": None, "backend": backend,
                                       "jobs": jobs, "wall_s": None, "run_s": None, "ran": 0}
            prev_counts = (old or {}).get("counts",
                                          {"done": 0, "failed": 0, "total": len(tasks)})

            def start(used) -> None:
                if used is not None:
                    session["parallelism"] = used.parallelism()
                write_manifest(out, spec=spec, scenarios=scenarios, backend=backend, jobs=jobs,
                               old=old, session=session, counts=prev_counts, finished=None,
                               posterior=posterior)

            report = run_tasks(tasks, out, backend=backend, jobs=jobs, scheduler=scheduler,
                               worker_timeout=worker_timeout, progress=progress, desc=desc,
                               flush_every=flush_every, run=run or simulate, on_start=start)
            session.update(finished=now_iso(), wall_s=round(report.wall_s, 3),
                           run_s=round(report.run_s, 3), ran=report.ran)
            if report.backend is not None:
                session["parallelism"] = report.backend.parallelism()
            counts = {"done": report.ok, "failed": report.failed, "total": report.total}
            manifest = write_manifest(out, spec=spec, scenarios=scenarios, backend=backend,
                                      jobs=jobs, old=old, session=session, counts=counts,
                                      finished=session["finished"], posterior=posterior)
    except ExecutionError as exc:
        raise BatchError(str(exc)) from None
    return report, manifest


def print_report(report: Report, out: Path, file=None) -> None:
    file = file or sys.stdout
    parts = [f"{report.ok} ok", f"{report.failed} failed"]
    if report.skipped:
        parts.append(f"{report.skipped} already done")
    rate = f", {report.run_s / report.ran:.2f} s per run" if report.ran else ""
    print(f"herdtrap batch: {report.total} runs: {', '.join(parts)}; ran {report.ran} in "
          f"{report.wall_s:.1f} s{rate} -> {out}/", file=file)
    for task_id, error in report.failures[:10]:
        print(f"  failed {task_id}: {error}", file=file)
    if len(report.failures) > 10:
        print(f"  ... and {len(report.failures) - 10} more (see runs.parquet, column error)",
              file=file)


def check_run_options(args: argparse.Namespace) -> None:
    """UsageError (exit 2) for out-of-range run options (shared by batch and demo)."""
    if args.replicates is not None and args.replicates < 1:
        raise UsageError(f"--replicates must be at least 1, got {args.replicates}")
    check_limits(replicates=args.replicates, jobs=args.jobs, error=UsageError)
    if args.years is not None and args.years < 1:
        raise UsageError(f"--years must be at least 1, got {args.years}")
    if args.household_panel and not 0.0 < args.household_panel <= 1.0:
        raise UsageError(f"--household-panel must be in (0, 1], got {args.household_panel}")
    if args.scheduler and args.backend != "dask":
        raise UsageError(f"--scheduler {args.scheduler} needs --backend dask "
                         f"(got --backend {args.backend})")


def run_from_args(names: Sequence[str], args: argparse.Namespace,
                  out: Path | None = None) -> tuple[Report, Path]:
    """Load the scenarios and run the batch with the command-line run options
    (shared by batch and demo; call check_run_options first); bad input becomes a
    UsageError (exit 2)."""
    try:
        scenarios = load_scenarios(names, args.years)
        futures_file = getattr(args, "futures", None)
        designs = scenarios
        if futures_file is not None:
            from experiments.run import futures

            chosen = futures.load_futures(futures_file)
            scenarios = futures.expand(scenarios, chosen)
        path = getattr(args, "posterior", None)
        posterior = load_posterior(path) if path is not None else None
        out = out or args.out or default_out(scenarios, args.replicates)
        report, _ = run_batch(
            scenarios, args.replicates, out, root_seed=args.seed, backend=args.backend,
            jobs=args.jobs, scheduler=args.scheduler, panel_fraction=args.household_panel,
            progress=not args.no_progress, flush_every=args.flush_every,
            worker_timeout=args.worker_timeout, posterior=posterior,
        )
        if futures_file is not None:
            futures.record(out, designs, chosen)
    except (BatchError, PosteriorError) as exc:
        raise UsageError(str(exc)) from None
    return report, out


def main(args: argparse.Namespace) -> int:
    check_run_options(args)
    report, out = run_from_args(args.scenarios, args)
    print_report(report, out)
    if report.failed:
        print(f"herdtrap batch: {report.failed} run(s) failed; run the same command again to "
              "retry them", file=sys.stderr)
        return 1
    return 0
