"""Needs-based cash transfer and the hybrid state-contingent transfer.

Needs-based transfer (``needs_based_transfer``): each spring a household is
eligible if its herd per person is below ``herd_line`` (SFU/person; measure
"herd") or its last year's consumption per person is below
``consumption_line`` × the annual poverty line (measure "consumption"; in the
first year, before any consumption is observed, the herd measure is used).
Targeting errors as for Child Money (stream "policy", key
"needs_based_transfer.targeting"). Every season an enrolled household gets::

    transfer_h = 3 · amount · persons_h

Hybrid (``hybrid_transfer``; Ikegami, Carter, Barrett & Janzen 2018, "Poverty
traps and the social protection paradox"): transfers to the poor alone cannot
stop the vulnerable non-poor from falling into the trap after a shock, so the
hybrid combines

* a needs-based part for the poor (herd per person < ``critical_line``):
  ``3 · amount_poor · persons`` per season, and
* a state-contingent part: after a winter whose soum SFU mortality index
  exceeds ``loss_threshold``, every household of that soum that was non-poor
  before the winter (herd per person ≥ ``critical_line``) and is now below
  ``vulnerable_line`` receives ``amount_vulnerable · persons`` once, ``lag``
  seasons later (0 = in winter, right after the losses).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from model.policies import register
from model.policies.levers import policy_levers
from model.policies.programme import (
    Programme,
    apply_targeting_errors,
    herd_sfu_per_person,
    soum_loss_index,
    step_index,
)
from model.species import SFU

if TYPE_CHECKING:
    from model.model import HerdtrapModel

NB = "needs_based_transfer"
HY = "hybrid_transfer"


@register
class NeedsBasedTransfer(Programme):
    """Cash per person every season to households below a herd or consumption line."""

    name = NB
    repeatable = True
    yearly_levers = frozenset({"amount"})
    levers = policy_levers(NB)

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel,
                 name: str | None = None) -> None:
        super().__init__(settings, model, name)
        self.enrolled = np.zeros(model.households.n, dtype=bool)

    def eligible(self, model: HerdtrapModel) -> np.ndarray:
        s = self.settings
        last = getattr(model, "last_year", None)
        if s["measure"] == "consumption" and last is not None:
            pc = last["consumption"] / np.maximum(model.households.persons, 1)
            return pc < s["consumption_line"] * 12.0 * model.line_month
        return herd_sfu_per_person(model) < s["herd_line"]

    def season(self, model: HerdtrapModel, season: int) -> None:
        s = self.settings
        if season == 0:
            u = model.draw("policy", model.households.n, key=f"{self.name}.targeting")
            self.enrolled = apply_targeting_errors(self.eligible(model), u, s["exclusion_error"],
                                                   s["inclusion_error"])
        if not s["start_year"] <= model.calendar_year <= s["end_year"]:
            return
        hh = model.households
        paid_to = self.enrolled & (hh.herding if s["herders_only"] else True)
        self.pay(model, 3.0 * s["amount"] * hh.persons * paid_to)

    def coverage(self, model: HerdtrapModel) -> float:
        """Share of all households paid this year."""
        return float(self.reached.mean())


@register
class HybridTransfer(Programme):
    """Needs-based support for the poor plus state-contingent transfers to the
    vulnerable non-poor after a shock."""

    name = HY
    repeatable = True
    yearly_levers = frozenset({"amount_poor", "amount_vulnerable"})
    levers = policy_levers(HY)

    def _active(self, model: HerdtrapModel) -> bool:
        s = self.settings
        return s["start_year"] <= model.calendar_year <= s["end_year"]

    def after_winter(self, model: HerdtrapModel) -> None:
        s = self.settings
        if not self._active(model) or s["amount_vulnerable"] <= 0:
            return
        hh = model.households
        persons = np.maximum(hh.persons, 1)
        before = model.winter_outcome.before_sfu / persons
        after = herd_sfu_per_person(model)
        shock = soum_loss_index(model)[hh.soum] > s["loss_threshold"]
        vulnerable = shock & hh.herding & (before >= s["critical_line"]) & (
            after < s["vulnerable_line"])
        if not vulnerable.any():
            return
        if s["vulnerable_payment"] == "to_critical_line":
            # Ikegami et al.: the transfer restores a household the shock pushed below the
            # critical threshold to it: the price of the missing sheep units (aimag's
            # desired mix, soum prices now)
            gap = np.maximum(s["critical_line"] * persons - hh.herd_sfu, 0.0) * vulnerable
            head_per_sfu = model.target_mix[hh.aimag] / SFU
            price_per_sfu = np.einsum("ij,ij->i", head_per_sfu, model.prices())
            amount = gap * price_per_sfu
        else:
            amount = s["amount_vulnerable"] * hh.persons * vulnerable
        if amount.any():
            self.schedule(step_index(model) + s["lag"], amount)

    def season(self, model: HerdtrapModel, season: int) -> None:
        self.pay_due(model)
        s = self.settings
        if not self._active(model) or s["amount_poor"] <= 0:
            return
        hh = model.households
        poor = herd_sfu_per_person(model) < s["critical_line"]
        self.pay(model, 3.0 * s["amount_poor"] * hh.persons * poor)
