"""The five livestock species and their sheep-unit (SFU) weights.

Order is fixed everywhere in herdtrap: every per-species column has shape
``(..., 5)`` in this order.
"""

from __future__ import annotations

import numpy as np

SPECIES: tuple[str, ...] = ("sheep", "goat", "cattle", "horse", "camel")
N_SPECIES = len(SPECIES)

# Sheep forage units per head. Source: NSO (livestock_population_national_species.csv
# README: horse 7, cattle 6, camel 5, sheep 1, goat 0.9).
SFU = np.array([1.0, 0.9, 6.0, 7.0, 5.0])

# Column names used by the NSO tables (model/data/nso, or ../shared/data/nso).
NSO_MORTALITY_COLUMNS = {
    "sheep": "Mort_sheep",
    "goat": "Mort_goat",
    "cattle": "Mort_cat",
    "horse": "Mort_hor",
    "camel": "Mort_cam",
}
NSO_POPULATION_NAMES = {
    "sheep": "Sheep",
    "goat": "Goat",
    "cattle": "Cattle",
    "horse": "Horse",
    "camel": "Camel",
}


def to_sfu(head: np.ndarray) -> np.ndarray:
    """Sheep units of head counts with species on the last axis.

    ``einsum`` rather than ``@`` for large tables: numpy's matmul of an int64 array with
    floats takes a slow generic loop (measured 14 ms vs 0.8 ms for 100,000 x 5); for a
    few thousand rows ``@`` is faster (17 vs 42 microseconds for 3,000 x 5), as einsum's
    setup dominates.
    """
    w = SFU[: head.shape[-1]]
    if head.ndim == 2 and head.shape[0] <= _MATMUL_ROWS:
        return head @ w
    return np.einsum("...j,j->...", head, w)


#: Largest table for which ``to_sfu`` uses matmul (see there).
_MATMUL_ROWS = 32768
