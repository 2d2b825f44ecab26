"""`herdtrap trap DIR`: the poverty-trap threshold measured from a batch's household panel.

Reads ``DIR/panel.parquet`` (batch contract: year, household, herd_sfu, persons,
herding, scenario, replicate, and hid) and writes ``DIR/trap/``: ``trap.csv``
(equilibria with CIs), ``trap_curve.csv``, ``trap_share.csv`` (share of households
below the threshold per scenario, replicate and year), ``trap.json`` and figures.
The estimator (Lybbert et al. 2004 herd dynamics, CIs over weather replicates) is
:mod:`experiments.analysis.trap_compute`; the figures and printed lines
:mod:`experiments.report.trap_render`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from experiments import argtypes
from experiments.analysis.trap_compute import (
    BANDWIDTH,
    MEASURES,
    MIN_REPLICATES,
    TrapError,
    TrapEstimate,
    analyse,
    curve_frame,
    equilibria_frame,
    read_panel,
)
from experiments.report.figures import save_figure
from experiments.report.trap_render import figure, replicate_warning, share_figure, share_summary


def write_outputs(out: Path, ests: dict[str, TrapEstimate], ref: str, shares: pd.DataFrame,
                  formats: tuple[str, ...] = ("html", "png")) -> list[Path]:
    from experiments.report.provenance import atomic_write_bytes, atomic_write_json, now_iso

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    eq = equilibria_frame(ests)
    atomic_write_bytes(out / "trap.csv", eq.to_csv(index=False, float_format="%.6g").encode())
    files.append(out / "trap.csv")
    curves = curve_frame(ests)
    atomic_write_bytes(out / "trap_curve.csv", curves.to_csv(index=False, float_format="%.6g").encode())
    files.append(out / "trap_curve.csv")
    atomic_write_bytes(out / "trap_share.csv", shares.to_csv(index=False, float_format="%.6g").encode())
    files.append(out / "trap_share.csv")
    thr = ests[ref].threshold
    atomic_write_json(out / "trap.json", {
        "kind": "trap", "reference_scenario": ref, "finished": now_iso(),
        "threshold_sfu_per_person": None if thr is None else thr["h"],
        "threshold": thr, "messages": {s: e.message() for s, e in ests.items()},
        "measure": ests[ref].curve.measure,
        "method": "binned local-linear regression of the growth of 1 + SFU/person on "
                  "z(t) = log(1 + SFU/person), "
                  "Gaussian kernel; 95% CI " + ests[ref].ci_method + " (se: larger of the "
                  "leave-one-replicate jackknife and a two-stage bootstrap over replicates and "
                  f"households, {ests[ref].boot_m.shape[0]} draws)",
        "replicates": ests[ref].n_replicates,
        "min_replicates": MIN_REPLICATES,
    })
    files.append(out / "trap.json")
    others = [e for s, e in ests.items() if s != ref]
    files += save_figure(figure(ests[ref], others), out / "trap_curve", formats)
    if len(shares):
        files += save_figure(share_figure(shares), out / "trap_share", formats)
    return files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, help="batch results folder with panel.parquet")
    parser.add_argument("--scenario", default=None,
                        help="reference scenario whose threshold defines the trap share "
                             "(default: baseline if present, else the first)")
    parser.add_argument("--bandwidth", type=argtypes.float_range(0, 10, low_open=True), default=BANDWIDTH,
                        help=f"kernel bandwidth in log(1 + SFU/person) units (default {BANDWIDTH})")
    parser.add_argument("--bootstrap", type=argtypes.int_range(20, 100_000), default=200,
                        help="two-stage bootstrap draws over replicates and households, "
                             "20-100000 (default 200)")
    parser.add_argument("--seed", type=argtypes.seed, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--measure", choices=MEASURES, default="level",
                        help="level: E[h(t+1) | h(t)] = h(t) (Lybbert et al. 2004, default); "
                             "log: E[log(1+h(t+1)) - log(1+h(t))] = 0")
    parser.add_argument("--no-png", action="store_true", help="figures as HTML only")


def main(args: argparse.Namespace) -> int:
    from experiments.errors import UsageError

    if not 0 < args.bandwidth <= 10 or not 20 <= args.bootstrap <= 100_000:
        raise UsageError("--bandwidth must be in (0, 10] and --bootstrap in [20, 100000]")
    from experiments.report.provenance import check_output_folder

    try:
        check_output_folder(Path(args.results) / "trap", TrapError)
        panel = read_panel(args.results)
        ests, ref, shares = analyse(panel, reference=args.scenario, bandwidth=args.bandwidth,
                                    n_boot=args.bootstrap, seed=args.seed, progress=True,
                                    measure=args.measure)
    except TrapError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.results) / "trap"
    files = write_outputs(out, ests, ref, shares, ("html",) if args.no_png else ("html", "png"))
    for s in ests.values():
        print(s.message())
    warn = replicate_warning(ests[ref].n_replicates)
    if warn:
        print(f"herdtrap trap: warning: {warn}", file=sys.stderr)
    if len(shares):
        print(share_summary(shares))
    print(f"wrote {out}/ ({', '.join(p.name for p in files)})")
    return 0
