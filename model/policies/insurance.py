"""Index-based livestock insurance (IBLI, Mongolia; piloted 2006, national ~2012).

The index is the soum × species adult mortality rate of the winter, m_{k,s}
(``model.winter.soum_mortality``). Per insured head of species s in soum k
with sum insured SI (kMNT per head):

* base insurance product (BIP, commercial insurer)::

      payout = SI · (min(m, exhaustion) − trigger)+

* Disaster Response Product (DRP, government layer above the exhaustion
  point, paid by the treasury)::

      payout = SI · (m − exhaustion)+

* premium per insured head (paid at sale)::

      premium = SI · loading · E[(min(m, exhaustion) − trigger)+]
      household pays (1 − subsidy_share) · premium, the treasury the rest

  The expectation is taken over 2,000 winters from the calibrated dzud
  generator (fixed seed, drawn at construction, no model stream touched),
  per soum and species, with the scenario's climate parameters.

Sum insured per head = ``sum_insured_share`` × the household's market price
in the sales season. At sale a household insures ``cover_share`` of its head
of the covered species. Uptake is a fixed rate or a behavioural rule::

      logit P(buy) = logit(uptake_rate) + b_liq · (min(cash/need, 2) − 2)
                     + b_trust · 1[paid out in the last 2 years] + b_herd · ln(herd / median herd₀)

so ``uptake_rate`` is the probability of a liquid household (two seasons of
consumption need in cash) with the median initial herd and no recent payout.
Only herding households that can pay their share of the premium buy (one
uniform per household slot, stream "behaviour", key "insurance.uptake"). Payouts are
paid ``payout_lag`` seasons after the winter. Basis risk: households' own
losses deviate from the soum rate (``herd.household_mortality_sd``,
preparedness, density), so a household's loss and its payout correlate
imperfectly; the yearly metric ``basis_corr_insurance`` reports that
correlation among insured households. The claims (BIP and DRP), times
``loss_memory_offset``, count as made good in the household's remembered loss as
soon as the index triggers (:func:`model.processes.winter.compensate_losses`,
ODD 7.3): insured households keep a smaller precautionary buffer after a dzud.

Facts: trigger 6–10% [est], BIP up to 30%, DRP above 30% [World Bank ICR
P088816]; premiums ~1–5% of sum insured [est]; uptake ~10–15% of herders in
pilot aimags [est] (MODEL.md "Policies").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.climate import draw_stochastic_winter
from model.parameters import ParameterError
from model.policies import register
from model.policies.levers import policy_levers
from model.policies.programme import (
    Programme,
    SignalRecord,
    herd_sfu_per_person,
    species_mask,
    step_index,
)
from model.processes import winter as winter_process
from model.species import SFU

if TYPE_CHECKING:
    from model.model import HerdtrapModel
    from model.policies import ScenarioData

NAME = "insurance"
#: Winters drawn to price the premium, and their fixed seed.
PRICING_DRAWS = 2000
PRICING_SEED = 20_060_401


def bip_payout_rate(index: np.ndarray, trigger: float, exhaustion: float) -> np.ndarray:
    """Base product payout per unit of sum insured: (min(index, exhaustion) − trigger)+."""
    return np.clip(np.minimum(index, exhaustion) - trigger, 0.0, None)


def drp_payout_rate(index: np.ndarray, exhaustion: float) -> np.ndarray:
    """Government layer payout per unit of sum insured: (index − exhaustion)+."""
    return np.clip(index - exhaustion, 0.0, None)


def premium_rates(expected_loss: np.ndarray, loading: float,
                  subsidy_share: float) -> tuple[np.ndarray, np.ndarray]:
    """(full premium, household's share) per unit of sum insured."""
    full = np.asarray(expected_loss) * loading
    return full, full * (1.0 - subsidy_share)


_SAMPLES: dict[tuple, np.ndarray] = {}


def pricing_sample(model: HerdtrapModel) -> np.ndarray:
    """(PRICING_DRAWS, n_soums, 5) winters from the calibrated generator.

    Deterministic (own generator with a fixed seed; no model stream is touched)
    and cached per region and climate parameters.
    """
    p = model.p
    args = {
        "soum_noise_sd": p["climate.soum_noise_sd"],
        "signal_corr": p["climate.signal_corr"],
        "severity_shift": p["climate.severity_shift"],
        "dzud_prob_scale": p["climate.dzud_prob_scale"],
    }
    key = (tuple(model.region.soum_codes.tolist()), *args.values())
    sample = _SAMPLES.get(key)
    if sample is None:
        if len(_SAMPLES) >= 8:
            _SAMPLES.clear()
        rng = np.random.Generator(np.random.PCG64(PRICING_SEED))
        sample = np.array([draw_stochastic_winter(rng, model.region, **args).soum_mortality
                           for _ in range(PRICING_DRAWS)])
        _SAMPLES[key] = sample
    return sample


@register
class Insurance(Programme):
    """Index-based livestock insurance with a government disaster layer."""

    name = NAME
    slot_fill: ClassVar[dict[str, Any]] = {"last_payout_year": -99}
    not_slot: ClassVar[tuple[str, ...]] = ("covered", "expected_loss", "premium_rate",
                                           "household_rate")
    yearly_levers = frozenset({"uptake", "uptake_rate", "cover_share", "loading", "subsidy_share"})
    levers = policy_levers(NAME)

    @classmethod
    def check(cls, settings: Mapping[str, Any], data: ScenarioData, where: str) -> None:
        super().check(settings, data, where)
        if settings["trigger"] >= settings["exhaustion"]:
            raise ParameterError(f"{where}: trigger = {settings['trigger']} must be below "
                                 f"exhaustion = {settings['exhaustion']}")
        species_mask(settings["species"], f"{where}.species")

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel,
                 name: str | None = None) -> None:
        super().__init__(settings, model, name)
        s = self.settings
        if s["trigger"] >= s["exhaustion"]:
            from model.parameters import ParameterError

            raise ParameterError(
                f"{self.where}: trigger = {s['trigger']} must be below exhaustion = {s['exhaustion']}"
            )
        self.covered = species_mask(s["species"], f"{self.where}.species")
        sample = pricing_sample(model)
        #: expected base-product payout per unit of sum insured, (n_soums, 5)
        self.expected_loss = bip_payout_rate(sample, s["trigger"], s["exhaustion"]).mean(axis=0)
        self.premium_rate, self.household_rate = premium_rates(
            self.expected_loss, s["loading"], s["subsidy_share"]
        )
        n = model.households.n
        herd0 = model.households.herd_sfu
        self.reference_herd = float(np.median(herd0[herd0 > 0])) if (herd0 > 0).any() else 1.0
        self.si = np.zeros((n, 5))  # sum insured per head (kMNT), set at sale
        self.last_payout_year = np.full(n, -99)
        self._due_gov: dict[int, np.ndarray] = {}
        self.year_stats: dict[str, float] = {}
        self._reset_stats()

    def _reset_stats(self) -> None:
        self.year_stats = {"sold": 0, "premiums": 0.0, "subsidy": 0.0, "sum_insured": 0.0,
                           "bip": 0.0, "drp": 0.0, "basis_corr": float("nan"),
                           "insured_sfu": 0.0}

    # ------------------------------------------------------------ sales
    def _uptake_terms(self, model: HerdtrapModel) -> np.ndarray:
        """Behavioural rule without its intercept (log-odds per household slot)."""
        s = self.settings
        hh = model.households
        liquidity = np.minimum(hh.cash / np.maximum(model.need_per_season(), 1e-9), 2.0) - 2.0
        trusted = (model.year - self.last_payout_year) <= 2
        herd = np.log(np.maximum(hh.herd_sfu, 1.0) / self.reference_herd)
        return (s["liquidity_effect"] * liquidity + s["trust_effect"] * trusted
                + s["herd_effect"] * herd)

    def uptake_probability(self, model: HerdtrapModel) -> np.ndarray:
        """Probability that each household slot buys a policy this sales season."""
        s = self.settings
        n = model.households.n
        if s["uptake"] == "fixed":
            return np.full(n, s["uptake_rate"])
        r = np.clip(s["uptake_rate"], 1e-9, 1 - 1e-9)
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-(np.log(r / (1 - r)) + self._uptake_terms(model))))

    def sell(self, model: HerdtrapModel) -> None:
        s = self.settings
        hh = model.households
        u = model.draw("behaviour", hh.n, key=f"{NAME}.uptake")
        heads = np.floor(hh.herd * s["cover_share"] + 0.5).astype(np.int64) * self.covered
        si = model.prices(model.season) * s["sum_insured_share"]
        rate_full = self.premium_rate[hh.soum]
        rate_hh = self.household_rate[hh.soum]
        premium_full = (heads * si * rate_full).sum(axis=1)
        premium_hh = (heads * si * rate_hh).sum(axis=1)
        chance = self.uptake_probability(model)
        if s["subsidy_min_herd"] > 0 or s["subsidy_max_herd"] < 1e6:
            # a subsidy targeted on herd per person (e.g. the vulnerable non-poor): the
            # others pay the full premium; the targeted may take up at their own rate
            pp = herd_sfu_per_person(model)
            band = (pp >= s["subsidy_min_herd"]) & (pp < s["subsidy_max_herd"])
            premium_hh = np.where(band, premium_hh, premium_full)
            if s["subsidy_uptake_rate"] >= 0:
                chance = np.where(band, s["subsidy_uptake_rate"], chance)
        elif s["subsidy_uptake_rate"] >= 0:
            chance = np.full(hh.n, s["subsidy_uptake_rate"])
        buy = (
            hh.herding & (heads.sum(axis=1) > 0) & (premium_hh <= hh.cash) & (u < chance)
        )
        heads = np.where(buy[:, None], heads, 0)
        paid = model.charge("insurer", np.where(buy, premium_hh, 0.0), item="premiums")
        subsidy = float(np.where(buy, premium_full - premium_hh, 0.0).sum())
        y = model.year
        if subsidy:
            model.ledger.add(y, "insurer", "premiums", subsidy)
            model.ledger.add(y, NAME, "premium_subsidy", subsidy)
        n_sold = int(buy.sum())
        model.ledger.add(y, NAME, "policies_sold", n_sold)
        if s["admin_cost"] and n_sold:
            model.ledger.add(y, NAME, "admin", s["admin_cost"] * n_sold)
        hh.insured[:] = heads
        self.si = np.where(buy[:, None], si, 0.0)
        st = self.year_stats
        st["sold"] += n_sold
        st["premiums"] += float(paid.sum()) + subsidy
        st["subsidy"] += subsidy
        st["sum_insured"] += float((heads * self.si).sum())
        st["insured_sfu"] += float((heads @ SFU).sum())

    # ------------------------------------------------------------ claims
    def after_winter(self, model: HerdtrapModel) -> None:
        s = self.settings
        hh = model.households
        index = model.winter.soum_mortality[hh.soum]  # (N, 5)
        value = hh.insured * self.si
        bip = (value * bip_payout_rate(index, s["trigger"], s["exhaustion"])).sum(axis=1)
        drp = (value * drp_payout_rate(index, s["exhaustion"])).sum(axis=1) if s[
            "government_layer"] else np.zeros(hh.n)
        # Basis risk: own loss rate vs. the payout per unit of sum insured.
        insured = value.sum(axis=1) > 0
        if insured.sum() >= 3:
            own = model.winter_outcome.loss_rate[insured]
            rate = (bip + drp)[insured] / value.sum(axis=1)[insured]
            if own.std() > 0 and rate.std() > 0:
                self.year_stats["basis_corr"] = float(np.corrcoef(own, rate)[0, 1])
        # the trigger scorecard: the index triggers a soum when a covered species' rate
        # exceeds the trigger; insured households are covered
        rates = bip_payout_rate(model.winter.soum_mortality, s["trigger"], s["exhaustion"])
        self.signal_record = SignalRecord(
            year=model.year, fired_soums=(rates[:, self.covered] > 0).any(axis=1),
            covered=insured, paid=bip + drp)
        step = step_index(model) + s["payout_lag"]
        if bip.any():
            self.schedule(step, bip)
        if drp.any():
            self._due_gov[step] = self._due_gov.get(step, 0.0) + drp
            model.announce(drp)
        # the claims make part of the winter's loss good: the household remembers the rest
        winter_process.compensate_losses(model, s["loss_memory_offset"] * (bip + drp))
        hh.insured[:] = 0  # cover ends with the winter
        self.si[:] = 0.0
        if s["payout_lag"] == 0:
            self._pay_claims(model)

    def _pay_claims(self, model: HerdtrapModel) -> None:
        step = step_index(model)
        bip = self._pending.pop(step, None)
        if bip is not None:
            model.announce(-bip)
            paid = self.pay(model, bip, item="payouts", source="insurance", account="insurer",
                            admin=0.0)
            self.year_stats["bip"] += float(paid.sum())
            self.last_payout_year[paid > 0] = model.year
        drp = self._due_gov.pop(step, None)
        if drp is not None:
            model.announce(-drp)
            paid = self.pay(model, drp, item="loss_layer", source="insurance", admin=0.0)
            self.year_stats["drp"] += float(paid.sum())
            self.last_payout_year[paid > 0] = model.year

    def season(self, model: HerdtrapModel, season: int) -> None:
        self._pay_claims(model)
        if season == self.settings["sales_season"]:
            self.sell(model)

    def settle(self, model: HerdtrapModel, season: int) -> None:
        """Out of its years: no sales, but claims on policies sold while in force are paid."""
        self._pay_claims(model)

    def levers_changed(self, model: HerdtrapModel, changed: set[str]) -> None:
        if changed & {"loading", "subsidy_share"}:
            s = self.settings
            self.premium_rate, self.household_rate = premium_rates(
                self.expected_loss, s["loading"], s["subsidy_share"])

    # ------------------------------------------------------------ accounting
    def coverage(self, model: HerdtrapModel) -> float:
        """Share of herding households that bought a policy this year."""
        herding = int(model.households.herding.sum())
        return self.year_stats["sold"] / herding if herding else 0.0

    def metrics(self, model: HerdtrapModel) -> dict[str, Any]:
        row = super().metrics(model)
        st = self.year_stats
        y = model.year
        premiums = model.ledger.value(y, "insurer", "premiums")
        payouts = model.ledger.value(y, "insurer", "payouts")
        cum_prem = sum(model.ledger.value(t, "insurer", "premiums") for t in range(1, y + 1))
        cum_pay = sum(model.ledger.value(t, "insurer", "payouts") for t in range(1, y + 1))
        row.update({
            "insurance_policies_sold": int(st["sold"]),
            "insurance_sum_insured": st["sum_insured"],
            "insurance_premium_rate": st["premiums"] / st["sum_insured"]
            if st["sum_insured"] else float("nan"),
            "insurer_premiums": premiums,
            "insurer_payouts": payouts,
            "insurer_loss_ratio": payouts / premiums if premiums else float("nan"),
            "insurer_loss_ratio_cumulative": cum_pay / cum_prem if cum_prem else float("nan"),
            "insurance_payouts_base": st["bip"],
            "insurance_payouts_government": st["drp"],
            "basis_corr_insurance": st["basis_corr"],
        })
        return row

    def end_year(self, model: HerdtrapModel) -> None:
        super().end_year(model)
        self._reset_stats()
