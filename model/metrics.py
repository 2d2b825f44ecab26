"""Yearly metrics, computed at the end of each winter over whole columns.

Poverty (Foster-Greer-Thorbecke): with y_h the household's consumption per
person over the year (cash and own meat, kMNT) and z = 12 × poverty line,
FGT_a = mean over households of ((z − y_h)/z)^a · 1[y_h < z], a = 0, 1, 2.
All households count, including those that left herding (their consumption
comes from wages and transfers), so exits do not flatter the poverty rate.

Asset poverty: herd (SFU) per person below ``metrics.asset_poverty_line``.
That line is a measurement only; no process reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from model.species import SFU, SPECIES, to_sfu

if TYPE_CHECKING:
    from model.model import HerdtrapModel


#: The year's demographic events (model.processes.demography), one column each.
DEMOGRAPHY_COLUMNS = ("persons_born", "persons_died", "persons_outmigrated", "households_formed",
                      "households_formed_herding", "households_formed_nonherding",
                      "households_dissolved")


def _median_age(counts: np.ndarray) -> float:
    """Median of the members' ages from their counts by age (``counts[a]`` members aged a)."""
    total = counts.sum()
    if total == 0:
        return 0.0
    cum = np.cumsum(counts)
    lo = int(np.searchsorted(cum, (total + 1) // 2))  # the middle member(s), 1-based
    hi = int(np.searchsorted(cum, total // 2 + 1))
    return 0.5 * (lo + hi)


def _mean(x: np.ndarray) -> float:
    """``float(x.mean())`` of a 1-D array, without ``mean``'s Python overhead (the same
    sum divided by the same count: bit-identical; booleans count as 0 and 1)."""
    if x.size == 0:
        return float("nan")
    if x.dtype == bool:
        return np.count_nonzero(x) / x.size
    return float(x.sum()) / x.size


#: the herd-size quantiles reported (herd_sfu_p10 ... herd_sfu_p90)
_HERD_QUANTILES = np.array([0.1, 0.25, 0.5, 0.75, 0.9])


def quantiles(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(x, q)`` (the default, linear method) of a non-empty 1-D float array
    without NaNs, computed as numpy does (the same partition points and interpolation,
    so bit-identical) without its general machinery, which costs more than the work at
    a few thousand values."""
    n = x.size
    virtual = (n - 1) * q
    below = np.floor(virtual)
    gamma = virtual - below
    below = below.astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    part = np.partition(x, np.unique(np.concatenate(([0, n - 1], below, above))))
    a, b = part[below], part[above]
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def fgt(consumption_pc: np.ndarray, line: float) -> tuple[float, float, float]:
    """FGT0, FGT1, FGT2 of per-person consumption against ``line``."""
    gap = np.maximum((line - consumption_pc) / line, 0.0)
    poor = consumption_pc < line
    return _mean(poor), _mean(gap), _mean(gap * gap)


def gini(x: np.ndarray) -> float:
    """Gini coefficient of a non-negative array (0 = equal)."""
    x = np.sort(np.asarray(x, dtype=float))
    n = x.size
    total = x.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2.0 * (ranks * x).sum()) / (n * total) - (n + 1.0) / n)


def year_metrics(model: HerdtrapModel) -> dict[str, Any]:
    hh = model.households
    p = model.p
    # the households the outputs describe: living in the region and herding now or before
    # (slots of dissolved households and households that never herded excluded)
    live = hh.in_scope
    persons_all, herd_sfu_all = hh.persons, hh.herd_sfu
    persons_live = persons_all[live]
    persons = np.maximum(persons_live, 1)
    line_year = 12.0 * model.line_month
    cons_pc = hh.consumption_year[live] / persons
    fgt0, fgt1, fgt2 = fgt(cons_pc, line_year)
    herding = hh.herding[live]
    herd_sfu = herd_sfu_all[live]

    def asset_poor_of(herd: np.ndarray, persons: np.ndarray) -> np.ndarray:
        return herd / np.maximum(persons, 1) < p["metrics.asset_poverty_line"]

    asset_poor_all = asset_poor_of(herd_sfu_all, persons_all)
    if model.year == 1:
        prev_all = asset_poor_of(model.initial_herd_sfu(), persons_all)
    else:
        prev_all = model._asset_poor_prev
        formed = hh.formed_year == model.year  # (no last year: their state at formation)
        if formed.any():
            prev_all = prev_all.copy()
            prev_all[formed] = asset_poor_of(model.initial_herd_sfu_new[formed],
                                             persons_all[formed])
    model._asset_poor_prev = asset_poor_all
    asset_poor, prev_poor = asset_poor_all[live], prev_all[live]
    demo = model.demography_year
    # members by age (the occupied seats: an empty seat has age -1)
    seat_ages = hh.ages.compress(live, axis=0).ravel()
    age_counts = np.bincount(seat_ages[seat_ages >= 0], minlength=5)
    n_persons = max(int(persons_live.sum()), 1)
    row: dict[str, Any] = {
        "year": model.year,
        "calendar_year": model.calendar_year,
        "households": int(live.sum()),
        "households_never_herded": int((hh.alive & ~hh.ever_herded).sum()),
        "herding_households": int(herding.sum()),
        "herding_share": _mean(herding),
        "exits": model.exits_this_year,
        "returns": model.returns_this_year,
        # new herding households: founded with animals, former herders who returned, and
        # households founded without animals that took up herding
        "entries": (int(demo.get("households_formed_herding", 0)) + model.returns_this_year
                    + model.first_entries_this_year),
        "persons": int(persons_live.sum()),
        "household_size": _mean(persons_live),
        "share_under_6": float((hh.children_0_5[live]).sum() / n_persons),
        # ages 0-4, as NSO counts "children under 5" (soum_profile_2019.csv)
        "share_under_5": float(age_counts[:5].sum() / n_persons),
        "share_6_17": float((hh.children_6_17[live]).sum() / n_persons),
        "share_60_plus": float((hh.elderly[live]).sum() / n_persons),
        "median_age": _median_age(age_counts),
        "poverty_headcount": fgt0,
        "poverty_gap": fgt1,
        "poverty_severity": fgt2,
        "poverty_headcount_herding": _mean(cons_pc[herding] < line_year)
        if herding.any() else float("nan"),
        "asset_poverty": _mean(asset_poor),
        # Mobility across the asset poverty line since last year ("climbing out").
        "asset_poverty_climbed_out": _mean(prev_poor & ~asset_poor),
        "asset_poverty_fell_in": _mean(~prev_poor & asset_poor),
        "consumption_pc_mean": _mean(cons_pc),
        "herd_sfu_mean": _mean(herd_sfu),
        "herd_gini": gini(herd_sfu),
        "cash_mean": _mean(hh.cash[live]),
        "debt_mean": _mean(hh.debt[live]),
        "indebted_share": _mean(hh.debt[live] > 1e-9),
        "prepared_mean": _mean(hh.prep[live][herding]) if herding.any() else 0.0,
        "destitute_share": _mean(hh.destitute_seasons[live] > 0),
        "distress_sales": float(model.flows_money["distress_sales"].sum()),
        "purchases": float(model.flows_money["purchases"].sum()),
    }
    for key in DEMOGRAPHY_COLUMNS:
        row[key] = int(demo.get(key, 0))
    if herding.any():
        q = quantiles(herd_sfu[herding], _HERD_QUANTILES)
    else:
        q = np.zeros(5)
    for name, v in zip(("p10", "p25", "median", "p75", "p90"), q, strict=True):
        row[f"herd_sfu_{name}"] = float(v)
    stock = hh.herd.sum(axis=0)
    for j, sp in enumerate(SPECIES):
        row[f"stock_{sp}"] = int(stock[j])
    row["stock_sfu"] = float(to_sfu(stock))
    for flow in ("births", "deaths", "sales", "slaughter", "received", "bought"):
        row[f"{flow}_sfu"] = float(to_sfu(model.flows[flow]).sum())
    before = model.winter_outcome.before_sfu
    died = model.winter_outcome.deaths_sfu
    for a, name in enumerate(model.region.aimags):
        key = name.lower()
        in_a = hh.aimag == a
        b = before[in_a].sum()
        row[f"mortality_sfu_{key}"] = float(died[in_a].sum() / b) if b > 0 else float("nan")
        w = model.region.stock_2019[a] * SFU
        row[f"mortality_index_{key}"] = float(model.winter.aimag_mortality[a] @ w / w.sum())
        row[f"severity_{key}"] = float(model.winter.severity[a])
        row[f"signal_{key}"] = float(model.winter.signal[a])
    costs = model.ledger.fiscal_cost(model.year)
    row["fiscal_cost"] = float(sum(costs.values()))
    for account, value in sorted(costs.items()):
        row[f"fiscal_cost_{account}"] = float(value)
    row.update(model.policies.metrics(model))  # policy columns: model/policies/metrics.py
    return row
