"""The initial population of households (t = 0, year-end 2019 conditions).

* Households are spread over the region's soums in proportion to 2019 herder
  households (NSO soum_profile_2019.csv), by the largest-remainder method.
* Herd sizes (head) reproduce each aimag's 2019 herd-size classes of *herder*
  households by quota. NSO counts households with livestock by class
  (herd_size_classes_aimag_2019.csv); the herder households (herding as main
  livelihood, soum_profile_2019.csv) are fewer. ``herder_class_households``
  removes the difference, the non-herder households, from the smallest classes
  first, at most a share ``population.nonherder_max_class_share`` of any class
  (docs/ODD.md section 5). Every class then gets its share of the aimag's
  simulated households (largest remainder), uniform within bounded classes, and
  a Pareto tail above 200 head whose shape was fitted so that the aimag's total
  2019 stock is matched (see experiments/analysis/calibrate.py, docs/CALIBRATION.md).
* Species mix: multinomial with the aimag's 2019 stock shares.
* Members: adults 1 + Poisson, children and elderly Poisson; children 0-5 from
  the soum's 2019 share of under-fives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model.household import (
    ADULT_AGE,
    CHILD_MAX_AGE,
    ELDERLY_AGE,
    FEMALE_SHARE_AT_BIRTH,
    INCOME_SOURCES,
    MAX_MEMBERS,
    HouseholdState,
)
from model.region import Region
from model.species import N_SPECIES

#: Largest herd drawn from the Pareto tail (head); keeps a 1-in-10^4 draw finite.
TOP_CLASS_CAP = 6000


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to ``total``, proportional to ``weights``."""
    weights = np.asarray(weights, dtype=float)
    if total == 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(np.int64)
    rest = total - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def herder_class_households(
    owners: np.ndarray, herders: np.ndarray | float, max_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Herder households per herd-size class from the classes of livestock owners.

    ``owners`` (..., K): households with livestock per class, smallest class first;
    ``herders`` (...): herder households of the aimag. The d = max(0, sum(owners) -
    herders) non-herder households are taken from the classes bottom-up, at most
    ``max_share`` of each class::

        r_k = min(max_share * n_k, max(0, d - sum_{j<k} max_share * n_j))

    Returns ``(herders_k, removed_k)`` with herders_k = n_k - r_k. If
    ``max_share * sum(owners) < d`` every class loses ``max_share`` and the herder
    total stays above ``herders`` (calibrate notes it).
    """
    owners = np.asarray(owners, dtype=float)
    cap = float(max_share) * owners
    d = np.maximum(owners.sum(axis=-1) - np.asarray(herders, dtype=float), 0.0)
    before = np.cumsum(cap, axis=-1) - cap  # capacity of the smaller classes
    removed = np.clip(np.asarray(d)[..., None] - before, 0.0, cap)
    return owners - removed, removed


def draw_herd_sizes(
    rng: np.random.Generator,
    n: int,
    lower: np.ndarray,
    upper: np.ndarray,
    households: np.ndarray,
    pareto_alpha: float,
) -> np.ndarray:
    """Herd sizes (head) for ``n`` households matching the class shares exactly (quota).

    Bounded class k: uniform integers in [lower_k, upper_k]. Top class (upper = inf):
    Pareto with x_min = lower_k and shape ``pareto_alpha``, capped at TOP_CLASS_CAP.
    """
    quotas = largest_remainder(households, n)
    cls = np.repeat(np.arange(len(quotas)), quotas)
    rng.shuffle(cls)
    u = rng.random(n)
    lo = lower[cls].astype(float)
    hi = upper[cls].astype(float)
    bounded = np.isfinite(hi)
    sizes = np.empty(n)
    sizes[bounded] = np.floor(lo[bounded] + u[bounded] * (hi[bounded] - lo[bounded] + 1))
    tail = ~bounded
    sizes[tail] = np.minimum(
        np.floor(lo[tail] * (1.0 - u[tail]) ** (-1.0 / pareto_alpha)), TOP_CLASS_CAP
    )
    return sizes.astype(np.int64)


def initial_households(
    rng: np.random.Generator, region: Region, params: dict[str, Any], n: int
) -> HouseholdState:
    """Draw the initial household table for ``n`` households."""
    per_soum = largest_remainder(region.soum_herder_households, n)
    soum = np.repeat(np.arange(len(per_soum)), per_soum)
    aimag = region.soum_aimag[soum]

    herd = np.zeros((n, N_SPECIES), dtype=np.int64)
    herder_classes, _ = herder_class_households(
        region.herd_class_households,
        region.aimag_herder_households,
        params["population.nonherder_max_class_share"],
    )
    for a in range(len(region.aimags)):
        rows = np.flatnonzero(aimag == a)
        if rows.size == 0:
            continue
        sizes = draw_herd_sizes(
            rng,
            rows.size,
            np.asarray(region.herd_class_lower[a], dtype=float),
            np.asarray(region.herd_class_upper[a], dtype=float),
            herder_classes[a],
            float(region.top_class_pareto_alpha[a]),
        )
        shares = region.stock_2019[a] / region.stock_2019[a].sum()
        herd[rows] = rng.multinomial(sizes, shares)

    adults = 1 + rng.poisson(max(params["population.adults_mean"] - 1.0, 0.0), n)
    children_6_17 = rng.poisson(params["population.children_6_17_mean"], n)
    elderly = rng.poisson(params["population.elderly_mean"], n)
    hh_size = (
        params["population.adults_mean"]
        + params["population.children_6_17_mean"]
        + params["population.elderly_mean"]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        u5_share = np.where(
            region.soum_population > 0, region.soum_children_under5 / region.soum_population, 0.1
        )
    lam_u5 = u5_share[soum] * hh_size * params["population.children_0_5_scale"]
    children_0_5 = rng.poisson(lam_u5)

    # Cash in units of the household's buffer target (a unit exponential); the model turns
    # it into kMNT once it knows the household's expected income (HerdtrapModel._init_economy).
    cash = rng.exponential(1.0, n)
    price = region.base_price_kmnt[aimag] * region.soum_price_factor[soum, None]
    herd_value = (herd * price).sum(axis=1)
    has_loan = rng.random(n) < params["population.loan_share"]
    debt = np.where(has_loan, params["population.initial_debt_to_herd_value"] * herd_value, 0.0)

    return HouseholdState(
        soum=soum,
        aimag=aimag,
        adults=adults.astype(np.int64),
        children_0_5=children_0_5.astype(np.int64),
        children_6_17=children_6_17.astype(np.int64),
        elderly=elderly.astype(np.int64),
        herd=herd,
        cash=np.asarray(cash, dtype=float),
        debt=debt,
        herding=np.ones(n, dtype=bool),
        exit_year=np.full(n, -1, dtype=np.int64),
        prep=np.full(n, params["prep.reference_share"]),
        last_winter_loss=np.zeros(n),
        meat_in_kind=np.zeros(n),
        loss_factor=np.ones(n),
        cashmere_factor=np.ones(n),
        insured=np.zeros((n, N_SPECIES), dtype=np.int64),
        consumption_year=np.zeros(n),
        destitute_seasons=np.zeros(n, dtype=np.int64),
        income_year=np.zeros((n, len(INCOME_SOURCES))),
        alive=np.ones(n, dtype=bool),
        vacant=np.zeros(n, dtype=bool),
        ever_herded=np.ones(n, dtype=bool),
        hid=np.arange(n, dtype=np.int64),
        formed_year=np.zeros(n, dtype=np.int64),
        return_year=np.full(n, -1, dtype=np.int64),
        parent_hid=np.full(n, -1, dtype=np.int64),
        heir=np.full(n, -1, dtype=np.int64),
        heir_hid=np.full(n, -1, dtype=np.int64),
    )


def initial_members(rng: np.random.Generator, hh: HouseholdState, params: dict[str, Any]) -> None:
    """Give the members of the drawn bands ages and sexes (person-level seats).

    Seats are filled adults first, then elderly, children 6-17 and children 0-5. The
    first adult (the head) is ``demography.head_age_min``-59, the second (the spouse) is
    of the other sex and a few years apart, further adults are the head's grown
    children (18 to head - 18, at most 35). Elderly are 60-80, children uniform within
    their band. One uniform per seat for the age and one for the sex (stream
    "population", key "members"), so the ages do not depend on other draws.
    """
    n = hh.n
    bands = np.stack([hh.adults, hh.elderly, hh.children_6_17, hh.children_0_5], axis=1)
    # households larger than the seats lose their youngest members (a 1-in-10^6 event)
    room = MAX_MEMBERS - np.cumsum(bands, axis=1) + bands
    bands = np.minimum(bands, np.maximum(room, 0))
    ends = np.cumsum(bands, axis=1)  # (N, 4) seat index where each band ends
    seat = np.arange(MAX_MEMBERS)[None, :]
    band = (seat >= ends[:, [0]]).astype(int) + (seat >= ends[:, [1]]) + (seat >= ends[:, [2]])
    occupied = seat < ends[:, [3]]
    u = rng.random((n, MAX_MEMBERS))
    v = rng.random((n, MAX_MEMBERS))
    head_min = params["demography.head_age_min"]
    head = head_min + np.floor(u[:, 0] * (ELDERLY_AGE - head_min))
    spouse = np.clip(head + np.floor(u[:, 1] * 9.0) - 5.0, ADULT_AGE, ELDERLY_AGE - 1)
    grown_max = np.clip(head - ADULT_AGE, ADULT_AGE, 35)
    grown = ADULT_AGE + np.floor(u * (grown_max[:, None] - ADULT_AGE + 1))
    adult_age = np.where(seat == 0, head[:, None], np.where(seat == 1, spouse[:, None], grown))
    ages = np.select(
        [band == 0, band == 1, band == 2],
        [adult_age, ELDERLY_AGE + np.floor(u * 21.0), CHILD_MAX_AGE + 1 + np.floor(u * 12.0)],
        np.floor(u * (CHILD_MAX_AGE + 1)),
    )
    female = v < FEMALE_SHARE_AT_BIRTH
    # the spouse is of the head's other sex
    female[:, 1] = ~female[:, 0]
    hh.ages = np.where(occupied, ages, -1).astype(np.int16)
    hh.female = female & occupied
    hh.contribution_years = np.zeros((n, MAX_MEMBERS))
    hh.update_bands()
