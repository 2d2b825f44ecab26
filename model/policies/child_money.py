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
from model.policies.programme import (
    Programme,
    apply_targeting_errors,
    children_in_band,
    choice,
    herd_sfu_per_person,
    lever,
)

if TYPE_CHECKING:
    from model.model import HerdtrapModel

NAME = "child_money"
_CMP = "Child Money Programme (docs/POLICIES.md 'Policy history')"


@register
class ChildMoney(Programme):
    """Child Money Programme: universal or PMT-targeted monthly benefit per child."""

    name = NAME
    slot_fill: ClassVar[dict[str, Any]] = {"enrolled": True}
    counts_children = True
    levers = {
        "amount": lever(NAME, "amount", 20.0, 0.0, 300.0, unit="kMNT per child per month",
                        source=f"{_CMP}: MNT 20,000 Oct 2012-Mar 2020; MNT 100,000 since "
                               "Apr 2020 (COVID, kept in 2023)",
                        description="Monthly benefit per child in the age band (amount_by_year: "
                                    "by calendar year)"),
        "age_band": choice(NAME, "age_band", "0-17", ("0-17", "0-5", "6-17"),
                           source=f"{_CMP}: universal for children 0-17 since June 2019",
                           description="Children who receive the benefit"),
        "targeting": choice(NAME, "targeting", "universal", ("universal", "pmt"),
                            source=f"{_CMP}: universal 2019-2022, proxy-means-tested from 2023",
                            description="Universal, or proxy-means-tested on herd per person"),
        "target_share": lever(NAME, "target_share", 0.91, 0.05, 1.0,
                              unit="share of households with children",
                              source=f"{_CMP}: retargeted to ~91% of children in 2023",
                              description="PMT: share of households with children eligible "
                                          "(poorest by herd SFU per person at the start)"),
        "exclusion_error": lever(NAME, "exclusion_error", 0.1, 0.0, 0.9, unit="probability",
                                 source="[est] PMT exclusion errors of 10-40% are common",
                                 description="PMT: probability an eligible household is left out"),
        "inclusion_error": lever(NAME, "inclusion_error", 0.1, 0.0, 0.9, unit="probability",
                                 source="[est]",
                                 description="PMT: probability an ineligible household is included"),
        "start_year": lever(NAME, "start_year", 2005, 1900, 2200, unit="calendar year", type="int",
                            source=f"{_CMP}: paid since 2005", description="First year of payments"),
        "end_year": lever(NAME, "end_year", 2200, 1900, 2200, unit="calendar year", type="int",
                          source="design lever", description="Last year of payments (inclusive)"),
        "admin_cost": lever(NAME, "admin_cost", 0.5, 0.0, 20.0,
                            unit="kMNT per beneficiary household per payment",
                            source="[est] bank transfer and registry cost",
                            description="Administrative cost per household paid, per seasonal payment"),
    }

    yearly_levers = frozenset({"amount", "targeting", "target_share", "exclusion_error",
                               "inclusion_error"})

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel) -> None:
        super().__init__(settings, model)
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
        u = model.draw("policy", model.households.n, key=f"{NAME}.targeting")
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
