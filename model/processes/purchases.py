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
terms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import herd as herd_process
from model.processes.consumption import buffer_target
from model.species import N_SPECIES, SFU

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
    price = model.prices()
    mix = model.target_mix[hh.aimag]  # (N, 5) SFU shares of the desired mix
    head_per_sfu = mix / SFU  # head of each species in one sheep unit of the mix
    price_per_sfu = np.einsum("ij,ij->i", head_per_sfu, price)
    gap = np.maximum(hh.target_sfu - hh.herd_sfu, 0.0) * hh.herding
    spare = np.maximum(hh.cash - buffer_target(model), 0.0)
    want = purchase_sfu(gap, spare, price_per_sfu, p["herd.purchase_share"],
                        p["market.purchase_transaction_cost"])
    stock = np.bincount(hh.soum, weights=hh.herd_sfu * hh.herding, minlength=model.n_soums)
    sold = np.bincount(hh.soum, weights=model.season_sales_sfu, minlength=model.n_soums)
    supply = sold + p["market.purchase_supply_share"] * stock
    got = ration(want, hh.soum, supply, model.n_soums)
    u = model.draw("purchases", (hh.n, N_SPECIES))
    head = herd_process.stochastic_round(got[:, None] * head_per_sfu, u)
    cost = np.einsum("ij,ij->i", head, price) * (1.0 + p["market.purchase_transaction_cost"])
    # rounding up can overshoot the budget by a fraction of one animal: round down there
    over = cost > hh.cash
    if over.any():
        head[over] = np.floor(got[over, None] * head_per_sfu[over]).astype(head.dtype)
        cost[over] = (np.einsum("ij,ij->i", head[over], price[over])
                      * (1.0 + p["market.purchase_transaction_cost"]))
    hh.herd += head
    hh.cash -= cost
    model.cash_out += cost
    model.flows["bought"] += head
    model.flows_money["purchases"] += cost
