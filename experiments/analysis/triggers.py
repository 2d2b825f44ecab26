"""Trigger scorecard (issue 15, item 3): how well do the triggers of policies that pay on
a signal fire?

Reads a batch's ``triggers.parquet`` (experiments/run/trigger_record.py: per run, year,
policy and soum, the soum's mortality index of the winter, whether the policy's trigger
fired there, and household counts) and reports, per scenario and policy, with 95%
Student-t intervals over replicates (the unit that carries the weather):

* activation: share of soum-winters in which the trigger fired, and of years in which it
  fired in at least one soum;
* hit rate: of the bad soum-winters, the share in which it fired;
* false-alarm rate: of the soum-winters in which it fired, the share that were not bad;
* basis risk: of the covered households that lost more than ``loss`` of their herd, the
  share awarded nothing for that winter; and the reverse: of the households awarded
  something, the share that lost at most ``loss``.

A bad winter is a soum-winter whose SFU-weighted mortality index (adult losses, as NSO
reports them) is at least ``bad_winter`` (user-chosen; default 10%). ``loss`` is one of
the shares the record counts (10, 20, 30 or 50%).

``fired_years`` lists, per winter (NSO loss year: the winter that ends in that year), the
share of soums in which each trigger fired (mean over replicates): on a replay of
1992-2024 these are the winters each trigger would have paid for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analysis.compare_compute import t_interval
from experiments.errors import UsageError
from experiments.report.provenance import read_results_table, runs_written_twice
from experiments.run.trigger_record import LOSS_GRID, loss_key

FILE = "triggers.parquet"
BAD_WINTER = 0.10
LOSS = 0.3
#: (column, label) of the scorecard's rates, in report order
RATES = (("activation", "activation (share of soum-winters fired)"),
         ("years_fired", "years with any soum fired"),
         ("hit_rate", "hit rate (bad soum-winters fired)"),
         ("false_alarm", "false alarms (fired, not bad)"),
         ("basis_risk", "basis risk (lost > {loss}, got nothing)"),
         ("reverse_basis_risk", "paid but lost ≤ {loss}"))


def read_triggers(folder: Path) -> pd.DataFrame | None:
    if not (Path(folder) / FILE).exists():
        return None
    df = read_results_table(Path(folder), FILE, UsageError,
                            columns=("scenario", "replicate", "policy", "index", "fired"),
                            redo="run the `herdtrap batch` command that wrote the folder again",
                            categorical=True)
    if runs_written_twice(folder):  # a run written twice counts once, the last
        df = df.drop_duplicates(["scenario", "replicate", "policy", "year", "soum_code"],
                                keep="last")
    return df


def check_thresholds(bad_winter: float, loss: float) -> None:
    if not (0.0 < bad_winter < 1.0) or not math.isfinite(bad_winter):
        raise UsageError(f"--bad-winter must be a mortality share in (0, 1), got {bad_winter}")
    if loss not in LOSS_GRID:
        raise UsageError(f"--loss-threshold must be one of {', '.join(f'{x:g}' for x in LOSS_GRID)} "
                         f"(the shares the batch records), got {loss}")


def _t(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t interval over replicates of a rate (non-finite values, i.e. replicates
    without a denominator, left out; the interval clipped to [0, 1])."""
    x = np.asarray(x, dtype=float)
    m, lo, hi = t_interval(x[np.isfinite(x)])
    return m, max(lo, 0.0), min(hi, 1.0)


def _ratio(num: pd.Series, den: pd.Series) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den.to_numpy() > 0, num.to_numpy() / den.to_numpy(), np.nan)


@dataclass
class Scorecard:
    bad_winter: float
    loss: float
    #: one row per scenario and policy: each rate with _low/_high, and counts
    table: pd.DataFrame
    #: per scenario, policy and calendar year: share of soums fired, index, bad share
    fired_years: pd.DataFrame


def scorecard(df: pd.DataFrame, bad_winter: float = BAD_WINTER, loss: float = LOSS) -> Scorecard:
    """The scorecard of every (scenario, policy) in a triggers table."""
    check_thresholds(bad_winter, loss)
    k = loss_key(loss)
    d = df.assign(bad=df["index"] >= bad_winter)
    d["hit"] = d["fired"] & d["bad"]
    d["false"] = d["fired"] & ~d["bad"]
    per = d.groupby(["scenario", "policy", "replicate"], observed=True).agg(
        soum_winters=("fired", "size"), fired=("fired", "sum"), bad=("bad", "sum"),
        hits=("hit", "sum"), false=("false", "sum"),
        lost=(f"lost_gt_{k}", "sum"), unpaid=(f"unpaid_lost_gt_{k}", "sum"),
        paid=("paid", "sum"), paid_small=(f"paid_lost_le_{k}", "sum"),
        years=("year", "nunique"))
    years_fired = (d[d["fired"]].groupby(["scenario", "policy", "replicate"], observed=True)["year"]
                   .nunique().reindex(per.index, fill_value=0))
    rates = pd.DataFrame({
        "activation": _ratio(per["fired"], per["soum_winters"]),
        "years_fired": _ratio(years_fired, per["years"]),
        "hit_rate": _ratio(per["hits"], per["bad"]),
        "false_alarm": _ratio(per["false"], per["fired"]),
        "basis_risk": _ratio(per["unpaid"], per["lost"]),
        "reverse_basis_risk": _ratio(per["paid_small"], per["paid"]),
    }, index=per.index)
    rows = []
    for (scenario, policy), g in rates.groupby(level=["scenario", "policy"], observed=True):
        counts = per.loc[(scenario, policy)]
        row = {"scenario": scenario, "policy": policy, "replicates": len(g),
               "soum_winters_per_replicate": float(counts["soum_winters"].mean()),
               "bad_per_replicate": float(counts["bad"].mean()),
               "fired_per_replicate": float(counts["fired"].mean())}
        for col, _ in RATES:
            row[col], row[f"{col}_low"], row[f"{col}_high"] = _t(g[col].to_numpy())
        rows.append(row)
    # the winter Dec Y - Feb Y+1 of model year Y (spring Y to winter) is NSO loss year Y+1
    d["loss_year"] = d["calendar_year"] + 1
    by_year = d.groupby(["scenario", "policy", "loss_year", "replicate"], observed=True).agg(
        fired=("fired", "mean"), index=("index", "mean"), bad=("bad", "mean"))
    fired_years = by_year.groupby(level=["scenario", "policy", "loss_year"], observed=True).agg(
        soums_fired=("fired", "mean"),
        replicates_fired=("fired", lambda x: float((x > 0).mean())),
        mean_index=("index", "mean"), soums_bad=("bad", "mean")).reset_index()
    return Scorecard(bad_winter, loss, pd.DataFrame(rows), fired_years)


def fired_list(card: Scorecard, scenario: str, policy: str, min_share: float = 0.5) -> list[int]:
    """Winters (NSO loss years: the winter ending in that year) in which the trigger fired
    (in some soum) in at least ``min_share`` of the replicates."""
    f = card.fired_years
    f = f[(f["scenario"] == scenario) & (f["policy"] == policy)]
    return [int(y) for y in f.loc[f["replicates_fired"] >= min_share, "loss_year"]]
