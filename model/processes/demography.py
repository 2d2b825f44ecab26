"""Demography (ODD §7.9): members age, are born and die; young adults leave or found
households of their own; households dissolve when no one of working age is left.

Once a year, at the start of spring, for every member seat of every household:

1. **Deaths.** A member aged x dies with probability q(x, sex): q(0) is the infant
   mortality rate; above, the Gompertz-Makeham hazard mu(x) = lambda + alpha_s e^(beta x),
   q = 1 - e^(-mu), with alpha_s solved so that life expectancy at birth equals the
   parameter of sex s (:func:`gompertz_alpha`).
2. **Ageing.** Everyone alive is a year older.
3. **Births.** A woman aged 15-49 gives birth with probability TFR x w_g / 5, w_g the
   share of the total fertility rate in her five-year age group. The baby takes the
   household's first empty seat (none left: no birth, counted).
4. **Leaving the parental household.** Members aged 15-34 living with a parent
   generation (someone at least 18 years older) migrate out of the region with the
   yearly probability ``demography.outmigration_rate``.
5. **New households.** A member aged 20-34 living with a parent generation founds a
   household with a spouse from outside with the yearly probability
   ``demography.household_formation_rate`` (at most one a household a year). The new
   household takes a share ``demography.split_herd_share`` of each species of the
   parent's herd (inheritance and marriage gifts). Without animals it does not herd
   (it lives on wages in the soum centre, like households that left herding).
6. **Dissolution.** A household with no member aged 15 or more dissolves: its children
   leave the table (fostered outside it), its estate (herd, cash, debt) passes to the
   last household founded from it if that household still exists, else the herd and
   cash leave the region and the debt is written off.

Every draw depends only on the members' ages and sexes and the stream "demography"
(one uniform per member at risk, in seat order), never on herds, cash or policies, so the household table grows
identically in every scenario of a replicate and new households get the same slots:
common random numbers hold for households formed during the run too. Slots freed by
dissolution are reused (lowest first), otherwise the table grows.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from model.herd import stochastic_round
from model.household import (
    _GROW_FILL,
    ADULT_AGE,
    FEMALE_SHARE_AT_BIRTH,
    MAX_MEMBERS,
    PERSON_FIELDS,
    any_per_row,
)

if TYPE_CHECKING:
    from model.model import HerdtrapModel

#: Shares of the total fertility rate by five-year age group of the mother,
#: 15-19 ... 45-49 (the shape of Mongolia's age-specific fertility; see parameters.toml
#: demography.total_fertility_rate).
FERTILITY_SHAPE = np.array([0.045, 0.235, 0.285, 0.235, 0.142, 0.050, 0.008])
FERTILITY_SHAPE = FERTILITY_SHAPE / FERTILITY_SHAPE.sum()
MAX_AGE = 110
#: Ages at which members may leave the parental household (out-migration) or found one.
LEAVE_AGES = (15, 34)
FOUND_AGES = (20, 34)
#: Seat index = row * MAX_MEMBERS + seat: a row is the seat index shifted right.
SEAT_SHIFT = MAX_MEMBERS.bit_length() - 1
if MAX_MEMBERS != 1 << SEAT_SHIFT:  # (seat arithmetic by shifts)
    raise ImportError("MAX_MEMBERS must be a power of 2")
#: When the table must grow, it grows by at least this share of its slots.
GROWTH_CHUNK = 0.04
#: ... and by at least this many slots (fewer copies for small tables). Results do not
#: depend on either (tests/test_demography.py): slots are filled lowest first, and every
#: per-slot draw of a slot is the same whatever the table's size.
MIN_GROWTH_SLOTS = 256
#: A household dissolves when no member is this old.
WORKING_AGE = 15


def gompertz_q(ages: np.ndarray, alpha: float, beta: float, makeham: float,
               infant: float) -> np.ndarray:
    """Yearly death probability at completed age ``ages`` (array)."""
    mu = makeham + alpha * np.exp(beta * ages)
    q = 1.0 - np.exp(-mu)
    return np.where(ages == 0, infant, q)


def life_expectancy(alpha: float, beta: float, makeham: float, infant: float) -> float:
    """Life expectancy at birth of the life table (deaths mid-year)."""
    q = gompertz_q(np.arange(MAX_AGE + 1, dtype=float), alpha, beta, makeham, infant)
    q[-1] = 1.0
    survivors = np.concatenate([[1.0], np.cumprod(1.0 - q)[:-1]])
    return float((survivors * (1.0 - 0.5 * q)).sum())


@lru_cache(maxsize=64)
def gompertz_alpha(e0: float, beta: float, makeham: float, infant: float) -> float:
    """The Gompertz level alpha that gives life expectancy ``e0`` (bisection on log alpha)."""
    lo, hi = -25.0, 0.0
    if life_expectancy(np.exp(lo), beta, makeham, infant) < e0:
        raise ValueError(f"life expectancy {e0} cannot be reached with makeham {makeham}, "
                         f"infant mortality {infant}")
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if life_expectancy(np.exp(mid), beta, makeham, infant) > e0:
            lo = mid
        else:
            hi = mid
    return float(np.exp(0.5 * (lo + hi)))


def death_probabilities(p: dict) -> tuple[np.ndarray, np.ndarray]:
    """q by completed age 0..MAX_AGE for men and women under the parameters ``p``."""
    beta, lam, infant = (p["demography.gompertz_slope"], p["demography.background_mortality"],
                         p["demography.infant_mortality"])
    ages = np.arange(MAX_AGE + 1, dtype=float)
    out = []
    for e0 in (p["demography.life_expectancy_male"], p["demography.life_expectancy_female"]):
        q = gompertz_q(ages, gompertz_alpha(float(e0), beta, lam, infant), beta, lam, infant)
        q[-1] = 1.0
        out.append(q)
    return out[0], out[1]


def death_table(model: HerdtrapModel) -> np.ndarray:
    """q of men (ages 0..MAX_AGE) followed by q of women, indexed by
    ``female * (MAX_AGE + 1) + age`` (computed once per model)."""
    cached = getattr(model, "_death_table", None)
    if cached is None:
        cached = model._death_table = np.concatenate(death_probabilities(model.p))
    return cached


def fertility_table(model: HerdtrapModel) -> np.ndarray:
    """:func:`fertility_by_age` of the model's fertility rate (computed once per model)."""
    cached = getattr(model, "_fertility_table", None)
    if cached is None:
        cached = model._fertility_table = fertility_by_age(
            model.p["demography.total_fertility_rate"])
    return cached


def fertility_by_age(tfr: float) -> np.ndarray:
    """Yearly birth probability of a woman by completed age 0..MAX_AGE."""
    f = np.zeros(MAX_AGE + 1)
    f[15:50] = np.repeat(tfr * FERTILITY_SHAPE / 5.0, 5)
    return np.minimum(f, 1.0)


def _parent_generation(seats: np.ndarray, ages: np.ndarray, n: int) -> np.ndarray:
    """True for the members (flat seat indices ``seats`` of a table of ``n`` households,
    their ``ages``) who live with someone at least 18 years older."""
    row = seats >> SEAT_SHIFT
    oldest = np.full(n, -1, dtype=ages.dtype)
    np.maximum.at(oldest, row, ages)
    return oldest[row] >= ages + ADULT_AGE


def yearly(model: HerdtrapModel) -> None:
    """The year's demography (runs in spring of every year)."""
    hh, p = model.households, model.p
    # Every event depends only on ages, sexes and this generator, never on herds, cash or
    # policies: the numbers drawn (one per member at risk, in seat order) and so the
    # whole demography are the same in every scenario of a replicate.
    rng = model.streams.get("demography", model.step_index)
    stats = model.demography_year = {k: 0 for k in (
        "persons_born", "persons_died", "persons_outmigrated", "households_formed",
        "households_formed_herding", "households_formed_nonherding", "households_dissolved",
        "births_without_seat")}

    ages, female = hh.ages, hh.female
    # The occupied seats in seat order, with their ages and sexes: steps 1-5 work on
    # this list (about a quarter of the seats) rather than on the whole seat matrix.
    occ = np.flatnonzero(ages.ravel() >= 0)
    a = ages.ravel()[occ]
    fem = female.ravel()[occ]
    # 1. deaths
    q = death_table(model)[fem * (MAX_AGE + 1) + np.minimum(a, MAX_AGE)]
    died = rng.random(occ.size) < q
    dead = occ[died]
    stats["persons_died"] = int(dead.size)
    _clear_seats(hh, dead)
    # 2. ageing
    ages += ages >= 0  # (an add of the mask: faster than indexing with it)
    keep = ~died
    occ, a, fem = occ[keep], a[keep] + 1, fem[keep]
    # 3. births
    fertile = fem & (a >= 15) & (a < 50)
    women = occ[fertile]
    mothers = women[rng.random(women.size) < fertility_table(model)[a[fertile]]]
    if mothers.size:
        rows, first = _runs(mothers >> SEAT_SHIFT)
        births = np.diff(np.append(first, mothers.size))
        empty = ages[rows] < 0
        rank = np.cumsum(empty, axis=1)
        r, c = np.nonzero(empty & (rank <= births[:, None]))
        baby = rows[r] * MAX_MEMBERS + c
        stats["births_without_seat"] = int(mothers.size - baby.size)
        np.put(ages, baby, 0)
        np.put(female, baby, rng.random(baby.size) < FEMALE_SHARE_AT_BIRTH)
        stats["persons_born"] = int(baby.size)
    # 4. out-migration of young people living with their parents. (The mask serves step 5
    # too: a founder is at least 20, so their parent generation is 38 or older and never
    # among the out-migrants.) Babies are not in the list: they are neither young adults
    # nor the oldest member of a household (their mother is older).
    with_parents = _parent_generation(occ, a, hh.n)
    young = with_parents & (a >= LEAVE_AGES[0]) & (a <= LEAVE_AGES[1])
    at_risk = np.flatnonzero(young)
    left = at_risk[rng.random(at_risk.size) < p["demography.outmigration_rate"]]
    leaves = occ[left]
    stats["persons_outmigrated"] = int(leaves.size)
    _clear_seats(hh, leaves)
    # 5. new households: at most one founder per household, the first seat that draws it
    may_found = with_parents & (a >= FOUND_AGES[0]) & (a <= FOUND_AGES[1])
    may_found[left] = False  # (the out-migrants are gone)
    can = occ[may_found & hh.alive[occ >> SEAT_SHIFT]]
    founds = can[rng.random(can.size) < p["demography.household_formation_rate"]]
    parents, first = _runs(founds >> SEAT_SHIFT)
    seat = founds[first] % MAX_MEMBERS
    # 6. dissolution: no member of working age left
    dissolved = np.flatnonzero(hh.alive & ~any_per_row(ages >= WORKING_AGE))
    if parents.size:
        founder = {f: getattr(hh, f)[parents, seat].copy() for f in PERSON_FIELDS}
        f_age = founder["ages"].astype(np.int64)
        _clear_seats(hh, parents * MAX_MEMBERS + seat)
        spouse_age = np.maximum(f_age + np.floor(rng.random(parents.size) * 7.0) - 3, ADULT_AGE)
        share = p["demography.split_herd_share"]
        u_herd = rng.random((parents.size, hh.herd.shape[1]))
        give = np.minimum(stochastic_round(hh.herd[parents] * share, u_herd), hh.herd[parents])
        _found_households(model, parents, founder, spouse_age, give, stats)
    if dissolved.size:
        _dissolve(model, dissolved, stats)
    model.households.update_bands()


def _runs(sorted_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted array and the index of the first of each
    (``np.unique(..., return_index=True)`` for sorted input, without its sort)."""
    if sorted_rows.size == 0:
        return sorted_rows, np.zeros(0, dtype=np.intp)
    first = np.flatnonzero(np.concatenate(([True], sorted_rows[1:] != sorted_rows[:-1])))
    return sorted_rows[first], first


def _clear_seats(hh, flat: np.ndarray) -> None:
    """Empty the member seats ``flat`` (indices into the raveled (N, MAX_MEMBERS) columns)."""
    for f in PERSON_FIELDS:
        np.put(getattr(hh, f), flat, _GROW_FILL.get(f, 0))


def _found_households(model: HerdtrapModel, parents: np.ndarray, founder: dict,
                      spouse_age: np.ndarray, give: np.ndarray, stats: dict[str, int]) -> None:
    """Put the new households into free slots (then new ones) and give them their herd."""
    hh = model.households
    k = parents.size
    free = np.flatnonzero(hh.vacant)[:k]
    extra = k - free.size
    n_before = hh.n
    if extra > 0:
        # grow by a few percent at a time (fewer copies of every column); the slots not
        # needed now wait as vacant slots
        chunk = max(extra, int(np.ceil(GROWTH_CHUNK * n_before)), MIN_GROWTH_SLOTS)
        model.grow(chunk)
        hh = model.households
        hh.vacant[n_before + extra:] = True
    rows = np.concatenate([free, np.arange(n_before, n_before + extra)])
    model.reset_slots(rows)
    # a herding parent's share sets up a herding household; the few animals kept by a
    # household that left herding stay animals kept with relatives
    herding = (give.sum(axis=1) > 0) & hh.herding[parents]
    hh.vacant[rows] = False
    hh.alive[rows] = True
    hh.herding[rows] = herding
    hh.ever_herded[rows] = herding
    hh.soum[rows] = hh.soum[parents]
    hh.aimag[rows] = hh.aimag[parents]
    for f in PERSON_FIELDS:  # the founder takes their record along (seat 0)
        getattr(hh, f)[rows, 0] = founder[f]
    hh.ages[rows, 1] = spouse_age  # the spouse, from outside the table
    hh.female[rows, 1] = ~founder["female"]
    hh.herd[parents] -= give
    hh.herd[rows] = give
    # the animals given were weakened by the same winters, and the founder remembers them
    for f in ("last_winter_loss", "winter_loss_before", "loss_memory"):
        getattr(hh, f)[rows] = getattr(hh, f)[parents]
    model.flows["split"][parents] -= give
    model.flows["split"][rows] += give
    hh.hid[rows] = model.next_hid + np.arange(k)
    model.next_hid += k
    hh.formed_year[rows] = model.year
    hh.parent_hid[rows] = hh.hid[parents]
    hh.heir[parents] = rows
    hh.heir_hid[parents] = hh.hid[rows]
    hh.update_bands(rows)
    model.init_household_economy(rows)
    stats["households_formed"] = int(k)
    stats["households_formed_herding"] = int(herding.sum())
    stats["households_formed_nonherding"] = int(k - herding.sum())
    model.register_new_households(rows)


def _dissolve(model: HerdtrapModel, rows: np.ndarray, stats: dict[str, int]) -> None:
    """Households without members of working age: the estate goes to the heir."""
    hh = model.households
    heir = hh.heir[rows]
    ok = heir >= 0
    ok[ok] = hh.alive[heir[ok]] & (hh.hid[heir[ok]] == hh.heir_hid[rows[ok]])
    dissolving = np.zeros(hh.n, dtype=bool)
    dissolving[rows] = True
    ok[ok] = ~dissolving[heir[ok]]  # an heir dissolving this year inherits nothing
    to = heir[ok]
    herd = hh.herd[rows].copy()
    model.flows["estate"][rows] -= herd
    np.add.at(model.flows["estate"], to, herd[ok])
    np.add.at(hh.herd, to, herd[ok])
    cash, debt = hh.cash[rows].copy(), hh.debt[rows].copy()
    np.add.at(hh.cash, to, cash[ok])
    np.add.at(hh.debt, to, debt[ok])
    model.flows_money["estate_cash"][rows] -= cash
    np.add.at(model.flows_money["estate_cash"], to, cash[ok])
    model.flows_money["estate_debt"][rows] -= debt
    np.add.at(model.flows_money["estate_debt"], to, debt[ok])
    lost = ~ok
    model.ledger.add(model.year, "lenders", "defaulted", float(debt[lost].sum()))
    hh.herd[rows] = 0
    hh.cash[rows] = 0.0
    hh.debt[rows] = 0.0
    for f in PERSON_FIELDS:  # the children left are fostered outside the table
        getattr(hh, f)[rows] = _GROW_FILL.get(f, 0)
    hh.alive[rows] = False
    hh.herding[rows] = False
    hh.vacant[rows] = True
    hh.income_seasons[rows] = 0.0
    hh.pending_income[rows] = 0.0
    hh.target_sfu[rows] = 0.0
    hh.insured[rows] = 0
    hh.meat_in_kind[rows] = 0.0
    stats["households_dissolved"] = int(rows.size)
    model.remove_households(rows)

