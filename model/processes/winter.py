"""The winter: drawn in autumn (with its pre-winter signal), its losses applied in winter.

Household mortality (ODD §7.3):

    rate_hs = min(m_soum(h),s · w_h, 0.98)
    w_h     = luck_h,t · skill_h · prep(p_h) · max(1, S/K)^θ · training_h

luck_h,t is the winter's own lognormal draw (``herd.household_mortality_sd``),
skill_h a persistent lognormal factor drawn once per household
(``herd.household_loss_persistent_sd``: winter camp, shelter, pasture and skill
differ between households and persist from one winter to the next), prep the
preparedness multiplier, S/K the soum's stocking over its carrying capacity. Both
lognormal factors have mean 1, so the soum's expected rate is the NSO rate.

After the winter each household remembers its excess loss, an exponentially weighted
average of its own winters' losses above the normal background b (λ =
``herd.loss_memory_weight``, b = ``herd.background_loss``; it starts from the aimag's
NSO losses before the first year, :func:`model.processes.offtake.initial_loss_memory`):

    M_h ← (1 − λ) · M_h + λ · max(m_h,t − b, 0)

The remembered loss sets the precautionary part of the desired herd
(:mod:`model.processes.offtake`). An insurance claim on the winter makes part of the
loss good, and only the uncompensated loss is remembered (:func:`compensate_losses`).

The results are published on the model as ``model.winter_outcome``
(:class:`WinterOutcome`) for policies and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from model import herd as herd_process
from model.climate import Winter, draw_stochastic_winter, replay_winter
from model.species import N_SPECIES, to_sfu

if TYPE_CHECKING:
    from model.model import HerdtrapModel


@dataclass(frozen=True, eq=False)
class WinterOutcome:
    """The last winter's losses, per household slot (read-only: the sheep units are
    computed once, on first use)."""

    before: np.ndarray  # (N, 5) head before the winter
    deaths: np.ndarray  # (N, 5) head lost

    @cached_property
    def before_sfu(self) -> np.ndarray:
        return to_sfu(self.before)

    @cached_property
    def deaths_sfu(self) -> np.ndarray:
        return to_sfu(self.deaths)

    @cached_property
    def loss_rate(self) -> np.ndarray:
        """SFU-weighted share of the herd lost (0 for empty herds)."""
        b = self.before_sfu
        return np.divide(self.deaths_sfu, b, out=np.zeros(b.shape), where=b > 0)


def persistent_loss_factor(z: np.ndarray, sd: float) -> np.ndarray:
    """Mean-one lognormal factor exp(sd · z − sd²/2) of standard normals ``z``."""
    return np.exp(sd * z - 0.5 * sd * sd)


def draw(model: HerdtrapModel) -> None:
    """Autumn: the coming winter is drawn; its pre-winter signal is what policies see."""
    model.winter = draw_winter(model)


def draw_winter(model: HerdtrapModel) -> Winter:
    p = model.p
    rng = model.streams.get("climate", model.step_index)
    loss_year = model.calendar_year + 1  # the winter Dec Y – Feb Y+1 is NSO loss year Y+1
    replay = None
    if model.spec.regime == "replay":
        k = model.year - 1
        if model.spec.replay_years:
            replay = model.spec.replay_years[k] if k < len(model.spec.replay_years) else None
        else:
            replay = loss_year if loss_year in model.observed_years else None
    if replay is not None:
        w = replay_winter(
            rng, model.region, model.observed, replay,
            soum_noise_sd=p["climate.soum_noise_sd"], signal_corr=p["climate.signal_corr"],
        )
    else:
        w = draw_stochastic_winter(
            rng,
            model.region,
            soum_noise_sd=p["climate.soum_noise_sd"],
            signal_corr=p["climate.signal_corr"],
            severity_shift=p["climate.severity_shift"],
            dzud_prob_scale=p["climate.dzud_prob_scale"],
            persistence_scale=p["climate.persistence_scale"],
            previous=model.climate_state,
        )
    model.climate_state = w.latent  # winters persist (model.climate)
    return w


def losses(model: HerdtrapModel) -> None:
    """Winter: each household loses animals at its soum's rate times its own factors."""
    hh, p = model.households, model.p
    assert model.winter is not None
    noise = model.draw("mortality", hh.n, kind="standard_normal")
    u = model.draw("mortality", (hh.n, N_SPECIES), key="rounding")
    luck = persistent_loss_factor(noise, p["herd.household_mortality_sd"])
    multiplier = (
        luck
        * herd_process.preparedness_multiplier(
            hh.prep, p["prep.mortality_effect"], p["prep.reference_share"]
        )
        * np.maximum(model.density(), 1.0) ** p["herd.density_exponent"]
        * hh.loss_factor
    )
    before = hh.herd.copy()
    deaths = herd_process.winter_losses(
        hh.herd, model.winter.soum_mortality.take(hh.soum, axis=0), multiplier, u
    )
    hh.herd -= deaths
    model.flows["deaths"] += deaths
    model.winter_outcome = WinterOutcome(before=before, deaths=deaths)
    hh.winter_loss_before = hh.last_winter_loss
    hh.last_winter_loss = model.winter_outcome.loss_rate
    hh.loss_memory = remember_loss(hh.loss_memory, hh.last_winter_loss,
                                   p["herd.loss_memory_weight"], p["herd.background_loss"])


def compensate_losses(model: HerdtrapModel, amount: np.ndarray) -> None:
    """Insurance claims on the winter just past (``amount``, kMNT per slot, owed or paid)
    make part of its loss good, and the household remembers only the loss left to it
    (ODD §7.3): the precautionary buffer is held against uninsured risk (Carroll 1997;
    insurance crowds out precautionary saving, Engen & Gruber 2001). With c_h the claim
    over the herd's value before the winter (winter prices),

        M_h ← M_h − λ · (max(m_h,t − b, 0) − max(m_h,t − c_h − b, 0)).

    Called once per winter, after :func:`losses`, by the policies that compensate the
    winter's losses: index insurance passes its claims times its ``loss_memory_offset``
    lever."""
    hh, p = model.households, model.p
    out = model.winter_outcome
    if out is None:
        return
    amount = np.asarray(amount, dtype=float)
    if not amount.any():
        return
    value = np.einsum("ij,ij->i", out.before, model.prices(3))
    covered = np.divide(amount, value, out=np.zeros(hh.n), where=value > 0)
    b = p["herd.background_loss"]
    gross = np.maximum(out.loss_rate - b, 0.0)
    net = np.maximum(out.loss_rate - covered - b, 0.0)
    hh.loss_memory = hh.loss_memory - p["herd.loss_memory_weight"] * (gross - net)


def remember_loss(memory: np.ndarray, loss: np.ndarray, weight: float,
                  background: float) -> np.ndarray:
    """The remembered excess loss after a winter (ODD §7.3):
    M ← (1 − λ) · M + λ · max(loss − b, 0)."""
    return (1.0 - weight) * memory + weight * np.maximum(loss - background, 0.0)
