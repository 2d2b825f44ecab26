"""Livestock markets: seasonal soum prices and the post-dzud price crash.

Base prices are NSO 2021 soum monthly prices (thousand MNT per head),
aggregated per aimag and season by experiments/analysis/calibrate.py. When many
households in a soum sell animals at once to cover a shortfall (distress
sales, typically after a dzud), the soum price falls:

    price = base · season_multiplier · soum_factor · (1 + D_soum / S_soum)^(−ε)

with D the sheep units offered in distress sales and S the soum's stock (SFU).
Households then need to sell more head for the same cash: fire sales.
"""

from __future__ import annotations

import numpy as np

from model.herd import stochastic_round


def crash_factor(offered: np.ndarray, stock: np.ndarray, elasticity: float) -> np.ndarray:
    """Price multiplier per soum, (1 + offered/stock)^−ε, from the sheep units offered in
    distress sales and the stock (SFU) per soum; 1 where nothing is offered."""
    share = np.divide(offered, stock, out=np.zeros(offered.size), where=stock > 0)
    return (1.0 + share) ** (-elasticity)


def sell_share(herd: np.ndarray, share: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Head sold when a household sells ``share`` of each species (stochastic rounding)."""
    return stochastic_round(herd * share[:, None], u, cap=herd)


def herd_value(herd: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Market value of each household's herd (kMNT)."""
    return np.einsum("ij,ij->i", herd, price)

