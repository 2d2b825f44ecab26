"""The outcome catalogue: every outcome the analyses report, declared once.

An outcome is a column of a results folder: ``kind`` "yearly" for the yearly metrics
(``timeseries.parquet``, one row per run and year; ``model.metrics``), "summary" for
the per-run summary (``runs.parquet``; ``experiments.run.runner.summarise``, plus
``trap_share_final`` of the sensitivity analysis). ``better`` says which direction
is good for households or the treasury ("min" or "max"); ``unit`` is what the values
are ("share" is a fraction of households, shown as a percentage). The tables of
``runner``, ``compare``, ``brief`` and ``sensitivity`` are views of this catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    name: str  # column name
    label: str  # label of tables and figures
    unit: str  # "share", "kMNT", "SFU", "index", "households", ...
    better: str  # "min" | "max"
    kind: str  # "yearly" | "summary"


_Y, _S = "yearly", "summary"

CATALOGUE: tuple[Outcome, ...] = (
    # yearly metrics (timeseries.parquet)
    Outcome("poverty_headcount", "poverty headcount (share of households)", "share", "min", _Y),
    Outcome("poverty_gap", "poverty gap (FGT1)", "index", "min", _Y),
    Outcome("asset_poverty", "asset poverty (share of households)", "share", "min", _Y),
    Outcome("herding_share", "households still herding (share)", "share", "max", _Y),
    Outcome("destitute_share", "destitute households (share)", "share", "min", _Y),
    Outcome("indebted_share", "indebted households (share)", "share", "min", _Y),
    Outcome("herd_sfu_median", "median herd (sheep units)", "SFU", "max", _Y),
    Outcome("herd_gini", "herd Gini", "index", "min", _Y),
    Outcome("stock_sfu", "total stock (sheep units)", "SFU", "max", _Y),
    Outcome("fiscal_cost", "fiscal cost in the year (kMNT)", "kMNT", "min", _Y),
    # per-run summary (runs.parquet)
    Outcome("poverty_headcount_final", "poverty headcount, final year", "share", "min", _S),
    Outcome("poverty_headcount_mean", "poverty headcount, mean over years", "share", "min", _S),
    Outcome("poverty_gap_final", "poverty gap, final year", "index", "min", _S),
    Outcome("asset_poverty_final", "asset poverty, final year", "share", "min", _S),
    Outcome("asset_poverty_mean", "asset poverty, mean over years", "share", "min", _S),
    Outcome("poverty_years_per_household", "poverty-years per household",
            "poverty-years per household", "min", _S),
    Outcome("herding_share_final", "still herding, final year", "share", "max", _S),
    Outcome("exits_total", "exits from herding (households)", "households", "min", _S),
    Outcome("herd_sfu_median_final", "median herd, final year (SFU)", "SFU", "max", _S),
    Outcome("herd_gini_final", "herd Gini, final year", "index", "min", _S),
    Outcome("stock_sfu_final", "total stock, final year (SFU)", "SFU", "max", _S),
    Outcome("fiscal_cost_total", "fiscal cost, whole horizon (kMNT)", "kMNT", "min", _S),
    Outcome("fiscal_cost_per_household_year", "fiscal cost per household-year (kMNT)",
            "kMNT per household-year", "min", _S),
)
#: Computed by the sensitivity analysis on the final household state (not by every run).
TRAP_SHARE = Outcome("trap_share_final", "households below the trap threshold, final year",
                     "share", "min", _S)

BY_NAME: dict[str, Outcome] = {o.name: o for o in (*CATALOGUE, TRAP_SHARE)}


def outcomes(kind: str) -> tuple[Outcome, ...]:
    """The catalogue's outcomes of ``kind`` ("yearly" or "summary"; without the trap
    share, which only the sensitivity analysis computes), in catalogue order."""
    return tuple(o for o in CATALOGUE if o.kind == kind)
