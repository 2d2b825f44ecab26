"""Autumn offtake: the desired herd, winter-meat slaughter and planned sales (ODD §7.6).

Asset smoothing and herd rebuilding (Carter & Lybbert 2012; after dzud,
Fernández-Giménez et al. 2012; Bertram-Hümmer & Kraehnert 2018): a household whose
herd has fallen below the herd it recently had sells less, so that it can rebuild;
the offtake rises with the herd each adult must manage (labour limit).

    H*_h,t = max((1 + κ · M_h,t) · H_h,t, (1 − δ) · H*_h,t−1)   desired herd (SFU, each autumn)
    r_h    = r0 · (1 + H_h / (L · adults_h)) · (H_h / H*_h)^η
    meat_h = m · persons_h · H_h / (H_h + K_m · persons_h)   (SFU per year)

The desired herd is the household's recent peak herd (its pre-shock herd), fading by
δ = ``herd.target_decay`` a year when it cannot be regained, or its present herd plus a
precautionary buffer, whichever is larger; it starts at the starting herd. The buffer
is a buffer stock against the losses the household expects beyond the normal ones
(Deaton 1991; Carroll 1997): M_h is the excess loss it remembers, an exponentially
weighted average of its own winters' losses above the background
(:func:`model.processes.winter.remember_loss`; perceived risk follows experienced
shocks, Malmendier & Nagel 2011), and κ = ``herd.precaution`` the buffer per unit of
it. After a dzud the remembered loss is high: herders sell less and buy
more until their herd is well above its pre-dzud size, and as the memory fades they
sell at the full rate again. r0 = ``herd.offtake_rate``, L = ``labour.offtake_sfu_per_adult``, η =
``herd.rebuild_elasticity``, m = ``consumption.meat_sfu_per_person``, K_m =
``consumption.meat_half_sfu_per_person``: a family with a small herd eats less of it
and buys food instead. Consumption smoothing bounds asset smoothing from below: a
household sells at least what it needs, with its other income and cash, to consume
the subsistence floor f·z over the coming year,

    offtake_h = min(max(r_h · H_h, meat_h + (12 f z persons_h − meat value − Y_other − X_h)⁺ / p_h),
                    0.9 · H_h),

so a small herd without other income cannot rebuild (the trap), and a cash transfer,
which raises Y_other or X, lets it keep its animals. The offtake (meat included) is
split over species by the aimag's desired mix (:func:`model.herd.allocate`,
:func:`model.herd.mix_weights`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import herd as herd_process
from model.climate import sfu_loss_series
from model.household import income_index
from model.policies.pensions import pension_per_season
from model.processes.income import cashmere_income, offfarm_year
from model.species import N_SPECIES, SFU, to_sfu

if TYPE_CHECKING:
    import pandas as pd

    from model.model import HerdtrapModel

I_TRANSFERS = income_index("transfers")
#: Largest share of a herd taken in one autumn (meat and sales together).
MAX_OFFTAKE = 0.9


def update_target(herd_sfu: np.ndarray, target_sfu: np.ndarray, decay: float,
                  buffer: np.ndarray | float = 0.0) -> np.ndarray:
    """The desired herd after this autumn: max((1 + buffer) · herd, (1 − δ) · last year's
    desired herd), with buffer = κ · M (the precautionary share)."""
    return np.maximum((1.0 + buffer) * herd_sfu, (1.0 - decay) * target_sfu)


def initial_loss_memory(observed: pd.DataFrame, aimags: list[str], start_year: int,
                        weight: float, background: float) -> np.ndarray:
    """The excess loss households remember when the run starts, per aimag: the NSO
    SFU-weighted losses above the background ``background`` of the loss years up to
    ``start_year`` (the winter before the first spring), weighted as the memory weights
    them, λ (1 − λ)^k for the loss year k years before. Winters before the NSO series
    (1992) count as normal ones: 1984-1999 had no dzud (Rao et al. 2015)."""
    out = np.zeros(len(aimags))
    series = sfu_loss_series(observed)
    for i, a in enumerate(aimags):
        years, rate = series.get(a.lower(), (np.zeros(0, dtype=int), np.zeros(0)))
        excess = np.maximum(rate - background, 0.0)
        ok = np.isfinite(excess) & (years <= start_year)
        w = weight * (1.0 - weight) ** (start_year - years[ok])
        out[i] = float(np.sum(w * excess[ok]))
    return out


def offtake_rate(herd_sfu: np.ndarray, target_sfu: np.ndarray, adults: np.ndarray,
                 p: dict) -> np.ndarray:
    """Share of the herd (SFU) taken this autumn, r_h (see the module docstring)."""
    labour = 1.0 + herd_sfu / (p["labour.offtake_sfu_per_adult"] * np.maximum(adults, 1))
    x = np.divide(herd_sfu, target_sfu, out=np.ones_like(herd_sfu), where=target_sfu > 0)
    rebuild = np.minimum(x, 1.0) ** p["herd.rebuild_elasticity"]
    return np.minimum(p["herd.offtake_rate"] * labour * rebuild, MAX_OFFTAKE)


def meat_sfu(herd_sfu: np.ndarray, persons: np.ndarray, p: dict) -> np.ndarray:
    """Winter meat slaughtered from the own herd (SFU per year)."""
    half = p["consumption.meat_half_sfu_per_person"] * np.maximum(persons, 1)
    return p["consumption.meat_sfu_per_person"] * persons * herd_sfu / (herd_sfu + half)


def other_income_year(model: HerdtrapModel) -> np.ndarray:
    """Income a household expects over the next year from all but sales (kMNT):
    cashmere, dairy, off-farm work, pensions and the transfers of the year so far."""
    hh, p = model.households, model.p
    h = hh.herd_sfu
    transfers = hh.income_year[:, I_TRANSFERS] * (4.0 / 3.0)  # spring-summer
    return (cashmere_income(model) + h * p["income.dairy_per_sfu"]
            + offfarm_year(h, hh.adults, hh.herding, p)
            + 4.0 * pension_per_season(model) + transfers)


def autumn_offtake(model: HerdtrapModel) -> None:
    """Slaughter for winter meat, then the planned sales, at autumn prices."""
    hh, p = model.households, model.p
    weight = model.offtake_weights()
    before = hh.herd.astype(float)
    herd_sfu = to_sfu(before)
    hh.target_sfu = update_target(herd_sfu, hh.target_sfu, p["herd.target_decay"],
                                  p["herd.precaution"] * hh.loss_memory)
    want = meat_sfu(herd_sfu, hh.persons, p) * hh.herding
    share = np.minimum(herd_process.allocate(before[:, :2], weight[:, :2], want, SFU[:2]), 0.5)
    u = model.draw("offtake", (hh.n, N_SPECIES), key="slaughter")
    slaughter = np.zeros_like(hh.herd)
    slaughter[:, :2] = herd_process.stochastic_round(before[:, :2] * share, u[:, :2],
                                                     cap=hh.herd[:, :2])
    hh.herd -= slaughter
    model.flows["slaughter"] += slaughter
    price = model.prices(2)
    hh.meat_in_kind = np.einsum("ij,ij->i", slaughter, price) / 4.0
    # The offtake (slaughter included) is rate x herd in sheep units. Each species' target
    # is its allocated share of the whole offtake; what was slaughtered counts towards it.
    rate = offtake_rate(herd_sfu, hh.target_sfu, hh.adults, p)
    slaughter_sfu = slaughter[:, 0] * SFU[0] + slaughter[:, 1] * SFU[1]
    # Consumption smoothing: whatever the rebuilding motive, a household sells what it
    # needs to reach the subsistence floor over the coming year.
    value = np.einsum("ij,ij->i", before, price)
    per_sfu = np.divide(value, herd_sfu, out=np.zeros(hh.n), where=herd_sfu > 0)
    need_year = p["consumption.subsistence_floor"] * 4.0 * model.need_per_season()
    short = np.maximum(need_year - 4.0 * hh.meat_in_kind - other_income_year(model) - hh.cash, 0.0)
    needed_sfu = np.divide(short, per_sfu, out=np.zeros(hh.n), where=per_sfu > 0)
    total_sfu = np.minimum(np.maximum(rate * herd_sfu, slaughter_sfu + needed_sfu),
                           MAX_OFFTAKE * herd_sfu)
    target = herd_process.allocate(before, weight, total_sfu, SFU) * before
    rest = np.maximum(target - slaughter, 0.0)
    rest_sfu = to_sfu(rest)
    planned_sfu = np.maximum(total_sfu - slaughter_sfu, 0.0)
    scale = np.divide(planned_sfu, rest_sfu, out=np.zeros(hh.n), where=rest_sfu > 0)
    expected = np.minimum(rest * scale[:, None], MAX_OFFTAKE * (before - slaughter))
    expected *= hh.herding[:, None]
    u2 = model.draw("offtake", (hh.n, N_SPECIES), key="planned")
    sold = herd_process.stochastic_round(expected, u2, cap=hh.herd)
    model.sell(sold, price)
