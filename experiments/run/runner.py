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

from experiments.outcomes import outcomes
from experiments.run.household_outcomes import HouseholdOutcomes
from experiments.run.trigger_record import TriggerRecord
from model.model import HerdtrapModel
from model.scenario import Scenario
from model.species import SPECIES

#: Per-run summary outcomes (runs.parquet), with the direction that is better (a view
#: of the outcome catalogue, experiments/outcomes.py).
OUTCOMES: dict[str, str] = {o.name: o.better for o in outcomes("summary")}


@dataclass
class RunOutput:
    """What one run produces (all tables are pandas DataFrames)."""

    timeseries: pd.DataFrame  # one row per year
    summary: dict[str, Any]  # one row of runs.parquet
    households: pd.DataFrame  # final household state
    soums: pd.DataFrame  # per soum per year mortality
    ledger: pd.DataFrame  # fiscal and insurer flows per year
    panel: pd.DataFrame | None = None  # yearly household panel for a sample of ids
    #: one row per household that lived in the region (experiments/run/household_outcomes.py)
    household_outcomes: pd.DataFrame | None = None
    #: per soum and year, the triggers of policies that pay on a signal (trigger_record.py)
    triggers: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)


def summarise(ts: pd.DataFrame, n_households: int) -> dict[str, Any]:
    """Summary outcomes of one run from its yearly metrics."""
    last = ts.iloc[-1]
    years = len(ts)
    fiscal = float(ts["fiscal_cost"].sum())
    # households living in the region, per year (the table grows and shrinks with
    # demography); older result tables without the column: the initial count
    hh_years = float(ts["households"].sum()) if "households" in ts else n_households * years
    if "households" in ts:
        households = ts["households"].to_numpy(dtype=float)
    else:
        households = np.full(years, float(n_households))
    return {
        "years": years,
        # households living in the region in the final year, and the household-years
        # spent in consumption poverty / households asset-poor at the end (counts; the
        # same households in paired runs, so their differences are households helped)
        "households_final": int(households[-1]),
        "poverty_years_total": float((ts["poverty_headcount"].to_numpy() * households).sum()),
        "asset_poor_households_final": float(last["asset_poverty"] * households[-1]),
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


def panel_step(fraction: float) -> int:
    """k of the household panel's sample: households whose id is a multiple of k
    (k = round(1 / fraction); 0 = no panel)."""
    if fraction <= 0:
        return 0
    return max(1, int(round(1.0 / fraction)))


def panel_rows(n: int, fraction: float) -> np.ndarray:
    """The initial households of the panel sample: every k-th slot, k = :func:`panel_step`
    (initial households have ids 0..n-1 in slot order)."""
    k = panel_step(fraction)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, n, k)


def sampled_slots(model: HerdtrapModel, k: int) -> np.ndarray:
    """Slots of the households in the panel sample now: in scope (living in the region,
    herding now or before; HouseholdState.in_scope), id a
    multiple of ``k``.

    The sample is a sample of household ids, not of slots or lineages: every household
    that lives in the region at some time during the run, founded at the start or
    later, is in it with probability 1/k, so each year's panel is a 1/k sample of that
    year's households. Demography is the same in every scenario of a replicate, so the
    sample holds the same households in all of them.
    """
    hh = model.households
    return np.flatnonzero(hh.in_scope & (hh.hid % k == 0))


def simulate(
    scenario: Scenario,
    seed: int | np.random.SeedSequence,
    *,
    panel_fraction: float = 0.0,
) -> RunOutput:
    """Run ``scenario`` to its horizon with ``seed`` and collect its outputs.

    With ``panel_fraction`` > 0 the run also returns a yearly panel of the households
    whose id is a multiple of k = round(1 / panel_fraction) (:func:`sampled_slots`),
    including households founded during the run.
    """
    t0 = time.perf_counter()
    n = int(scenario.params["population.households"])
    k = panel_step(panel_fraction)
    model = HerdtrapModel(
        scenario, seed=seed, create_agents=False, panel_rows=panel_rows(n, panel_fraction)
    )
    t1 = time.perf_counter()
    outcomes_of = HouseholdOutcomes(model)
    triggers = TriggerRecord()
    for _ in range(model.years):
        for _ in range(4):
            model.step()
            if k:
                # The model records ``model.panel_rows`` at each year end: follow the
                # sample's households into the slots founded (or reused) during the run.
                model.panel_rows = sampled_slots(model, k)
        outcomes_of.add_year(model)
        triggers.add_year(model)
    model.running = False
    t2 = time.perf_counter()
    ts = model.metrics()
    summary = summarise(ts, n)
    panel = model.panel_frame() if k else None
    hh = model.household_frame()
    # the final state of the households living in the region (slots of dissolved
    # households hold no one), with their ids
    live = model.households.in_scope
    hh.insert(1, "hid", model.households.hid)
    hh.insert(2, "formed_year", model.households.formed_year)
    hh.insert(3, "parent_hid", model.households.parent_hid)
    hh = hh[live].reset_index(drop=True)
    out = RunOutput(
        timeseries=ts,
        summary=summary,
        households=hh,
        soums=model.soum_metrics(),
        ledger=model.ledger.frame(),
        panel=panel,
        household_outcomes=outcomes_of.frame(model),
        triggers=triggers.frame(),
        timings={"setup_s": t1 - t0, "run_s": t2 - t1, "total_s": time.perf_counter() - t0},
    )
    return out


__all__ = ["OUTCOMES", "SPECIES", "RunOutput", "panel_rows", "panel_step", "sampled_slots",
           "simulate", "summarise"]
