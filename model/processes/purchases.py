"""Animal purchases: cash becomes herds (ODD §7.7a).

A herding household below its desired herd H* spends a share ψ of its cash above
its buffer on animals, bought in the aimag's desired species mix at the soum's
current price plus a transaction cost τ:

    want_h   = min(H*_h − H_h, ψ · (X_h − B_h)⁺ / ((1 + τ) · p_h))     (SFU)
    supply_s = sold_s + ω · stock_s                                      (SFU, soum s)
    bought_h = want_h · min(1, supply_s / Σ_{h in s} want_h)

p_h is the price of one sheep unit in the desired mix at the soum's price this
season (including a post-dzud crash, which makes restocking cheap for those with
cash), sold_s the sheep units the soum's simulated households sold this season and
ω (``market.purchase_supply_share``) what herders outside the simulated sample and
traders offer per season, as a share of the soum's stock. So transfers, insurance
payouts and savings can become animals, and restocking competes with cash on equal
terms. Head are rounded stochastically with one uniform per household slot (stream
"purchases"), shared by the five species.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import herd as herd_process
from model.processes.consumption import buffer_target
from model.species import SFU

if TYPE_CHECKING:
    from model.model import HerdtrapModel


def purchase_sfu(gap_sfu: np.ndarray, spare_cash: np.ndarray, price_per_sfu: np.ndarray,
                 share: float, transaction_cost: float) -> np.ndarray:
    """Sheep units a household wants to buy: min(gap, ψ · spare / ((1 + τ) p))."""
    affordable = np.divide(share * spare_cash, (1.0 + transaction_cost) * price_per_sfu,
                           out=np.zeros_like(spare_cash), where=price_per_sfu > 0)
    return np.clip(np.minimum(gap_sfu, affordable), 0.0, None)


def ration(want: np.ndarray, soum: np.ndarray, supply: np.ndarray, n_soums: int) -> np.ndarray:
    """Scale each soum's demand down to its supply, pro rata."""
    demand = np.bincount(soum, weights=want, minlength=n_soums)
    factor = np.minimum(1.0, np.divide(supply, demand, out=np.ones(n_soums), where=demand > 0))
    return want * factor[soum]


def buy_animals(model: HerdtrapModel) -> None:
    hh, p = model.households, model.p
    herd_sfu = hh.herd_sfu
    gap = np.maximum(hh.target_sfu - herd_sfu, 0.0) * hh.herding
    spare = np.maximum(hh.cash - buffer_target(model), 0.0)
    rows = np.flatnonzero(gap * spare > 0)
    if rows.size == 0:
        return  # nobody below the desired herd has spare cash: nothing to buy or draw
    # One uniform per household slot (drawn for every slot: common random numbers), used
    # to round all five species of its purchase.
    u = model.draw_rows("purchases", rows)
    price = model.prices(rows=rows)
    head_per_sfu = model.target_mix.take(hh.aimag[rows], axis=0) / SFU  # head in one SFU of the mix
    price_per_sfu = np.einsum("ij,ij->i", head_per_sfu, price)
    tc = p["market.purchase_transaction_cost"]
    want = purchase_sfu(gap[rows], spare[rows], price_per_sfu, p["herd.purchase_share"], tc)
    if p["market.purchase_rationing"]:
        stock = np.bincount(hh.soum, weights=herd_sfu * hh.herding, minlength=model.n_soums)
        sold = np.bincount(hh.soum, weights=model.season_sales_sfu, minlength=model.n_soums)
        supply = sold + p["market.purchase_supply_share"] * stock
        want = ration(want, hh.soum[rows], supply, model.n_soums)
    buy_rows(model, rows, want, head_per_sfu, price, u, tc)


def buy_rows(model: HerdtrapModel, rows: np.ndarray, want: np.ndarray,
             head_per_sfu: np.ndarray, price: np.ndarray, u: np.ndarray, tc: float) -> None:
    """Households ``rows`` buy ``want`` SFU each in the mix ``head_per_sfu`` (head per SFU)
    at ``price`` (head) plus the transaction cost ``tc``; head are rounded stochastically
    with one uniform ``u`` per household, shared by its species."""
    hh = model.households
    head = herd_process.stochastic_round(want[:, None] * head_per_sfu, u[:, None])
    cost = np.einsum("ij,ij->i", head, price) * (1.0 + tc)
    # rounding up can overshoot the budget by a fraction of one animal: round down there
    over = cost > hh.cash[rows]
    if over.any():
        head[over] = np.floor(want[over, None] * head_per_sfu[over]).astype(head.dtype)
        cost[over] = np.einsum("ij,ij->i", head[over], price[over]) * (1.0 + tc)
    hh.herd[rows] += head
    hh.cash[rows] -= cost
    model.cash_out[rows] += cost
    model.flows["bought"][rows] += head
    model.flows_money["purchases"][rows] += cost
