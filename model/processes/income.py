"""Income from the herd and from labour (ODD §7.5), and expected income (§7.7).

Cashmere is combed in spring, dairy is earned in summer, off-farm work and
pensions arrive every season. Pensions are paid by the scenario's pension programmes
(policies ``social_insurance`` and ``social_pension``) by the one rule of
:mod:`model.policies.pensions`, which every expected-income function here uses too. Every income is added through
``model.add_income`` so that the household's yearly accounts, its cash and the
record of *regular* income (what a household expects to earn again, see
:func:`expected_income`) stay in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import market
from model.household import income_index
from model.policies.pensions import pay_pensions, pension_per_season
from model.species import to_sfu

if TYPE_CHECKING:
    from model.model import HerdtrapModel

I_SALES = income_index("sales")
I_CASHMERE = income_index("cashmere")
I_DAIRY = income_index("dairy")
I_OFFFARM = income_index("offfarm")


def free_labour_share(herd_sfu: np.ndarray, adults: np.ndarray, sfu_per_adult: float) -> np.ndarray:
    """Share of adult time not needed for the herd: 1 / (1 + H / (L · adults))."""
    return 1.0 / (1.0 + herd_sfu / (sfu_per_adult * np.maximum(adults, 1)))


def offfarm_year(herd_sfu: np.ndarray, adults: np.ndarray, herding: np.ndarray,
                 p: dict) -> np.ndarray:
    """Yearly off-farm income (kMNT): free labour × wage while herding, wages after exit."""
    free = free_labour_share(herd_sfu, adults, p["labour.herd_sfu_per_adult"])
    per_adult = np.where(herding, p["income.offfarm_per_adult"] * free,
                         p["income.exited_wage_per_adult"])
    return per_adult * adults


def expected_income(income_seasons: np.ndarray) -> np.ndarray:
    """Expected regular cash income per season: the mean of the last four seasons.

    ``income_seasons`` is (N, 4), the regular income of each season of the last year
    (sales, cashmere, dairy, off-farm, pensions and regular transfers; not distress
    sales, insurance payouts or loans).
    """
    s = income_seasons  # ((s0 + s1) + s2) + s3: the order of sum(axis=1), 10x faster
    return (((s[:, 0] + s[:, 1]) + s[:, 2]) + s[:, 3]) * 0.25


def initial_income_seasons(model: HerdtrapModel) -> np.ndarray:
    """(N, 4) regular income per season a household expects at t = 0 (kMNT).

    The herd's income at the model's rules: cashmere (spring), dairy (summer), the
    planned autumn sales (offtake less winter meat, at autumn prices) less the winter
    preparation, off-farm work and pensions spread over the seasons, less the herd's
    running costs.
    """
    hh = model.households
    return income_seasons_of(model, hh.herd, hh.target_sfu, None, hh.herding)


def income_seasons_of(model: HerdtrapModel, herd: np.ndarray, target_sfu: np.ndarray,
                      rows: np.ndarray | None, herding: np.ndarray) -> np.ndarray:
    """(len(rows), 4) regular income per season of households ``rows`` (None: all) if
    they held ``herd`` (their rows, (k, 5) head) with desired herd ``target_sfu`` and the
    herding status ``herding`` (see :func:`initial_income_seasons`)."""
    from model.processes import offtake  # the offtake rule gives the planned sales

    hh, p = model.households, model.p
    r = slice(None) if rows is None else rows
    adults, persons = hh.adults[r], hh.persons[r]
    h = to_sfu(herd)
    k = h.shape[0]
    out = np.zeros((k, 4))
    out[:, 0] = (herd[:, 1] * p["herd.cashmere_kg_per_goat"] * p["market.cashmere_price"]
                 * hh.cashmere_factor[r])
    out[:, 1] = h * p["income.dairy_per_sfu"]
    autumn = model.prices(2, rows)
    value = market.herd_value(herd, autumn)
    per_sfu = np.divide(value, h, out=np.zeros(k), where=h > 0)
    rate = offtake.offtake_rate(h, target_sfu, adults, p)
    meat = offtake.meat_sfu(h, persons, p)
    out[:, 2] = np.maximum(rate * h - meat, 0.0) * per_sfu
    out[:, 2] -= (p["prep.fixed_cost"] + p["prep.cost_per_sfu"] * h) * (h > 0)  # preparation
    out -= p["herd.running_cost_per_sfu"] * h[:, None] / 4.0
    out += (offfarm_year(h, adults, herding, p) / 4.0 + pension_per_season(model, rows))[:, None]
    return out


def cashmere_income(model: HerdtrapModel) -> np.ndarray:
    hh, p = model.households, model.p
    return (hh.herd[:, 1] * p["herd.cashmere_kg_per_goat"] * p["market.cashmere_price"]
            * hh.cashmere_factor)


def cashmere(model: HerdtrapModel) -> None:
    """Spring: cashmere combed and sold."""
    model.add_income(I_CASHMERE, cashmere_income(model))


def dairy(model: HerdtrapModel) -> None:
    """Summer: milk and dairy products, valued per sheep unit."""
    model.add_income(I_DAIRY, model.herd_sfu() * model.p["income.dairy_per_sfu"])


def herding_costs(model: HerdtrapModel) -> None:
    """Every season: the herd's running costs (veterinary care, fuel and transport, salt,
    hired help, livestock tax), c · H / 4, paid from cash; a regular cost."""
    hh, p = model.households, model.p
    cost = np.minimum(p["herd.running_cost_per_sfu"] * model.herd_sfu() / 4.0,
                      np.maximum(hh.cash, 0.0))
    cost = cost * hh.herding
    hh.cash -= cost
    hh.income_season -= cost
    model.cash_out += cost
    model.flows_money["running_costs"] += cost


def offfarm_and_pensions(model: HerdtrapModel) -> None:
    """Every season: off-farm work with the labour the herd leaves free, and the pensions
    of the pension programmes in force (``pensions.pay_pensions``: income source
    "pension", paid through the programmes' ledgers)."""
    hh, p = model.households, model.p
    model.add_income(I_OFFFARM, offfarm_year(model.herd_sfu(), hh.adults, hh.herding, p) / 4.0)
    pay_pensions(model)
