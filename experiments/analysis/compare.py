"""`herdtrap compare`: a batch's scenarios against a baseline, paired by replicate.

Reads a batch folder (never re-runs the model) and writes ``DIR/compare/``:

* ``levels.csv`` — each scenario's level of each outcome at the chosen
  horizons (mean over replicates with a 95% t interval);
* ``comparison.csv`` — difference vs. the baseline, paired by replicate
  (common random numbers), with its 95% t interval, next to the interval one
  would get from independent seeds (Welch two-sample interval on the same
  runs) and the ratio of the widths;
* ``cost_effectiveness.csv`` — fiscal cost difference, poverty-years averted,
  households kept out of asset poverty, and the cost per unit of each
  (ratio of means; 95% paired-bootstrap interval);
* ``distribution.csv`` — who gains and who loses: each scenario's effect by starting-herd
  quintile, aimag, soum and beneficiaries against others, from the households' outcomes
  paired with themselves in the baseline (:mod:`experiments.analysis.distribution`);
* ``triggers.csv``, ``triggers_by_year.csv`` — the trigger scorecard of the policies that
  pay on a signal (activation, hit rate, false alarms, basis risk; years fired), for
  ``--bad-winter`` and ``--loss-threshold`` (:mod:`experiments.analysis.triggers`);
* ``report.html`` — the tables and plotly figures (outcomes over time with
  uncertainty bands, the herd-size distribution at the horizon, cost vs.
  poverty reduction); self-contained, plotly.js inline, nothing from a CDN.

The statistics are in :mod:`experiments.analysis.compare_compute`, the printed
summary, figures and HTML page in :mod:`experiments.report.compare_render`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from experiments import argtypes
from experiments.analysis import futures as futures_analysis
from experiments.analysis import triggers
from experiments.analysis.compare_compute import (
    DEFAULT_BASELINES,
    check_comparable,
    choose_baseline,
    comparison_table,
    cost_table,
    horizons_of,
    levels_table,
    load_batch,
    outcome_frames,
)
from experiments.analysis.distribution import Distribution, distribution, read_outcomes
from experiments.analysis.futures import FutureRanking, rank_futures
from experiments.errors import UsageError
from experiments.report import distribution_render, futures_render, triggers_render
from experiments.report.compare_render import html_report, text_report
from experiments.report.provenance import atomic_write_bytes, check_output_folder

OUT = "compare"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, metavar="DIR", help="a batch results folder")
    parser.add_argument("--baseline", default=None, metavar="NAME",
                        help="baseline scenario (default: 'status_quo' if present, else "
                             "'baseline', else the first)")
    parser.add_argument("--horizons", type=argtypes.int_range(1, 200), nargs="+", default=None, metavar="YEAR",
                        help="years at which to report levels (default 5 10 and the final year)")
    parser.add_argument("--no-html", action="store_true", help="skip report.html")
    parser.add_argument("--bad-winter", type=float, default=triggers.BAD_WINTER, metavar="X",
                        help="trigger scorecard: a bad winter is a soum mortality index >= X "
                        f"(default {triggers.BAD_WINTER:g})")
    parser.add_argument("--futures", action="store_true",
                        help="a batch run with --futures: compare within each climate future "
                        "(compare/<future>/) and rank the designs across futures by regret")
    parser.add_argument("--outcome", default=futures_analysis.DEFAULT_OUTCOME, metavar="NAME",
                        help="with --futures: the outcome designs are ranked on (default "
                        f"{futures_analysis.DEFAULT_OUTCOME})")
    parser.add_argument("--loss-threshold", type=float, default=triggers.LOSS, metavar="X",
                        help="trigger scorecard: basis risk counts households losing more "
                        f"than X of their herd (0.1, 0.2, 0.3 or 0.5; default {triggers.LOSS:g})")



# --------------------------------------------------------------------------- main


@dataclass
class Comparison:
    baseline: str
    levels: pd.DataFrame
    comparison: pd.DataFrame
    costs: pd.DataFrame
    text: str
    out_dir: Path
    #: effects by household group (None: the batch has no household outcomes)
    distribution: Distribution | None = None
    #: trigger scorecard (None: no policy of the batch pays on a signal)
    scorecard: triggers.Scorecard | None = None


def compare(folder: Path, baseline: str | None = None, horizons: Sequence[int] | None = None,
            write_html: bool = True, bad_winter: float = triggers.BAD_WINTER,
            loss_threshold: float = triggers.LOSS) -> Comparison:
    triggers.check_thresholds(bad_winter, loss_threshold)
    batch = load_batch(folder)
    if batch.runs.empty:
        raise UsageError(f"{folder}: no successful runs to compare")
    base = choose_baseline(batch, baseline)
    check_comparable(batch, base)
    check_output_folder(Path(folder) / OUT, UsageError)
    return _compare_batch(batch, base, Path(folder) / OUT, horizons, write_html, bad_winter,
                          loss_threshold, read_outcomes(folder), triggers.read_triggers(folder))


def _compare_batch(batch, base: str, out: Path, horizons, write_html: bool, bad_winter: float,
                   loss_threshold: float, outcomes, trig) -> Comparison:
    """compare's tables, text and report of ``batch`` against ``base``, into ``out``."""
    frames = outcome_frames(batch, horizons_of(batch, horizons))
    levels = levels_table(batch, frames)
    comparison = comparison_table(batch, frames, base)
    costs = cost_table(batch, base)
    dist = (distribution(outcomes, batch.scenarios, base)
            if outcomes is not None else None)
    card = (triggers.scorecard(trig[trig["scenario"].isin(batch.scenarios)], bad_winter,
                               loss_threshold)
            if trig is not None and trig["scenario"].isin(batch.scenarios).any() else None)
    text = text_report(batch, base, comparison, levels, costs)
    if dist is not None and not dist.table.empty:
        text += "\n\n" + distribution_render.text_section(dist)
    if card is not None and not card.table.empty:
        text += "\n\n" + triggers_render.text_section(card)
    out.mkdir(parents=True, exist_ok=True)
    tables = [("levels", levels), ("comparison", comparison), ("cost_effectiveness", costs)]
    if dist is not None and not dist.table.empty:
        tables.append(("distribution", dist.table))
    if card is not None and not card.table.empty:
        tables += [("triggers", card.table), ("triggers_by_year", card.fired_years)]
    for name, df in tables:
        atomic_write_bytes(out / f"{name}.csv", df.to_csv(index=False).encode())
    atomic_write_bytes(out / "summary.txt", (text + "\n").encode())
    if write_html:
        atomic_write_bytes(out / "report.html",
                           html_report(batch, base, comparison, levels, costs, dist,
                                       card).encode())
    return Comparison(base, levels, comparison, costs, text, out, dist, card)


@dataclass
class FuturesComparison:
    ranking: FutureRanking
    per_future: dict[str, Comparison]
    text: str
    out_dir: Path


def compare_futures(folder: Path, baseline: str | None = None,
                    horizons: Sequence[int] | None = None, write_html: bool = True,
                    bad_winter: float = triggers.BAD_WINTER, loss_threshold: float = triggers.LOSS,
                    outcome: str = futures_analysis.DEFAULT_OUTCOME) -> FuturesComparison:
    """A batch run with --futures: the usual comparison within each future (baseline@future,
    in ``compare/<future>/``), and the designs' ranks and regret across futures."""
    from dataclasses import replace

    from experiments.run import futures as futures_run

    triggers.check_thresholds(bad_winter, loss_threshold)
    futures_analysis.check_outcome(outcome)
    batch = load_batch(folder)
    if batch.runs.empty:
        raise UsageError(f"{folder}: no successful runs to compare")
    rec = futures_analysis.record_of(folder)
    designs = list(dict.fromkeys(d for d, _ in rec["scenarios"].values()))
    base = baseline or next((b for b in DEFAULT_BASELINES if b in designs), designs[0])
    if base not in designs:
        raise UsageError(f"--baseline {base!r}: not a design of this batch (designs: "
                         f"{', '.join(designs)})")
    out = check_output_folder(Path(folder) / OUT, UsageError)
    outcomes, trig = read_outcomes(folder), triggers.read_triggers(folder)
    per: dict[str, Comparison] = {}
    for f in rec["futures"]:
        names = [n for n, (_, ff) in rec["scenarios"].items() if ff == f and n in batch.scenarios]
        base_f = f"{base}{futures_run.SEP}{f}"
        if base_f not in names or len(names) < 2:
            continue
        sub = replace(batch, runs=batch.runs[batch.runs["scenario"].isin(names)],
                      timeseries=batch.timeseries[batch.timeseries["scenario"].isin(names)],
                      panel=None if batch.panel is None
                      else batch.panel[batch.panel["scenario"].isin(names)],
                      scenarios=names)
        check_comparable(sub, base_f)
        per[f] = _compare_batch(sub, base_f, out / f, horizons, write_html, bad_winter,
                                loss_threshold, outcomes, trig)
    ranking = rank_futures(rec, batch.runs, base, outcome)
    text = futures_render.text_report(ranking)
    atomic_write_bytes(out / "futures.csv", ranking.table.to_csv(index=False).encode())
    atomic_write_bytes(out / "robustness.csv", ranking.robustness.to_csv(index=False).encode())
    atomic_write_bytes(out / "summary.txt", (text + "\n").encode())
    if write_html:
        atomic_write_bytes(out / "futures.html",
                           futures_render.html_report(ranking, batch.manifest).encode())
        from experiments.report.figures import FigureExportError, export_figure, figure_exporter

        try:  # the figure as PNG and SVG too (for briefs and slides)
            with figure_exporter():
                export_figure(futures_render.figure(ranking), out / "futures")
        except FigureExportError as exc:
            text += f"\n(futures.png/svg skipped: {exc}; futures.html has the figure)"
    return FuturesComparison(ranking, per, text, out)


def main(args: argparse.Namespace) -> int:
    if args.futures:
        res = compare_futures(args.dir, args.baseline, args.horizons,
                              write_html=not args.no_html, bad_winter=args.bad_winter,
                              loss_threshold=args.loss_threshold, outcome=args.outcome)
        print(res.text)
        print(f"\nwrote {res.out_dir}/ (futures.csv, robustness.csv, summary.txt"
              + ("" if args.no_html else ", futures.html, futures.png/svg")
              + "".join(f", {f}/" for f in res.per_future) + ")")
        return 0
    result = compare(args.dir, args.baseline, args.horizons, write_html=not args.no_html,
                     bad_winter=args.bad_winter, loss_threshold=args.loss_threshold)
    print(result.text)
    files = "comparison.csv, levels.csv, cost_effectiveness.csv, " + (
        "distribution.csv, " if result.distribution is not None
        and not result.distribution.table.empty else "") + (
        "triggers.csv, triggers_by_year.csv, " if result.scorecard is not None
        and not result.scorecard.table.empty else "") + "summary.txt" + (
        "" if args.no_html else ", report.html")
    print(f"\nwrote {result.out_dir}/ ({files})")
    return 0
