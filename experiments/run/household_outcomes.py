"""Per-household outcomes of one run: the compact table behind "who gains, who loses".

One row per household (id) that lived in the region at some time during the run (the
outputs' population, ``HouseholdState.in_scope``), with what a distributional analysis
needs and nothing else (``household_outcomes.parquet`` of a batch, 32 MB for the
demo's 500 runs)::

    hid, aimag, soum_code, formed_year,
    herd_pc_start        herd (SFU) per person when the run starts (or the household is founded)
    years                years it lived in the region
    poverty_years        of those, years with consumption per person below the poverty line
    consumption_pc_mean  mean yearly consumption per person (kMNT) over those years
    received_kmnt        cash received from programmes (transfers and insurance payouts)
    received_sfu         animals received (restocking), sheep units
    herd_sfu_final       herd (SFU) at the end (0 if it left the region or dissolved)
    in_region_final      still living in the region at the end

The poverty test is the one of the yearly metrics (model.metrics: consumption per person
below the line), so the poverty years summed over households are the run's
``poverty_years_total``. Demography is the same in every scenario of a replicate, so
rows pair by (replicate, hid) across scenarios (common random numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model.household import income_index
from model.species import to_sfu

if TYPE_CHECKING:
    from model.model import HerdtrapModel

_I_TRANSFERS, _I_INSURANCE = income_index("transfers"), income_index("insurance")


class HouseholdOutcomes:
    """Accumulates per-household outcomes year by year (call :meth:`add_year` after each
    simulated year, :meth:`frame` at the end). Arrays are indexed by household id."""

    def __init__(self, model: HerdtrapModel) -> None:
        hh = model.households
        size = int(hh.hid.max()) + 1 if hh.n else 0
        self._cols = ("years", "poverty_years", "consumption_pc_sum", "received_kmnt",
                      "received_sfu", "herd_pc_start")
        self._a = {c: np.zeros(size) for c in self._cols}
        self._a["herd_pc_start"][:] = np.nan
        self._soum = np.full(size, -1, dtype=np.int64)
        self._formed = np.zeros(size, dtype=np.int64)
        self._start(model, np.flatnonzero(hh.in_scope))

    def _grow(self, size: int) -> None:
        old = self._soum.size
        if size <= old:
            return
        for c in self._cols:
            fill = np.nan if c == "herd_pc_start" else 0.0
            self._a[c] = np.concatenate([self._a[c], np.full(size - old, fill)])
        self._soum = np.concatenate([self._soum, np.full(size - old, -1, dtype=np.int64)])
        self._formed = np.concatenate([self._formed, np.zeros(size - old, dtype=np.int64)])

    def _start(self, model: HerdtrapModel, rows: np.ndarray) -> None:
        """Record the starting herd per person of the households in slots ``rows`` that
        have none yet (the initial households, or households founded or taking up herding
        during the run: their herd when first seen in the region)."""
        hh = model.households
        ids = hh.hid[rows]
        new = np.isnan(self._a["herd_pc_start"][ids])
        rows, ids = rows[new], ids[new]
        if model.year == 0:
            start = model.initial_herd_sfu()[rows]
        else:
            start = model.initial_herd_sfu_new[rows]
            start = np.where(hh.formed_year[rows] > 0, start, hh.herd_sfu[rows])
        self._a["herd_pc_start"][ids] = start / np.maximum(hh.persons[rows], 1)
        self._formed[ids] = hh.formed_year[rows]

    def add_year(self, model: HerdtrapModel) -> None:
        """Add the year that has just ended (``model.last_year``) for the households in
        the region."""
        hh = model.households
        rows = np.flatnonzero(hh.in_scope)
        if rows.size == 0:
            return
        self._grow(int(hh.hid.max()) + 1)
        self._start(model, rows)
        ids = hh.hid[rows]
        last = model.last_year
        cons_pc = last["consumption"][rows] / np.maximum(hh.persons[rows], 1)
        line_year = 12.0 * model.line_month
        a = self._a
        a["years"][ids] += 1.0
        a["poverty_years"][ids] += cons_pc < line_year
        a["consumption_pc_sum"][ids] += cons_pc
        income = last["income"][rows]
        a["received_kmnt"][ids] += income[:, _I_TRANSFERS] + income[:, _I_INSURANCE]
        a["received_sfu"][ids] += to_sfu(last["flows"]["received"][rows])
        self._soum[ids] = hh.soum[rows]

    def frame(self, model: HerdtrapModel) -> pd.DataFrame:
        """One row per household that lived in the region in at least one year."""
        hh = model.households
        a = self._a
        ids = np.flatnonzero(a["years"] > 0)
        final = np.zeros(self._soum.size)
        in_final = np.zeros(self._soum.size, dtype=bool)
        rows = np.flatnonzero(hh.in_scope)
        final[hh.hid[rows]] = hh.herd_sfu[rows]
        in_final[hh.hid[rows]] = True
        soum = self._soum[ids]
        region = model.region
        return pd.DataFrame({
            "hid": ids.astype(np.int64),
            "aimag": np.asarray(region.aimags)[region.soum_aimag[soum]],
            "soum_code": np.asarray(region.soum_codes)[soum],
            "formed_year": self._formed[ids],
            "herd_pc_start": a["herd_pc_start"][ids],
            "years": a["years"][ids].astype(np.int64),
            "poverty_years": a["poverty_years"][ids].astype(np.int64),
            "consumption_pc_mean": a["consumption_pc_sum"][ids] / a["years"][ids],
            "received_kmnt": a["received_kmnt"][ids],
            "received_sfu": a["received_sfu"][ids],
            "herd_sfu_final": final[ids],
            "in_region_final": in_final[ids],
        })
