"""Child Money Programme (CMP): a monthly cash benefit per child, paid every season.

transfer_h,season = 3 · a(year) · children_h(band) · 1[h enrolled]

with ``a`` the monthly amount per child (kMNT; ``amount``, or the
``amount_by_year`` schedule from its year on) and ``children_h(band)`` the
household's children in the age band (0–17 by default). Coverage is
universal, or proxy-means-tested (PMT): each spring a household is eligible
if its herd per person (SFU, the asset proxy) is at most the cutoff that made
``target_share`` of the initial households with children eligible; targeting
errors then exclude eligible households (``exclusion_error``) and include
ineligible ones (``inclusion_error``), one uniform draw per household slot
(stream "policy", key "child_money.targeting").

Facts: MNT 20,000 per child per month since 2005; universal 0–17 from June
2019; MNT 100,000 from April 2020 into 2021 (COVID); retargeted to ~91% of
children in 2023 at MNT 100,000 (MODEL.md, "Policies").
"""

from __future__ import annotations

from collections.abc import Mapping
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
    parse_schedule,
)

if TYPE_CHECKING:
    from model.model import HerdtrapModel
    from model.policies import ScenarioData

NAME = "child_money"
_CMP = "Child Money Programme (MODEL.md 'Policies'; Government of Mongolia, UNICEF)"


@register
class ChildMoney(Programme):
    """Child Money Programme: universal or PMT-targeted monthly benefit per child."""

    name = NAME
    slot_fill: ClassVar[dict[str, Any]] = {"enrolled": True}
    counts_children = True
    levers = {
        "amount": lever(NAME, "amount", 20.0, 0.0, 300.0, unit="kMNT per child per month",
                        source=f"{_CMP}: MNT 20,000 since 2005; MNT 100,000 Apr 2020-2021 (COVID)",
                        description="Monthly benefit per child in the age band"),
        "amount_by_year": lever(NAME, "amount_by_year", "", unit="YEAR:kMNT list", type="str",
                                source=f"{_CMP}", description=(
                                    "Optional schedule of monthly amounts from a calendar year on, "
                                    "e.g. \"2020:100, 2024:20\"; overrides amount from that year")),
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

    @classmethod
    def check(cls, settings: Mapping[str, Any], data: ScenarioData, where: str) -> None:
        super().check(settings, data, where)
        parse_schedule(settings["amount_by_year"], f"{where}.amount_by_year")

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel) -> None:
        super().__init__(settings, model)
        s = self.settings
        self.schedule_amounts = parse_schedule(s["amount_by_year"], f"{self.where}.amount_by_year")
        proxy = herd_sfu_per_person(model)
        with_kids = self.kids > 0
        #: PMT cutoff (SFU per person), fixed at the start so that one household's
        #: herd never changes another's eligibility.
        self.cutoff = (
            float(np.quantile(proxy[with_kids], s["target_share"])) if with_kids.any() else 0.0
        )
        self.enrolled = np.ones(model.households.n, dtype=bool)

    @property
    def kids(self) -> np.ndarray:
        """Children of the programme's age band per household slot, as they are now
        (members age, so children enter and leave the band; model.processes.demography)."""
        return children_in_band(self.model, self.settings["age_band"])

    def amount(self, year: int) -> float:
        """Monthly amount per child (kMNT) in calendar ``year``."""
        a = float(self.settings["amount"])
        for y, v in self.schedule_amounts:
            if year >= y:
                a = v
        return a

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
        a = self.amount(year)
        if a <= 0:
            return
        kids = self.kids * self.enrolled
        self.pay(model, 3.0 * a * kids, children=kids)

    def coverage(self, model: HerdtrapModel) -> float:
        """Share of households with children in the band that were paid this year."""
        with_kids = self.kids > 0
        return float(self.reached[with_kids].mean()) if with_kids.any() else 0.0
