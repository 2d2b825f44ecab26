"""Ranking and regret of policy designs across climate futures (issue 15, item 5).

A batch run with ``--futures`` (experiments/run/futures.py) holds every design ``d``
(scenario) under every future ``f`` as ``d@f``, with the same replicate seeds: within a
future, designs are paired (common random numbers). For the baseline ``b`` and an
outcome where lower is better (default: poverty-years per household over the run),

    gain(d, f)   = mean over replicates of  y(b@f) − y(d@f)         (the design's effect)
    regret(d, f) = gain(best_f, f) − gain(d, f),  best_f = the design with the largest gain

so regret is how far a design falls short of the best design in that future (Savage
regret, as in robust decision making; Lempert et al. 2006). Its 95% interval is the
paired t interval of the per-replicate differences with the best design. A design's
robustness is its largest regret over the futures (minimax regret): the design with the
smallest maximum regret is the robust choice. The baseline is a design too (gain 0): a
policy that does worse than doing nothing in some future has regret above the best's
gain there.

ema_workbench (3.0) offers no regret or robustness function for precomputed outcomes (its
robustness functions serve ``robust_optimize``), so the few lines are written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analysis.compare_compute import t_interval
from experiments.errors import UsageError
from experiments.run import futures as futures_run
from experiments.run.runner import OUTCOMES

DEFAULT_OUTCOME = "poverty_years_per_household"


@dataclass
class FutureRanking:
    outcome: str
    baseline: str
    futures: dict[str, dict]
    #: design x future: gain (with CI), rank, regret (with CI), extra cost
    table: pd.DataFrame
    #: per design: maximum regret, the future where it occurs, robust rank
    robustness: pd.DataFrame


def record_of(folder: Path) -> dict:
    """The futures record of a batch folder (``futures.json``); UsageError if the batch was
    not run with --futures."""
    rec = futures_run.read_record(folder)
    if rec is None:
        raise UsageError(f"{folder}: not a batch run with --futures (no {futures_run.FILE}); "
                         "run `herdtrap batch SCENARIO... --futures FILE` first")
    return rec


def check_outcome(outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise UsageError(f"--outcome {outcome!r}: unknown; allowed: {', '.join(OUTCOMES)}")


def rank_futures(rec: dict, runs: pd.DataFrame, baseline: str,
                 outcome: str = DEFAULT_OUTCOME) -> FutureRanking:
    """Rank a --futures batch's designs in each future; ``rec``: its futures record
    (:func:`record_of`), ``runs``: its ok runs."""
    check_outcome(outcome)
    sign = 1.0 if OUTCOMES[outcome] == "min" else -1.0
    design_of = {k: tuple(v) for k, v in rec["scenarios"].items()}
    base_design = design_of.get(baseline, (baseline.split(futures_run.SEP)[0], None))[0]
    designs = list(dict.fromkeys(d for d, _ in design_of.values()))
    if base_design not in designs:
        raise UsageError(f"--baseline {baseline!r} is not one of the designs run under every "
                         f"future ({', '.join(designs)})")
    rows = []
    for f in rec["futures"]:
        def values(d: str, col: str, f: str = f) -> pd.Series:
            name = f"{d}{futures_run.SEP}{f}"
            return runs[runs["scenario"] == name].set_index("replicate")[col]

        b = values(base_design, outcome)
        cb = values(base_design, "fiscal_cost_per_household_year")
        gains = {}
        costs = {}
        for d in designs:
            y = values(d, outcome)
            reps = y.index.intersection(b.index)
            if len(reps) == 0:
                continue
            gains[d] = sign * (b.loc[reps] - y.loc[reps])
            costs[d] = values(d, "fiscal_cost_per_household_year").loc[reps] - cb.loc[reps]
        if not gains:
            continue
        means = {d: float(g.mean()) for d, g in gains.items()}
        best = max(means, key=means.get)
        order = sorted(means, key=lambda d: -means[d])
        for d, g in gains.items():
            m, lo, hi = t_interval(g.to_numpy())
            reps = g.index.intersection(gains[best].index)
            r, rlo, rhi = t_interval((gains[best].loc[reps] - g.loc[reps]).to_numpy())
            rows.append({"future": f, "design": d, "gain": m, "gain_low": lo, "gain_high": hi,
                         "rank": order.index(d) + 1, "best": d == best, "regret": r,
                         "regret_low": rlo, "regret_high": rhi,
                         "extra_cost": float(costs[d].mean()), "replicates": len(g)})
    table = pd.DataFrame(rows)
    if table.empty:
        raise UsageError("no future has runs of the baseline and a design")
    worst = table.loc[table.groupby("design")["regret"].idxmax()]
    rob = pd.DataFrame({"design": worst["design"], "max_regret": worst["regret"],
                        "max_regret_low": worst["regret_low"],
                        "max_regret_high": worst["regret_high"],
                        "worst_future": worst["future"]})
    ranks = table.pivot(index="design", columns="future", values="rank")
    rob = rob.merge(ranks.add_prefix("rank_").reset_index(), on="design")
    rob = rob.sort_values("max_regret").reset_index(drop=True)
    rob.insert(1, "robust_rank", np.arange(1, len(rob) + 1))
    return FutureRanking(outcome, base_design, rec["futures"], table, rob)
