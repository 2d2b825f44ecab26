"""One simulation run as a pure function: (resolved scenario, seed) -> outputs.

Every backend (sequential, joblib's loky processes, Dask) calls
:func:`simulate`; it reads no global state and writes nothing, so the same
inputs give byte-identical outputs wherever it runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from model.model import HerdtrapModel
from model.scenario import Scenario
from model.species import SPECIES

#: Per-run summary outcomes (runs.parquet), with the direction that is better.
OUTCOMES: dict[str, str] = {
    "poverty_headcount_final": "min",
    "poverty_headcount_mean": "min",
    "poverty_gap_final": "min",
    "asset_poverty_final": "min",
    "asset_poverty_mean": "min",
    "poverty_years_per_household": "min",
    "herding_share_final": "max",
    "exits_total": "min",
    "herd_sfu_median_final": "max",
    "herd_gini_final": "min",
    "stock_sfu_final": "max",
    "fiscal_cost_total": "min",
    "fiscal_cost_per_household_year": "min",
}


@dataclass
class RunOutput:
    """What one run produces (all tables are pandas DataFrames)."""

    timeseries: pd.DataFrame  # one row per year
    summary: dict[str, Any]  # one row of runs.parquet
    households: pd.DataFrame  # final household state
    soums: pd.DataFrame  # per soum per year mortality
    ledger: pd.DataFrame  # fiscal and insurer flows per year
    panel: pd.DataFrame | None = None  # yearly household panel for a sample
    timings: dict[str, float] = field(default_factory=dict)


def summarise(ts: pd.DataFrame, n_households: int) -> dict[str, Any]:
    """Summary outcomes of one run from its yearly metrics."""
    last = ts.iloc[-1]
    years = len(ts)
    fiscal = float(ts["fiscal_cost"].sum())
    # households living in the region, per year (the table grows and shrinks with
    # demography); older result tables without the column: the initial count
    hh_years = float(ts["households"].sum()) if "households" in ts else n_households * years
    return {
        "years": years,
        "poverty_headcount_final": float(last["poverty_headcount"]),
        "poverty_headcount_mean": float(ts["poverty_headcount"].mean()),
        "poverty_gap_final": float(last["poverty_gap"]),
        "asset_poverty_final": float(last["asset_poverty"]),
        "asset_poverty_mean": float(ts["asset_poverty"].mean()),
        "poverty_years_per_household": float(ts["poverty_headcount"].sum()),
        "herding_share_final": float(last["herding_share"]),
        "exits_total": int(ts["exits"].sum()),
        "herd_sfu_median_final": float(last["herd_sfu_median"]),
        "herd_gini_final": float(last["herd_gini"]),
        "stock_sfu_final": float(last["stock_sfu"]),
        "fiscal_cost_total": fiscal,
        "fiscal_cost_per_household_year": fiscal / hh_years,
    }


def panel_rows(n: int, fraction: float) -> np.ndarray:
    """A fixed sample of household slots: every k-th slot, k = round(1 / fraction).

    It depends only on the number of households and ``fraction``, so every scenario
    and replicate follows the same slots.
    """
    if fraction <= 0:
        return np.zeros(0, dtype=np.int64)
    k = max(1, int(round(1.0 / fraction)))
    return np.arange(0, n, k)


def simulate(
    scenario: Scenario,
    seed: int | np.random.SeedSequence,
    *,
    panel_fraction: float = 0.0,
) -> RunOutput:
    """Run ``scenario`` to its horizon with ``seed`` and collect its outputs."""
    t0 = time.perf_counter()
    n = int(scenario.params["population.households"])
    model = HerdtrapModel(
        scenario, seed=seed, create_agents=False, panel_rows=panel_rows(n, panel_fraction)
    )
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    ts = model.metrics()
    summary = summarise(ts, model.households.n)
    panel = model.panel_frame() if panel_fraction > 0 else None
    hh = model.household_frame()
    out = RunOutput(
        timeseries=ts,
        summary=summary,
        households=hh,
        soums=model.soum_metrics(),
        ledger=model.ledger.frame(),
        panel=panel,
        timings={"setup_s": t1 - t0, "run_s": t2 - t1, "total_s": time.perf_counter() - t0},
    )
    return out


__all__ = ["OUTCOMES", "SPECIES", "RunOutput", "panel_rows", "simulate", "summarise"]
