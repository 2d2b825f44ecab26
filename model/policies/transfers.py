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
from model.policies.programme import (
    Programme,
    apply_targeting_errors,
    choice,
    herd_sfu_per_person,
    lever,
    soum_loss_index,
    step_index,
)

if TYPE_CHECKING:
    from model.model import HerdtrapModel

NB = "needs_based_transfer"
HY = "hybrid_transfer"
_IKEGAMI = ("Ikegami, Carter, Barrett & Janzen (2018) 'Poverty traps and the social "
            "protection paradox', in The Economics of Poverty Traps (NBER)")


def _years(name: str) -> dict[str, Any]:
    return {
        "start_year": lever(name, "start_year", 1900, 1900, 2200, unit="calendar year", type="int",
                            source="design lever", description="First year of the programme"),
        "end_year": lever(name, "end_year", 2200, 1900, 2200, unit="calendar year", type="int",
                          source="design lever", description="Last year of the programme (inclusive)"),
    }


@register
class NeedsBasedTransfer(Programme):
    """Cash per person every season to households below a herd or consumption line."""

    name = NB
    yearly_levers = frozenset({"amount"})
    levers = {
        "amount": lever(NB, "amount", 30.0, 0.0, 500.0, unit="kMNT per person per month",
                        source="[est] ~15% of the 2021 poverty line (~198 kMNT/person/month)",
                        description="Transfer per household member per month"),
        "measure": choice(NB, "measure", "herd", ("herd", "consumption"),
                          source="design lever", description="Needs measure used for targeting"),
        "herd_line": lever(NB, "herd_line", 25.0, 0.0, 500.0, unit="SFU per person",
                           source="[est] = metrics.asset_poverty_line",
                           description="Eligible below this herd per person (measure herd)"),
        "consumption_line": lever(NB, "consumption_line", 1.0, 0.1, 3.0,
                                  unit="multiple of the poverty line",
                                  source="NSO poverty line (consumption.poverty_line)",
                                  description="Eligible below this consumption per person "
                                              "(measure consumption, last year's)"),
        "exclusion_error": lever(NB, "exclusion_error", 0.1, 0.0, 0.9, unit="probability",
                                 source="[est]", description="Eligible household left out"),
        "inclusion_error": lever(NB, "inclusion_error", 0.05, 0.0, 0.9, unit="probability",
                                 source="[est]", description="Ineligible household included"),
        "herders_only": lever(NB, "herders_only", False, unit="on/off", type="bool",
                              source="design lever",
                              description="Pay only households still herding"),
        "admin_cost": lever(NB, "admin_cost", 1.0, 0.0, 50.0,
                            unit="kMNT per beneficiary household per payment",
                            source="[est] means test and payment",
                            description="Administrative cost per household paid, per payment"),
        **_years(NB),
    }

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel) -> None:
        super().__init__(settings, model)
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
    yearly_levers = frozenset({"amount_poor", "amount_vulnerable"})
    levers = {
        "amount_poor": lever(HY, "amount_poor", 20.0, 0.0, 500.0, unit="kMNT per person per month",
                             source=f"[est]; design after {_IKEGAMI}",
                             description="Needs-based part: monthly transfer per person to the poor"),
        "amount_vulnerable": lever(HY, "amount_vulnerable", 300.0, 0.0, 5000.0,
                                   unit="kMNT per person, once per shock",
                                   source=f"[est] ~1.5 months of the poverty line; {_IKEGAMI}",
                                   description="State-contingent transfer to the vulnerable non-poor"),
        "critical_line": lever(HY, "critical_line", 25.0, 0.0, 500.0, unit="SFU per person",
                               source=f"[est] = metrics.asset_poverty_line; {_IKEGAMI}",
                               description="Herd per person below which a household is poor"),
        "vulnerable_line": lever(HY, "vulnerable_line", 60.0, 0.0, 1000.0, unit="SFU per person",
                                 source="[est]",
                                 description="Non-poor households falling below this after a "
                                             "shock are vulnerable"),
        "loss_threshold": lever(HY, "loss_threshold", 0.10, 0.0, 0.95, unit="share of SFU dead",
                                source="[est] NSO aimag mortality above ~10% marks a dzud",
                                description="Soum SFU mortality index that makes the state "
                                            "'shock'"),
        "lag": lever(HY, "lag", 0, 0, 4, unit="seasons", type="int", source="design lever",
                     description="Seasons between the shock (winter) and the payment"),
        "admin_cost": lever(HY, "admin_cost", 1.0, 0.0, 50.0,
                            unit="kMNT per beneficiary household per payment", source="[est]",
                            description="Administrative cost per household paid, per payment"),
        **_years(HY),
    }

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
        if vulnerable.any():
            self.schedule(step_index(model) + s["lag"],
                          s["amount_vulnerable"] * hh.persons * vulnerable)

    def season(self, model: HerdtrapModel, season: int) -> None:
        self.pay_due(model)
        s = self.settings
        if not self._active(model) or s["amount_poor"] <= 0:
            return
        hh = model.households
        poor = herd_sfu_per_person(model) < s["critical_line"]
        self.pay(model, 3.0 * s["amount_poor"] * hh.persons * poor)
