"""Per-run record of the triggers of policies that pay on a signal (``triggers.parquet``).

After every simulated year, for every active policy with a ``signal_record`` for that
year's winter (model.policies.programme.SignalRecord: the index insurance and the
shock-responsive top-up), one row per soum::

    year, calendar_year, policy, soum_code, aimag,
    index            the soum's SFU-weighted mortality index of the winter
    fired            the policy's trigger fired in the soum
    households       households in the region (herding now or before) in the soum
    covered          of those, households the policy covers (insured; children in the band)
    paid             covered households awarded something for this winter
    lost_gt_X        covered households that lost more than X of their herd (SFU), and
    unpaid_lost_gt_X those of them awarded nothing; paid_lost_le_X: awarded, lost at most X
                     (X in LOSS_GRID, as 10, 20, 30, 50 for 10%...)

The trigger scorecard (experiments/analysis/triggers.py) reads it, with a bad winter
defined afterwards on ``index``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model.policies.programme import soum_loss_index

if TYPE_CHECKING:
    from model.model import HerdtrapModel

#: Household loss shares (of the herd, SFU, over the winter) the record counts above.
LOSS_GRID = (0.1, 0.2, 0.3, 0.5)


def loss_key(x: float) -> str:
    return f"{round(100 * x)}"


class TriggerRecord:
    """Collects the rows year by year (call :meth:`add_year` after each year)."""

    def __init__(self) -> None:
        #: column -> one array (n_soums rows) per policy and year; one frame at the end
        self._columns: dict[str, list[np.ndarray]] = {}

    def _add(self, row: dict[str, np.ndarray]) -> None:
        for k, v in row.items():
            self._columns.setdefault(k, []).append(v)

    def add_year(self, model: HerdtrapModel) -> None:
        done = model.metrics_rows[-1]  # the year just completed
        policies = [p for p in model.policies.active
                    if getattr(p, "signal_record", None) is not None
                    and p.signal_record.year == done["year"]]
        if not policies:
            return
        hh = model.households
        scope = hh.in_scope
        n_soums = model.region.n_soums
        soum = hh.soum
        index = soum_loss_index(model)
        loss = hh.last_winter_loss

        def count(mask: np.ndarray) -> np.ndarray:
            return np.bincount(soum[mask], minlength=n_soums).astype(np.int32)

        households = count(scope)
        region = model.region
        aimags = np.asarray(region.aimags)[region.soum_aimag]
        codes = np.asarray(region.soum_codes)
        for p in policies:
            rec = p.signal_record
            covered = scope & rec.covered
            paid = covered & (rec.paid > 0)
            row = {"year": np.full(n_soums, done["year"]),
                   "calendar_year": np.full(n_soums, done["calendar_year"]),
                   "policy": np.full(n_soums, p.name, dtype=object),
                   "soum_code": codes, "aimag": aimags,
                   "index": index, "fired": rec.fired_soums.astype(bool),
                   "households": households, "covered": count(covered), "paid": count(paid)}
            for x in LOSS_GRID:
                k = loss_key(x)
                big = covered & (loss > x)
                row[f"lost_gt_{k}"] = count(big)
                row[f"unpaid_lost_gt_{k}"] = count(big & ~paid)
                row[f"paid_lost_le_{k}"] = count(paid & (loss <= x))
            self._add(row)

    def frame(self) -> pd.DataFrame | None:
        if not self._columns:
            return None
        return pd.DataFrame({k: np.concatenate(v) for k, v in self._columns.items()})
