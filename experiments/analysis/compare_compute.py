"""The statistics of `herdtrap compare` (no printing, no files): paired differences
with t intervals, the independent-seeds interval they are set against, ratios of means
with a paired bootstrap, and the level, comparison and cost tables of a batch folder
(read through :func:`experiments.report.provenance.read_batch`). The command is
:mod:`experiments.analysis.compare`; the text and HTML report
:mod:`experiments.report.compare_render`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from experiments.errors import UsageError
from experiments.outcomes import CATALOGUE, outcomes
from experiments.report.provenance import read_batch
from experiments.run.runner import OUTCOMES

#: Views of the outcome catalogue (experiments/outcomes.py): the yearly metrics
#: (timeseries.parquet) reported at horizons with the better direction, every outcome's
#: label, and the outcomes that are shares of households (shown as percentages).
YEARLY_OUTCOMES: dict[str, str] = {o.name: o.better for o in outcomes("yearly")}
LABELS: dict[str, str] = {o.name: o.label for o in CATALOGUE}
SHARES = {o.name for o in CATALOGUE if o.unit == "share"}
DEFAULT_HORIZONS = (5, 10)
BOOTSTRAP = 2000


# --------------------------------------------------------------------------- statistics


def t_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t interval of the mean of ``x`` (NaN interval for n < 2)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if n < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return m, m - half, m + half


def welch_interval(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Two-sample (Welch) interval of mean(a) - mean(b): what independent seeds give."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    d = float(a.mean() - b.mean())
    if se == 0:
        return d, d
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df) * se)
    return d - half, d + half


@dataclass
class Paired:
    n: int
    scenario_mean: float
    baseline_mean: float
    diff_mean: float
    diff_low: float
    diff_high: float
    indep_low: float
    indep_high: float

    @property
    def width_paired(self) -> float:
        return self.diff_high - self.diff_low

    @property
    def width_independent(self) -> float:
        return self.indep_high - self.indep_low


def paired(values: pd.DataFrame, scenario: str, baseline: str) -> Paired:
    """Paired difference of ``values`` (index replicate, columns scenario names)."""
    both = values[[scenario, baseline]].dropna()
    s, b = both[scenario].to_numpy(float), both[baseline].to_numpy(float)
    d = s - b
    mean, low, high = t_interval(d)
    ilow, ihigh = welch_interval(s, b)
    return Paired(len(d), float(s.mean()) if len(s) else math.nan,
                  float(b.mean()) if len(b) else math.nan, mean, low, high, ilow, ihigh)


def ratio_of_means(num: np.ndarray, den: np.ndarray, *, seed: int = 0,
                   n_boot: int = BOOTSTRAP) -> tuple[float, float, float]:
    """mean(num) / mean(den) with a paired percentile-bootstrap 95% interval.

    A resample whose denominator is <= 0 (no reduction) gives +inf, so an
    interval whose upper end is inf means "the reduction may be zero".
    Returns NaN if the point denominator is <= 0.
    """
    num, den = np.asarray(num, float), np.asarray(den, float)
    n = len(num)
    if n == 0 or den.mean() <= 0:
        return math.nan, math.nan, math.nan
    point = float(num.mean() / den.mean())
    if n < 2:
        return point, math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    bn, bd = num[idx].mean(axis=1), den[idx].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(bd > 0, bn / np.where(bd > 0, bd, 1.0), np.inf)
    low, high = np.quantile(r, [0.025, 0.975], method="inverted_cdf")  # no inf - inf
    return point, float(low), float(high)


# --------------------------------------------------------------------------- reading


@dataclass
class Batch:
    dir: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame  # ok runs only
    timeseries: pd.DataFrame
    panel: pd.DataFrame | None
    scenarios: list[str]
    failed: int
    #: scenarios left out because every run of theirs failed
    not_compared: list[str] = field(default_factory=list)

    def households(self, scenario: str) -> int:
        sc = self.manifest["scenarios"][scenario]["resolved"]
        return int(sc["params"]["population.households"])


def load_batch(folder: Path) -> Batch:
    """A finished batch folder (:func:`experiments.report.provenance.read_batch`); UsageError
    names what is wrong."""
    files = read_batch(folder, UsageError)
    runs = files.runs
    failed = int((runs["status"] != "ok").sum())
    runs = runs[runs["status"] == "ok"].reset_index(drop=True)
    return Batch(files.folder, files.manifest, runs, files.timeseries, files.panel,
                 files.order, failed)


#: Scenario names taken as the baseline when none is given, in order of preference: the
#: status quo (today's policies), else the no-policy "baseline", else the batch's first.
DEFAULT_BASELINES = ("status_quo", "baseline")


def default_baseline(scenarios: Sequence[str]) -> str:
    """The baseline of a batch without --baseline (see DEFAULT_BASELINES)."""
    return next((b for b in DEFAULT_BASELINES if b in scenarios), scenarios[0])


def choose_baseline(batch: Batch, name: str | None) -> str:
    if name is not None:
        if name not in batch.scenarios:
            raise UsageError(f"--baseline {name!r} is not in this batch; scenarios: "
                               f"{', '.join(batch.scenarios)}")
        return name
    return default_baseline(batch.scenarios)


def check_comparable(batch: Batch, baseline: str) -> None:
    """A comparison needs the baseline and at least one other scenario with finished runs.
    Scenarios whose every run failed are left out (and named in the report); otherwise
    a UsageError says why there is nothing to compare."""
    have = set(batch.runs["scenario"].astype(str))
    none = [s for s in batch.scenarios if s not in have]
    see = "see the error column of runs.parquet"
    if len(batch.scenarios) < 2:
        raise UsageError(f"{batch.dir}: the batch has one scenario ({baseline}); compare needs a "
                         "baseline and at least one other scenario (run a batch of two or more)")
    if baseline in none:
        raise UsageError(f"{batch.dir}: every run of the baseline {baseline!r} failed ({see}); "
                         "choose another --baseline")
    if len(batch.scenarios) - len(none) < 2:
        raise UsageError(f"{batch.dir}: only the baseline {baseline!r} has finished runs; every "
                         f"run of {', '.join(none)} failed ({see})")
    batch.scenarios = [s for s in batch.scenarios if s in have]
    batch.not_compared = none


def horizons_of(batch: Batch, asked: Sequence[int] | None) -> list[int]:
    if batch.timeseries.empty:
        return []
    last = int(batch.timeseries["year"].max())
    if asked:
        bad = [y for y in asked if not 1 <= y <= last]
        if bad:
            raise UsageError(f"--horizons {bad[0]} is outside the batch's years 1..{last}")
        return sorted(set(asked))
    return sorted({y for y in DEFAULT_HORIZONS if y < last} | {last})


# --------------------------------------------------------------------------- tables


def wide(df: pd.DataFrame, value: str) -> pd.DataFrame:
    return df.pivot_table(index="replicate", columns="scenario", values=value, aggfunc="first")


def outcome_frames(batch: Batch, horizons: Sequence[int]) -> list[tuple[str, str, str, pd.DataFrame]]:
    """(outcome, horizon label, direction, replicate x scenario values) for every outcome."""
    out = []
    for name, direction in OUTCOMES.items():
        if name in batch.runs:
            out.append((name, "run", direction, wide(batch.runs, name)))
    ts = batch.timeseries
    for year in horizons:
        at = ts[ts["year"] == year]
        for name, direction in YEARLY_OUTCOMES.items():
            if name in at:
                out.append((name, str(year), direction, wide(at, name)))
    return out


def levels_table(batch: Batch, frames) -> pd.DataFrame:
    rows = []
    for name, horizon, direction, wide in frames:
        for sc in batch.scenarios:
            x = wide[sc].dropna().to_numpy(float) if sc in wide else np.zeros(0)
            mean, low, high = t_interval(x)
            rows.append({
                "outcome": name, "horizon": horizon, "direction": direction, "scenario": sc,
                "n": len(x), "mean": mean, "ci_low": low, "ci_high": high,
                "sd": float(x.std(ddof=1)) if len(x) > 1 else math.nan,
                "p10": float(np.percentile(x, 10)) if len(x) else math.nan,
                "p90": float(np.percentile(x, 90)) if len(x) else math.nan,
            })
    return pd.DataFrame(rows)


def comparison_table(batch: Batch, frames, baseline: str) -> pd.DataFrame:
    rows = []
    for name, horizon, direction, wide in frames:
        if baseline not in wide:
            continue
        for sc in batch.scenarios:
            if sc == baseline or sc not in wide:
                continue
            p = paired(wide, sc, baseline)
            significant = bool(p.n > 1 and (p.diff_low > 0 or p.diff_high < 0))
            better = None
            if significant:
                better = (p.diff_mean < 0) if direction == "min" else (p.diff_mean > 0)
            ratio = (p.width_independent / p.width_paired
                     if p.width_paired > 0 else (math.inf if p.width_independent > 0 else math.nan))
            rows.append({
                "outcome": name, "horizon": horizon, "direction": direction,
                "scenario": sc, "baseline": baseline, "n_pairs": p.n,
                "scenario_mean": p.scenario_mean, "baseline_mean": p.baseline_mean,
                "diff_mean": p.diff_mean, "diff_ci_low": p.diff_low, "diff_ci_high": p.diff_high,
                "ci_width_paired": p.width_paired,
                "ci_width_independent": p.width_independent,
                "width_ratio": ratio, "significant": significant, "better": better,
            })
    return pd.DataFrame(rows)


def with_counts(batch: Batch) -> pd.DataFrame:
    """runs with ``poverty_years`` (household-years in consumption poverty) and
    ``asset_poor`` (asset-poor households in the final year) as counts: from the
    households living in the region each year (the table grows and shrinks with
    demography), or, for results written before those columns, the initial number."""
    runs = batch.runs.copy()
    n_hh = runs["scenario"].map({s: batch.households(s) for s in batch.scenarios})
    runs["poverty_years"] = (runs["poverty_years_total"] if "poverty_years_total" in runs
                             else runs["poverty_years_per_household"] * n_hh)
    runs["asset_poor"] = (runs["asset_poor_households_final"]
                          if "asset_poor_households_final" in runs
                          else runs["asset_poverty_final"] * n_hh)
    return runs


def cost_table(batch: Batch, baseline: str) -> pd.DataFrame:
    """Cost-effectiveness of each scenario vs. the baseline, paired by replicate.

    poverty-years averted = baseline - scenario of the household-years in poverty
    (Σ over years of the headcount x the households living in the region that year);
    households kept out of asset poverty = baseline - scenario of
    (asset-poverty share in the final year x households then). Demography is the same in
    paired runs, so both count the same households.
    """
    runs = with_counts(batch)
    cost, pov, asset = (wide(runs, c) for c in ("fiscal_cost_total", "poverty_years", "asset_poor"))
    rows = []
    for sc in batch.scenarios:
        if sc == baseline or sc not in cost or baseline not in cost:
            continue
        both = pd.concat({"c": cost[sc] - cost[baseline], "p": pov[baseline] - pov[sc],
                          "a": asset[baseline] - asset[sc]}, axis=1).dropna()
        dc, dp, da = (both[k].to_numpy(float) for k in ("c", "p", "a"))
        c_mean, c_low, c_high = t_interval(dc)
        p_mean, p_low, p_high = t_interval(dp)
        a_mean, a_low, a_high = t_interval(da)
        py, py_low, py_high = ratio_of_means(dc, dp)
        ha, ha_low, ha_high = ratio_of_means(dc, da)
        rows.append({
            "scenario": sc, "baseline": baseline, "n_pairs": len(dc),
            "households": batch.households(sc),
            "extra_fiscal_cost_kmnt": c_mean, "extra_fiscal_cost_ci_low": c_low,
            "extra_fiscal_cost_ci_high": c_high,
            "poverty_years_averted": p_mean, "poverty_years_averted_ci_low": p_low,
            "poverty_years_averted_ci_high": p_high,
            "asset_poor_households_averted": a_mean, "asset_poor_averted_ci_low": a_low,
            "asset_poor_averted_ci_high": a_high,
            "cost_per_poverty_year_averted_kmnt": py,
            "cost_per_poverty_year_ci_low": py_low, "cost_per_poverty_year_ci_high": py_high,
            "cost_per_household_out_of_asset_poverty_kmnt": ha,
            "cost_per_household_ci_low": ha_low, "cost_per_household_ci_high": ha_high,
            "note": _cost_note(c_mean, p_mean, a_mean),
        })
    return pd.DataFrame(rows)


def _cost_note(cost: float, pov: float, asset: float) -> str:
    notes = []
    if pov <= 0:
        notes.append("no poverty-years averted: cost per poverty-year n/a")
    if asset <= 0:
        notes.append("no households kept out of asset poverty: cost per household n/a")
    if cost == 0:
        notes.append("no fiscal cost difference")
    elif cost < 0 and (pov > 0 or asset > 0):
        notes.append("saves money and reduces poverty (dominates the baseline)")
    return "; ".join(notes)
