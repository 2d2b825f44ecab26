"""Child Money Programme (CMP): a monthly cash benefit per child, paid every season.

transfer_h,season = 3 · a(year) · children_h(band) · 1[h enrolled]

with ``a`` the monthly amount per child (kMNT; ``amount``, or its value in the
year from the ``amount_by_year`` schedule) and ``children_h(band)`` the
household's children in the age band (0–17 by default). Coverage is
universal, or proxy-means-tested (PMT): each spring a household is eligible
if its herd per person (SFU, the asset proxy) is at most the cutoff that made
``target_share`` of the initial households with children eligible; targeting
errors then exclude eligible households (``exclusion_error``) and include
ineligible ones (``inclusion_error``), one uniform draw per household slot
(stream "policy", key "child_money.targeting").

``amount``, ``targeting``, ``target_share`` and the targeting errors may change by
calendar year (``<lever>_by_year``, :mod:`model.policies.dated`); a new
``target_share`` moves the cutoff, still computed on the initial herds.

Facts (docs/POLICIES.md, "Policy history", with sources): MNT 3,000 a month from
January 2005, targeted; quasi-universal from July 2006; MNT 25,000 a quarter from
July 2007; replaced by the Human Development Fund's cash to every citizen in
2010-2012; MNT 20,000 a month from October 2012; targeted to 60-80% of children in
parts of 2016-2019, universal from June 2019; MNT 100,000 from April 2020 (COVID)
and still in 2023, when ~91% of children were paid for six months.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.policies import register
from model.policies.levers import policy_levers
from model.policies.programme import (
    Programme,
    apply_targeting_errors,
    children_in_band,
    herd_sfu_per_person,
)

if TYPE_CHECKING:
    from model.model import HerdtrapModel

NAME = "child_money"


@register
class ChildMoney(Programme):
    """Child Money Programme: universal or PMT-targeted monthly benefit per child."""

    name = NAME
    repeatable = True
    slot_fill: ClassVar[dict[str, Any]] = {"enrolled": True}
    counts_children = True
    levers = policy_levers(NAME)

    yearly_levers = frozenset({"amount", "targeting", "target_share", "exclusion_error",
                               "inclusion_error"})

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel,
                 name: str | None = None) -> None:
        super().__init__(settings, model, name)
        #: the asset proxy and the children at the start: the PMT cutoff is a quantile of
        #: them, so that one household's herd never changes another's eligibility.
        self.proxy0 = herd_sfu_per_person(model)
        self.kids0 = self.kids.copy()
        self.cutoff = self._cutoff()
        self.enrolled = np.ones(model.households.n, dtype=bool)

    @property
    def kids(self) -> np.ndarray:
        """Children of the programme's age band per household slot, as they are now
        (members age, so children enter and leave the band; model.processes.demography)."""
        return children_in_band(self.model, self.settings["age_band"])

    def _cutoff(self) -> float:
        """PMT cutoff (SFU per person) that makes target_share of the initial households
        with children eligible."""
        with_kids = self.kids0 > 0
        share = self.settings["target_share"]
        return float(np.quantile(self.proxy0[with_kids], share)) if with_kids.any() else 0.0

    def levers_changed(self, model: HerdtrapModel, changed: set[str]) -> None:
        if "target_share" in changed:
            self.cutoff = self._cutoff()

    def amount(self, year: int) -> float:
        """Monthly amount per child (kMNT) in calendar ``year``."""
        return float(self.value_in_year("amount", year))

    def retarget(self, model: HerdtrapModel) -> None:
        s = self.settings
        u = model.draw("policy", model.households.n, key=f"{self.name}.targeting")
        if s["targeting"] == "universal":
            self.enrolled = np.ones(model.households.n, dtype=bool)
            return
        eligible = herd_sfu_per_person(model) <= self.cutoff
        self.enrolled = apply_targeting_errors(eligible, u, s["exclusion_error"],
                                               s["inclusion_error"])

    def season(self, model: HerdtrapModel, season: int) -> None:
        s = self.settings
        if season == 0:  # yearly (re)targeting in spring
            self.retarget(model)
        year = model.calendar_year
        if not s["start_year"] <= year <= s["end_year"]:
            return
        a = float(s["amount"])
        if a <= 0:
            return
        kids = self.kids * self.enrolled
        self.pay(model, 3.0 * a * kids, children=kids)

    def coverage(self, model: HerdtrapModel) -> float:
        """Share of households with children in the band that were paid this year."""
        with_kids = self.kids > 0
        return float(self.reached[with_kids].mean()) if with_kids.any() else 0.0
