"""Households: Mesa agents over a columnar state.

The numbers of all households live in :class:`HouseholdState`, one numpy
array per variable and one row per household slot (Starsim's "people as a
struct of arrays"). :class:`Household` is a ``mesa.Agent`` whose attributes
are thin views onto its row, so that notebooks, Mesa's AgentSet tools and the
app can inspect households one by one while the seasonal processes work on
whole columns.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import TYPE_CHECKING

import mesa
import numpy as np

from model.species import SPECIES, to_sfu

if TYPE_CHECKING:
    from model.model import HerdtrapModel

#: Income sources tracked per household per year (kMNT).
INCOME_SOURCES = (
    "sales",  # planned and distress sales of live animals
    "cashmere",
    "dairy",
    "offfarm",  # off-farm work (herding) or wages (after exit)
    "pension",
    "transfers",  # cash from social-protection programmes
    "insurance",  # index-insurance payouts
)


@dataclass
class HouseholdState:
    """Struct of arrays: row i is household slot i. Money in kMNT."""

    soum: np.ndarray  # int, index into the region's soums
    aimag: np.ndarray  # int, index into the region's aimags
    adults: np.ndarray  # int
    children_0_5: np.ndarray  # int
    children_6_17: np.ndarray  # int
    elderly: np.ndarray  # int
    herd: np.ndarray  # int64 (N, 5) head by species
    cash: np.ndarray  # float
    debt: np.ndarray  # float
    herding: np.ndarray  # bool: still herding (False after exit)
    exit_year: np.ndarray  # int, simulated year of the last exit from herding, -1 if none
    prep: np.ndarray  # float in [0, 1], winter preparedness bought this autumn
    last_winter_loss: np.ndarray  # float, SFU-weighted mortality of the household's last winter
    meat_in_kind: np.ndarray  # float, value of own meat eaten per season (kMNT)
    loss_factor: np.ndarray  # float, multiplier on winter mortality (training lowers it)
    cashmere_factor: np.ndarray  # float, multiplier on cashmere income (training raises it)
    insured: np.ndarray  # int64 (N, 5) head insured for the coming winter
    consumption_year: np.ndarray  # float, consumption this year (kMNT), cash + in kind
    destitute_seasons: np.ndarray  # int, seasons this year with consumption below the floor
    income_year: np.ndarray  # float (N, len(INCOME_SOURCES))
    # Set by the model at initialisation (HerdtrapModel._init_economy), as they follow
    # the model's rules rather than the population draw:
    target_sfu: np.ndarray = None  # float, desired herd (SFU; model.processes.offtake)
    winter_loss_before: np.ndarray = None  # float, mortality of the winter before last
    loss_memory: np.ndarray = None  # float, remembered excess winter loss (processes.winter)
    income_seasons: np.ndarray = None  # float (N, 4), regular income of the last four seasons
    income_season: np.ndarray = None  # float, regular income of the current season so far
    pending_income: np.ndarray = None  # float, payments announced and not yet paid (kMNT)
    destitute: np.ndarray = None  # bool, consumption below the exit floor this season
    # Members and lineage (model.processes.demography). Person-level columns are
    # (N, MAX_MEMBERS) "seats"; an empty seat has age -1. The band counts above
    # (adults, children_0_5, ...) are derived from the ages by ``update_bands``.
    ages: np.ndarray = None  # int16 (N, MAX_MEMBERS), completed years, -1 = empty seat
    female: np.ndarray = None  # bool (N, MAX_MEMBERS)
    contribution_years: np.ndarray = None  # float (N, MAX_MEMBERS), social-insurance record
    alive: np.ndarray = None  # bool: the slot holds a household (False once dissolved)
    vacant: np.ndarray = None  # bool: the slot was freed by a dissolution and can be reused
    ever_herded: np.ndarray = None  # bool: herded at some time (the outputs' population)
    hid: np.ndarray = None  # int64, household id, unique over the run (slot ids are reused)
    formed_year: np.ndarray = None  # int, simulated year the household was formed (0 = initial)
    return_year: np.ndarray = None  # int, simulated year of the last return to herding, -1
    parent_hid: np.ndarray = None  # int64, id of the household it was founded from (-1: initial)
    heir: np.ndarray = None  # int, slot of the last household split from this one (-1: none)
    heir_hid: np.ndarray = None  # int64, that household's id (the slot may be reused)

    @property
    def n(self) -> int:
        return self.soum.shape[0]

    @property
    def in_scope(self) -> np.ndarray:
        """The households the outputs describe: living in the region and herding now or
        before (herder households and those that left herding). A household founded by
        a non-herder's child without animals is not one, unless it takes up herding."""
        return self.alive & self.ever_herded

    @property
    def persons(self) -> np.ndarray:
        """Members per household (read-only; kept until the bands change: ``update_bands``,
        ``clear_rows``, ``grow`` or a band column replaced)."""
        bands = (self.adults, self.children_0_5, self.children_6_17, self.elderly)
        cached = self.__dict__.get("_persons")
        if cached is None or any(a is not b for a, b in zip(cached[0], bands, strict=True)):
            persons = self.adults + self.children_0_5 + self.children_6_17 + self.elderly
            persons.flags.writeable = False
            cached = self._persons = (bands, persons)
        return cached[1]

    @property
    def herd_sfu(self) -> np.ndarray:
        """Herd size in sheep forage units (float, per household)."""
        return to_sfu(self.herd)

    @property
    def herd_head(self) -> np.ndarray:
        return self.herd.sum(axis=1)

    def copy(self) -> HouseholdState:
        return HouseholdState(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def update_bands(self, rows: np.ndarray | None = None) -> None:
        """Recount the age bands (children 0-5, 6-17, adults 18-59, elderly 60+) from the
        members' ages, for all households or the slots ``rows``."""
        a = self.ages if rows is None else self.ages[rows]
        # members at least 0, 6, 18 and 60 years old; a band is the difference
        ge0, ge6 = count_per_row(a >= 0), count_per_row(a > CHILD_MAX_AGE)
        ge18, ge60 = count_per_row(a >= ADULT_AGE), count_per_row(a >= ELDERLY_AGE)
        c05, c617, ad, el = ge0 - ge6, ge6 - ge18, ge18 - ge60, ge60
        self._persons = None
        if rows is None:
            self.children_0_5, self.children_6_17, self.adults, self.elderly = c05, c617, ad, el
        else:
            self.children_0_5[rows], self.children_6_17[rows] = c05, c617
            self.adults[rows], self.elderly[rows] = ad, el

    def clear_rows(self, rows: np.ndarray) -> None:
        """Set the slots ``rows`` to the values of a new, empty slot (see ``grow``)."""
        self._persons = None
        for name in _field_names():
            col = getattr(self, name)
            if col is not None:
                col[rows] = _GROW_FILL.get(name, 0)

    def grow(self, k: int) -> None:
        """Append ``k`` empty (not alive) household slots to every column."""
        if k <= 0:
            return
        self._persons = None
        for f in fields(self):
            col = getattr(self, f.name)
            if col is None:
                continue
            fill = _GROW_FILL.get(f.name, 0)
            pad = np.full((k, *col.shape[1:]), fill, dtype=col.dtype)
            setattr(self, f.name, np.concatenate([col, pad]))


#: Seats per household: the largest household the table holds (members beyond it are
#: not born into the household; docs/ODD.md section 7.10).
MAX_MEMBERS = 16
#: Age bands: children 0-5 (Child Money top-up), 6-17, adults 18-59, elderly 60+.
CHILD_MAX_AGE = 5
ADULT_AGE = 18
ELDERLY_AGE = 60
#: Share of girls among births (sex ratio at birth about 1.05 boys per girl, UN WPP).
FEMALE_SHARE_AT_BIRTH = 1.0 / 2.05
#: Person-level columns, (N, MAX_MEMBERS): a member who founds a household takes
#: their values along; a seat emptied by death or migration gets the fill value.
PERSON_FIELDS = ("ages", "female", "contribution_years")
#: Fill values of new, empty slots (``HouseholdState.grow``); 0 for other columns.
_GROW_FILL = {"ages": -1, "exit_year": -1, "return_year": -1, "hid": -1, "parent_hid": -1,
              "heir": -1, "heir_hid": -1, "loss_factor": 1.0, "cashmere_factor": 1.0}


@lru_cache(maxsize=1)
def _field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(HouseholdState))


def count_per_row(mask: np.ndarray) -> np.ndarray:
    """Number of True values in each row of a 2-D bool array (int64).

    For C-contiguous rows of a multiple of 8 seats (the member seats), the row's bytes
    are read as 64-bit words and their set bits counted: about 9 times faster than
    ``mask.sum(axis=1)`` for (3,000, 16)."""
    if mask.ndim == 2 and mask.shape[1] % 8 == 0 and mask.flags.c_contiguous and mask.size:
        words = mask.view(np.uint64)
        out = np.bitwise_count(words[:, 0]).astype(np.int64)
        for j in range(1, words.shape[1]):
            out += np.bitwise_count(words[:, j])
        return out
    return np.count_nonzero(mask, axis=1).astype(np.int64)


def any_per_row(mask: np.ndarray) -> np.ndarray:
    """``mask.any(axis=1)`` of a 2-D bool array, word-wise as in :func:`count_per_row`."""
    if mask.ndim == 2 and mask.shape[1] % 8 == 0 and mask.flags.c_contiguous and mask.size:
        words = mask.view(np.uint64)
        out = words[:, 0] != 0
        for j in range(1, words.shape[1]):
            out |= words[:, j] != 0
        return out
    return mask.any(axis=1)


def income_index(source: str) -> int:
    return INCOME_SOURCES.index(source)


class Household(mesa.Agent):
    """A herder household. Its numbers are a view onto ``model.households`` row ``row``."""

    def __init__(self, model: HerdtrapModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def _s(self) -> HouseholdState:
        return self.model.households

    @property
    def soum(self) -> str:
        return self.model.region.soum_names[self._s.soum[self.row]]

    @property
    def aimag(self) -> str:
        return self.model.region.aimags[self._s.aimag[self.row]]

    @property
    def herd(self) -> dict[str, int]:
        return {sp: int(n) for sp, n in zip(SPECIES, self._s.herd[self.row], strict=True)}

    @property
    def herd_sfu(self) -> float:
        return float(to_sfu(self._s.herd[self.row]))

    @property
    def cash(self) -> float:
        return float(self._s.cash[self.row])

    @property
    def debt(self) -> float:
        return float(self._s.debt[self.row])

    @property
    def members(self) -> dict[str, int]:
        s = self._s
        return {
            "adults": int(s.adults[self.row]),
            "children_0_5": int(s.children_0_5[self.row]),
            "children_6_17": int(s.children_6_17[self.row]),
            "elderly": int(s.elderly[self.row]),
        }

    @property
    def size(self) -> int:
        return sum(self.members.values())

    @property
    def herding(self) -> bool:
        return bool(self._s.herding[self.row])

    @property
    def insured(self) -> dict[str, int]:
        return {sp: int(n) for sp, n in zip(SPECIES, self._s.insured[self.row], strict=True)}

    def __repr__(self) -> str:
        status = "herding" if self.herding else "exited"
        return (
            f"Household({self.unique_id}, {self.soum}/{self.aimag}, {status}, "
            f"{self.herd_sfu:.0f} SFU, cash {self.cash:.0f} kMNT, debt {self.debt:.0f} kMNT)"
        )
