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
from experiments.analysis import triggers
from experiments.analysis.compare_compute import (
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
from experiments.errors import UsageError
from experiments.report import distribution_render, triggers_render
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
    frames = outcome_frames(batch, horizons_of(batch, horizons))
    levels = levels_table(batch, frames)
    comparison = comparison_table(batch, frames, base)
    costs = cost_table(batch, base)
    outcomes = read_outcomes(folder)
    dist = (distribution(outcomes, batch.scenarios, base)
            if outcomes is not None else None)
    trig = triggers.read_triggers(folder)
    card = (triggers.scorecard(trig[trig["scenario"].isin(batch.scenarios)], bad_winter,
                               loss_threshold) if trig is not None else None)
    text = text_report(batch, base, comparison, levels, costs)
    if dist is not None and not dist.table.empty:
        text += "\n\n" + distribution_render.text_section(dist)
    if card is not None and not card.table.empty:
        text += "\n\n" + triggers_render.text_section(card)
    out = Path(folder) / OUT
    out.mkdir(exist_ok=True)
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


def main(args: argparse.Namespace) -> int:
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
