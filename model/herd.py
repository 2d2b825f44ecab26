"""Herd demography: births in spring and losses in winter (vectorised).

Counts are integers. An expected count x becomes ``floor(x + u)`` with a
uniform ``u`` drawn per household slot and species (unbiased stochastic
rounding), so every process consumes the same random numbers whatever the
state — the basis of common random numbers.
"""

from __future__ import annotations

import numpy as np


def stochastic_round(expected: np.ndarray, u: np.ndarray, cap: np.ndarray | None = None) -> np.ndarray:
    """floor(expected + u), clipped to [0, cap]; E[result] = expected when within bounds."""
    x = expected + u
    out = np.floor(x, out=x).astype(np.int64)
    np.maximum(out, 0, out=out)
    if cap is not None:
        np.minimum(out, cap, out=out)
    return out


def births(
    herd: np.ndarray,
    birth_rate: np.ndarray,
    *,
    female_share: float,
    young_survival: float,
    winter_penalty: float,
    last_winter_loss: np.ndarray,
    density: np.ndarray,
    u: np.ndarray,
    loss_before: np.ndarray | None = None,
    carryover: float = 0.0,
) -> np.ndarray:
    """Surviving newborns per household and species (spring).

    births_hs = herd_hs · f · b_s · y · max(0, 1 − π · (m_h,t + ρ · m_h,t−1)) · d_h

    with f the breeding-female share, b_s the species birth rate (births per
    breeding female per year, NSO 2019), y young survival, π the winter
    penalty, m_h,t the household's last-winter mortality rate (SFU-weighted),
    m_h,t−1 that of the winter before (``loss_before``; ρ = ``carryover``: females
    weakened by a hard winter conceive less in the autumn after it, so the winter's
    penalty reaches the births of the spring after next) and d_h = min(1, (K/S)^θ) the
    soum's density factor.
    """
    loss = last_winter_loss if loss_before is None else last_winter_loss + carryover * loss_before
    condition = np.clip(1.0 - winter_penalty * loss, 0.0, 1.0) * density
    expected = herd * (female_share * young_survival * birth_rate) * condition[:, None]
    return stochastic_round(expected, u)


def winter_losses(
    herd: np.ndarray,
    soum_rate: np.ndarray,
    multiplier: np.ndarray,
    u: np.ndarray,
    max_rate: float = 0.98,
) -> np.ndarray:
    """Adult deaths per household and species over the winter.

    rate_hs = min(m_soum(h),s · w_h, max_rate), deaths = round(herd_hs · rate_hs)

    ``soum_rate`` is the (N, 5) soum mortality of each household's soum;
    ``multiplier`` w_h combines preparedness, density, training and the
    household's own luck (see HerdtrapModel._winter).
    """
    rate = np.minimum(soum_rate * multiplier[:, None], max_rate)
    return stochastic_round(herd * rate, u, cap=herd)


def preparedness_multiplier(prep: np.ndarray, effect: float, reference: float) -> np.ndarray:
    """Mortality multiplier of winter preparedness, 1 at the reference level.

    w = (1 + κ (1 − p)) / (1 + κ (1 − p_ref)): an unprepared household (p = 0)
    loses (1 + κ) times what a fully prepared one loses.
    """
    return (1.0 + effect * (1.0 - prep)) / (1.0 + effect * (1.0 - reference))


def mix_weights(stock_sfu: np.ndarray, target_mix: np.ndarray, elasticity: float,
                bounds: tuple[float, float] = (0.05, 20.0)) -> np.ndarray:
    """Offtake weight per region and species: (current SFU share / desired share)^κ.

    ``stock_sfu`` is (regions, 5) sheep units held now, ``target_mix`` the (regions, 5)
    desired SFU shares. A species the region's herds hold above the desired mix is sold
    more readily, one below it is kept (goats after the cashmere boom). κ = 0 sells
    all species alike. The ratio is clipped to ``bounds`` so that a species that has
    almost vanished (or was absent from the desired mix) cannot give infinite weights.
    """
    total = stock_sfu.sum(axis=1, keepdims=True)
    current = np.divide(stock_sfu, total, out=np.zeros_like(stock_sfu, dtype=float),
                        where=total > 0)
    ratio = np.divide(current, target_mix, out=np.ones_like(current), where=target_mix > 0)
    ratio = np.where((target_mix <= 0) & (current > 0), bounds[1], ratio)
    ratio = np.where(current > 0, ratio, 1.0)
    return np.clip(ratio, *bounds) ** elasticity


def allocate(herd: np.ndarray, weight: np.ndarray, sfu_amount: np.ndarray,
             sfu: np.ndarray) -> np.ndarray:
    """Head-share of each species taken when ``sfu_amount`` sheep units are taken.

    share_hs = q_h · w_hs with q_h such that Σ_s sfu_s · share_hs · herd_hs = amount_h:
    species are taken in proportion to head held times weight. Returns (N, S) shares
    (not capped; callers cap them).
    """
    held = np.einsum("ij,ij->i", np.asarray(herd, dtype=float), weight * sfu)
    q = np.divide(sfu_amount, held, out=np.zeros(len(held)), where=held > 0)
    return q[:, None] * weight
