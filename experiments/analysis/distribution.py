"""Who gains and who loses: a policy's effect by household group (issue 15, item 2).

Reads the per-household outcomes of a batch (``household_outcomes.parquet``, written
by every run: experiments/run/household_outcomes.py) and pairs each household with
itself in the baseline run of the same replicate (same id, same weather and luck:
common random numbers). For every household h and replicate r the effect of scenario
s is d_hr = outcome_s − outcome_baseline. Groups:

* ``quintile``: quintile of the herd per person the household started with (SFU per
  person; quintile edges over the baseline's initial households, pooled over
  replicates); households founded during the run form their own group;
* ``aimag`` and ``soum`` (soum code);
* ``beneficiary``: households the scenario paid more cash, or gave more animals, than
  the baseline did (over the run), against the others.

Households that lived in the region in only one of the two runs (a household that took
up herding only under the policy, say) have no counterpart; they are left out of the
effects and counted (``only_in_scenario_per_replicate``, ``only_in_baseline_...``).

A group's effect is household-weighted: the sum of d over the group's households in
all replicates divided by their number. Weighted by the groups' shares of households,
the group effects add up exactly to the effect over all households (``overall``).
The 95% interval treats replicates as the unit (the weather is shared within a
replicate): a Student-t interval with the leave-one-replicate-out jackknife standard
error of the ratio.

Outcomes (per household over the run): poverty years, mean consumption per person
(kMNT a year), final herd (SFU; 0 when the household left the region), cash received
from programmes (kMNT), and two shares: worse off (mean consumption per person below
the paired baseline's by more than ``WORSE_OFF``) and a smaller final herd (by more
than ``WORSE_OFF`` of the baseline's).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from experiments.errors import UsageError
from experiments.report.provenance import read_results_table, runs_written_twice

FILE = "household_outcomes.parquet"
#: A household is worse off when its outcome falls short of the paired baseline's by
#: more than this share (1%: rounding and luck within a run are smaller).
WORSE_OFF = 0.01
#: Quintile groups, and the group of households founded during the run.
QUINTILES = ("Q1 (smallest herds)", "Q2", "Q3", "Q4", "Q5 (largest herds)")
FOUNDED = "founded during the run"
#: (column of the table, label, unit) of the outcomes, in report order.
OUTCOMES = (
    ("poverty_years", "poverty years per household", "years"),
    ("consumption_pc_mean", "consumption per person", "kMNT/year"),
    ("herd_sfu_final", "final herd", "SFU"),
    ("received_kmnt", "cash received from programmes", "kMNT"),
    ("worse_off", "worse off (consumption)", "share"),
    ("smaller_herd", "smaller final herd", "share"),
)
BY = ("quintile", "aimag", "soum", "beneficiary")
_SHARES = {c for c, _, unit in OUTCOMES if unit == "share"}
_VALUES = ("poverty_years", "consumption_pc_mean", "herd_sfu_final", "received_kmnt",
           "received_sfu")


def read_outcomes(folder: Path) -> pd.DataFrame | None:
    """The batch's household outcomes, or None when the batch has none (older batches)."""
    if not (Path(folder) / FILE).exists():
        return None
    cols = ("scenario", "replicate", "hid", *_VALUES, "aimag", "soum_code", "formed_year",
            "herd_pc_start")
    df = read_results_table(Path(folder), FILE, UsageError, columns=cols, read_columns=cols,
                            categorical=True,
                            redo="run the `herdtrap batch` command that wrote the folder again")
    # a run written twice (a resumed batch) counts once, the last
    if runs_written_twice(folder):
        df = df.drop_duplicates(["scenario", "replicate", "hid"], keep="last")
    return df


def paired_households(outcomes: pd.DataFrame, scenario: str, baseline: str) -> pd.DataFrame:
    """One row per (replicate, household) in both runs: the effects d_* = scenario −
    baseline, and the household's groups (from the baseline run)."""
    keep = ["replicate", "hid", *_VALUES]
    s = outcomes.loc[outcomes["scenario"] == scenario, keep]
    b = outcomes.loc[outcomes["scenario"] == baseline,
                     [*keep, "aimag", "soum_code", "formed_year", "herd_pc_start"]]
    both = b.merge(s, on=["replicate", "hid"], suffixes=("_b", "_s"), validate="one_to_one")
    if both.empty:
        raise UsageError(f"household outcomes: no household of {scenario!r} is in a run of "
                         f"{baseline!r} with the same replicate")
    out = both[["replicate", "hid", "aimag", "soum_code", "formed_year"]].copy()
    out["aimag"] = out["aimag"].astype(str)
    for v in _VALUES:
        out[f"d_{v}"] = both[f"{v}_s"] - both[f"{v}_b"]
    cons_b, herd_b = both["consumption_pc_mean_b"], both["herd_sfu_final_b"]
    out["d_worse_off"] = (both["consumption_pc_mean_s"] < (1 - WORSE_OFF) * cons_b).astype(float)
    out["d_smaller_herd"] = (both["herd_sfu_final_s"] < (1 - WORSE_OFF) * herd_b).astype(float)
    initial = both["formed_year"] == 0
    start = both["herd_pc_start"]
    edges = np.quantile(start[initial], [0.2, 0.4, 0.6, 0.8]) if initial.any() else []
    q = np.searchsorted(np.asarray(edges), start.to_numpy(), side="right")
    out["quintile"] = np.where(initial, np.asarray(QUINTILES, dtype=object)[q], FOUNDED)
    out["soum"] = both["soum_code"].astype(str)
    paid = (out["d_received_kmnt"] > 0.5) | (out["d_received_sfu"] > 0.05)
    out["beneficiary"] = np.where(paid, "beneficiaries", "others")
    return out


def unpaired(outcomes: pd.DataFrame, scenario: str, baseline: str) -> tuple[float, float]:
    """Households per replicate that lived in the region (herding now or before) in only
    one of the two runs: e.g. a household that took up herding only with the policy. They
    are left out of the paired effects (they have no counterpart), and counted here."""
    key = ["replicate", "hid"]
    s = outcomes.loc[outcomes["scenario"] == scenario, key]
    b = outcomes.loc[outcomes["scenario"] == baseline, key]
    both = s.merge(b, on=key, how="outer", indicator=True)
    r = max(both["replicate"].nunique(), 1)
    return (float((both["_merge"] == "left_only").sum()) / r,
            float((both["_merge"] == "right_only").sum()) / r)


def _ratio_ci(sums: np.ndarray, counts: np.ndarray) -> tuple[float, float, float]:
    """Household-weighted mean over replicates (sum of sums / sum of counts) with a 95%
    t interval from the leave-one-replicate-out jackknife; ``sums``, ``counts``: per
    replicate."""
    total_n = counts.sum()
    est = float(sums.sum() / total_n) if total_n else float("nan")
    r = len(sums)
    if r < 2 or not total_n:
        return est, float("nan"), float("nan")
    n_loo = total_n - counts
    with np.errstate(invalid="ignore", divide="ignore"):
        loo = (sums.sum() - sums) / n_loo
    loo = loo[n_loo > 0]
    if len(loo) < 2:
        return est, float("nan"), float("nan")
    se = float(np.sqrt((len(loo) - 1) / len(loo) * ((loo - loo.mean()) ** 2).sum()))
    half = float(stats.t.ppf(0.975, len(loo) - 1)) * se
    return est, est - half, est + half


def group_effects(pairs: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Effect of every outcome for each group of ``by`` (None: all households), with the
    group's share of households and households per replicate."""
    key = "all households" if by is None else None
    frame = pairs.assign(_group=key) if by is None else pairs.assign(_group=pairs[by])
    replicates = np.sort(pairs["replicate"].unique())
    total = len(pairs)
    cols = [f"d_{c}" for c, _, _ in OUTCOMES]
    sums = frame.groupby(["_group", "replicate"], observed=True)[cols].sum()
    counts = frame.groupby(["_group", "replicate"], observed=True).size()
    rows = []
    for group in sums.index.get_level_values(0).unique():
        s = sums.loc[group].reindex(replicates, fill_value=0.0)
        n = counts.loc[group].reindex(replicates, fill_value=0).to_numpy(dtype=float)
        row = {"by": by or "overall", "group": group, "households_share": n.sum() / total,
               "households_per_replicate": n.sum() / len(replicates)}
        for c, _, _ in OUTCOMES:
            est, lo, hi = _ratio_ci(s[f"d_{c}"].to_numpy(dtype=float), n)
            if c in _SHARES:  # a share's interval stays within [0, 1]
                lo, hi = max(lo, 0.0), min(hi, 1.0)
            row.update({c: est, f"{c}_low": lo, f"{c}_high": hi})
        rows.append(row)
    df = pd.DataFrame(rows)
    if by == "quintile":
        order = {g: i for i, g in enumerate((*QUINTILES, FOUNDED))}
        df = df.sort_values("group", key=lambda g: g.map(order))
    elif by == "soum":
        df = df.sort_values("group")
    return df.reset_index(drop=True)


@dataclass
class Distribution:
    """Effects by group of every compared scenario against the baseline."""

    baseline: str
    #: long table: scenario, by, group, households_share, households_per_replicate and,
    #: for every outcome, its effect with _low/_high (95% CI)
    table: pd.DataFrame

    def of(self, scenario: str, by: str) -> pd.DataFrame:
        t = self.table
        return t[(t["scenario"] == scenario) & (t["by"] == by)].reset_index(drop=True)

    @property
    def scenarios(self) -> list[str]:
        return list(dict.fromkeys(self.table["scenario"]))


def distribution(outcomes: pd.DataFrame, scenarios: list[str], baseline: str) -> Distribution:
    """Effects by group for each scenario (other than the baseline) with outcomes."""
    have = set(outcomes["scenario"].unique())
    frames = []
    for s in scenarios:
        if s == baseline or s not in have or baseline not in have:
            continue
        pairs = paired_households(outcomes, s, baseline)
        only_s, only_b = unpaired(outcomes, s, baseline)
        for by in (None, *BY):
            g = group_effects(pairs, by).assign(scenario=s)
            if by is None:
                g = g.assign(only_in_scenario_per_replicate=only_s,
                             only_in_baseline_per_replicate=only_b)
            frames.append(g)
    if not frames:
        return Distribution(baseline, pd.DataFrame())
    table = pd.concat(frames, ignore_index=True)
    return Distribution(baseline, table[["scenario", *[c for c in table if c != "scenario"]]])
