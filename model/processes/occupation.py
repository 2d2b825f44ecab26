"""Leaving and returning to herding: a yearly decision on expected consumption (ODD §7.8).

Every spring, after the winter's losses are known, each household compares what it can
expect to consume per season in herding and out of it:

    V_in(H)  = expected regular income with herd H held at its size (income_seasons_of
               with H* = H: cashmere, dairy, planned sales net of meat, preparation and
               running costs, off-farm work with the labour the herd leaves free,
               pensions (model.policies.pensions); mean of the four seasons) plus the value of the meat it eats
               from its herd
    V_out    = w · adults / 4 + pensions + a · W,   W = cash + value of the herd - debt

with w the wage of a household that left herding and a the share of its net wealth W it
consumes per season once out of herding (``exit.wealth_annuity``). With the poverty-line
need n of the household for a season, a cost of leaving k (``exit.switching_cost``, a
share of n), a cost of returning k_r (``exit.return_cost``) and a logistic spread s (``exit.decision_spread``):

    herder:      P(leave)  = r · logistic((V_out - V_in(H) - k n) / (s n))
    non-herder:  P(return) = r · logistic((V_in(H + B) - V_out - k_r n) / (s n))

where r is ``exit.decision_rate`` and B the animals a non-herder can buy with the cash it
holds above its buffer (at the soum's price plus the purchase transaction cost, in the
aimag's desired mix), so former herders return when they get animals: by buying them,
from restocking, or by inheritance. One uniform per household slot (stream "behaviour",
key "occupation") decides, so the draw does not depend on anyone's state.

This runs next to the forced exits of :func:`model.processes.consumption.exits`
(destitute households and those whose herd is gone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import market
from model.policies.pensions import pension_per_season
from model.processes.consumption import buffer_target
from model.processes.income import income_seasons_of, offfarm_year
from model.processes.purchases import buy_rows
from model.species import SFU, to_sfu

if TYPE_CHECKING:
    from model.model import HerdtrapModel


def logistic(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def herding_value(model: HerdtrapModel, herd: np.ndarray, rows: np.ndarray | None,
                  pension: np.ndarray | None = None) -> np.ndarray:
    """V_in: expected consumption per season in herding with ``herd`` (rows'): the
    regular income of the herd held at its size (offtake at the steady rate, not the
    lower rate of a household rebuilding towards its desired herd) plus the household's
    own meat, valued at the soum's autumn price.

    The mean over the four seasons of ``income_seasons_of(model, herd, H, rows, True)``
    plus the meat, computed directly (tests/test_demography.py checks they agree).
    ``pension``: the rows' ``pension_per_season`` if already computed."""
    from model.processes import offtake

    hh, p = model.households, model.p
    r = slice(None) if rows is None else rows
    h = to_sfu(herd)
    adults = hh.adults[r]
    value = market.herd_value(herd, model.prices(2, rows))
    per_sfu = np.divide(value, h, out=np.zeros(h.size), where=h > 0)
    meat = offtake.meat_sfu(h, hh.persons[r], p)
    sales = np.maximum(offtake.offtake_rate(h, h, adults, p) * h - meat, 0.0) * per_sfu
    year = (herd[:, 1] * (p["herd.cashmere_kg_per_goat"] * p["market.cashmere_price"])
            * hh.cashmere_factor[r]
            + h * (p["income.dairy_per_sfu"] - p["herd.running_cost_per_sfu"])
            + sales - (p["prep.fixed_cost"] + p["prep.cost_per_sfu"] * h) * (h > 0)
            + offfarm_year(h, adults, True, p)
            + np.minimum(meat, h) * per_sfu)
    if pension is None:
        pension = pension_per_season(model, rows)
    return 0.25 * year + pension


def outside_income(model: HerdtrapModel, rows: np.ndarray | None,
                   wealth: np.ndarray, pension: np.ndarray | None = None) -> np.ndarray:
    """V_out: expected consumption per season out of herding (kMNT), for ``rows`` (None:
    all); ``pension`` as in :func:`herding_value`."""
    hh, p = model.households, model.p
    wage = p["income.exited_wage_per_adult"] * hh.adults[slice(None) if rows is None else rows] / 4.0
    if pension is None:
        pension = pension_per_season(model, rows)
    return wage + pension + p["exit.wealth_annuity"] * np.maximum(wealth, 0.0)


def leave_probability(model: HerdtrapModel, rows: np.ndarray | None = None) -> np.ndarray:
    """P(leave) this spring of the households ``rows`` (None: every slot) if they herd."""
    hh, p = model.households, model.p
    r = slice(None) if rows is None else rows
    herd = hh.herd[r]
    pension = pension_per_season(model, rows)  # (in both values)
    v_in = herding_value(model, herd, rows, pension)
    wealth = hh.cash[r] + market.herd_value(herd, model.prices(rows=rows)) - hh.debt[r]
    v_out = outside_income(model, rows, wealth, pension)
    n = np.maximum(model.need_per_season()[r], 1e-9)
    return p["exit.decision_rate"] * logistic(
        (v_out - v_in - p["exit.switching_cost"] * n) / (p["exit.decision_spread"] * n))


def decide(model: HerdtrapModel) -> None:
    """Spring: herders may leave, non-herders may (re)turn to herding."""
    hh, p = model.households, model.p
    u = model.draw("behaviour", hh.n, key="occupation")
    need = model.need_per_season()
    rate, spread = p["exit.decision_rate"], p["exit.decision_spread"]
    # Both probabilities are at most the decision rate (logistic <= 1), so only the
    # households whose draw is below it can move: the values are computed for those.
    may_move = u < rate
    # herders: leave?
    rows = np.flatnonzero(hh.herding & may_move)
    if rows.size:
        leave = rows[u[rows] < leave_probability(model, rows)]
        if leave.size:
            mask = np.zeros(hh.n, dtype=bool)
            mask[leave] = True
            model.leave_herding(mask)
    # non-herders: (re)turn? (not those that left herding this year)
    rows = np.flatnonzero(may_move & hh.alive & ~hh.herding & (hh.exit_year != model.year))
    if rows.size == 0:
        return
    spare = np.maximum(hh.cash[rows] - buffer_target(model)[rows], 0.0)
    head_per_sfu = model.target_mix.take(hh.aimag[rows], axis=0) / SFU
    price = model.prices(rows=rows)  # (leaving sets no price crash)
    tc = p["market.purchase_transaction_cost"]
    price_per_sfu = np.einsum("ij,ij->i", head_per_sfu, price) * (1.0 + tc)
    buy_sfu = np.divide(spare, price_per_sfu, out=np.zeros(rows.size), where=price_per_sfu > 0)
    own = hh.herd[rows]
    candidate = own + buy_sfu[:, None] * head_per_sfu
    has_any = candidate @ SFU > 0
    if not has_any.any():
        return
    rows, own, candidate = rows[has_any], own[has_any], candidate[has_any]
    buy_sfu, head_per_sfu, price = buy_sfu[has_any], head_per_sfu[has_any], price[has_any]
    pension = pension_per_season(model, rows)
    v_in = herding_value(model, candidate, rows, pension)
    wealth = hh.cash[rows] + market.herd_value(own, price) - hh.debt[rows]
    v_out = outside_income(model, rows, wealth, pension)
    n = np.maximum(need[rows], 1e-9)
    k_back = p["exit.return_cost"]
    prob = rate * logistic((v_in - v_out - k_back * n) / (spread * n))
    back = u[rows] < prob
    if not back.any():
        return
    rows, buy_sfu, head_per_sfu, price = rows[back], buy_sfu[back], head_per_sfu[back], price[back]
    u_round = model.draw_rows("purchases", rows, key="return")
    buy_rows(model, rows, buy_sfu, head_per_sfu, price, u_round, tc)
    ok = hh.herd[rows].sum(axis=1) > 0
    rows = rows[ok]
    herded_before = hh.ever_herded[rows]
    hh.herding[rows] = True
    hh.ever_herded[rows] = True
    hh.return_year[rows] = model.year
    hh.target_sfu[rows] = hh.herd_sfu[rows]
    hh.prep[rows] = p["prep.reference_share"]
    hh.income_seasons[rows] = income_seasons_of(
        model, hh.herd[rows], hh.target_sfu[rows], rows, np.ones(rows.size, dtype=bool))
    model.returns_this_year += int(herded_before.sum())
    # households founded without animals that take up herding: entries, not returns
    model.first_entries_this_year += int((~herded_before).sum())
