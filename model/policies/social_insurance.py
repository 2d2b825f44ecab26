"""Social insurance for herders: voluntary contributions, pensions, optional
sickness and maternity benefits.

Enrolment: a herding household enrols if u_h < p (one uniform per household
slot drawn at the start, stream "behaviour", key "social_insurance.enrol", so
enrolment is persistent), with::

    p = min(1, base_coverage + outreach + (1 − base_coverage) · subsidy_response · subsidy_share)

Contributions, every season, for each adult of an enrolled household::

    c = 3 · contribution_rate · max(declared_income, minimum_wage)

The treasury pays ``subsidy_share`` of it (fiscal item "contribution_subsidy");
the household pays the rest (at most its cash). Contributions go to the
Social Insurance Fund (account "social_insurance_fund", not a treasury cost).

Benefits, paid by the fund every season:

* pension: elderly members of households enrolled for at least
  ``vesting_years`` get ``3 · max(pension − income.elderly_pension, 0)``
  (the contributory pension replaces the social-welfare pension the model
  already pays everyone);
* sickness/maternity (``sickness_maternity = true``): each season an enrolled
  household has an episode with probability 1 − (1 − sickness_rate)^adults
  (stream "behaviour", key "social_insurance.sickness") and receives
  ``sickness_benefit``.

If the fund's benefits exceed its contributions in a year and
``treasury_covers_deficit`` is on, the treasury pays the gap (fiscal item
"fund_deficit"). Coverage = share of herding households enrolled.

Facts: contributions ~10–11.5% of a declared income floored at the minimum
wage [est]; ~26% of herders covered in 2018 [NSO via Montsame]; minimum wage
2021 MNT 420,000/month [est, verify] (MODEL.md "Policies").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.policies import register
from model.policies.programme import Programme, lever

if TYPE_CHECKING:
    from model.model import HerdtrapModel

NAME = "social_insurance"
FUND = "social_insurance_fund"


@register
class SocialInsurance(Programme):
    """Voluntary social insurance for herders with an optional contribution subsidy."""

    name = NAME
    slot_draws: ClassVar[dict[str, tuple[str, str]]] = {"u": ("behaviour", f"{NAME}.enrol")}
    levers = {
        "contribution_rate": lever(NAME, "contribution_rate", 0.115, 0.0, 0.3,
                                   unit="share of declared income",
                                   source="[est] ~10-11.5% (MODEL.md)",
                                   description="Contribution rate on the declared income"),
        "declared_income": lever(NAME, "declared_income", 420.0, 0.0, 5000.0,
                                 unit="kMNT per adult per month",
                                 source="[est] herders declare about the minimum wage",
                                 description="Monthly income declared per contributing adult"),
        "minimum_wage": lever(NAME, "minimum_wage", 420.0, 100.0, 2000.0, unit="kMNT per month",
                              source="[est, verify] 2021 minimum wage MNT 420,000/month",
                              description="Floor of the declared income"),
        "subsidy_share": lever(NAME, "subsidy_share", 0.0, 0.0, 1.0, unit="share of contribution",
                               source="design lever",
                               description="Share of contributions paid by the treasury"),
        "base_coverage": lever(NAME, "base_coverage", 0.26, 0.0, 1.0,
                               unit="share of herding households",
                               source="NSO via Montsame: ~26% of herders covered in 2018",
                               description="Enrolment without subsidy or outreach"),
        "subsidy_response": lever(NAME, "subsidy_response", 0.5, 0.0, 1.0,
                                  unit="share of non-enrolled per unit subsidy", source="[est]",
                                  description="How much a full subsidy raises enrolment"),
        "outreach": lever(NAME, "outreach", 0.0, 0.0, 1.0, unit="added enrolment share",
                          source="design lever [est]",
                          description="Enrolment added by outreach (mobile registration)"),
        "pension": lever(NAME, "pension", 320.0, 0.0, 3000.0, unit="kMNT per elderly per month",
                         source="[est] minimum contributory pension ~75% of the minimum wage",
                         description="Contributory pension per elderly member"),
        "vesting_years": lever(NAME, "vesting_years", 0, 0, 40, unit="years", type="int",
                               source="[est] 0 = earlier contribution history recognised "
                                      "(the law requires 20 years for a full pension)",
                               description="Years enrolled before the pension is paid"),
        "sickness_maternity": lever(NAME, "sickness_maternity", False, unit="on/off", type="bool",
                                    source="design lever",
                                    description="Pay sickness and maternity benefits"),
        "sickness_rate": lever(NAME, "sickness_rate", 0.05, 0.0, 0.5,
                               unit="episodes per adult per season", source="[est]",
                               description="Probability of a sickness or maternity episode"),
        "sickness_benefit": lever(NAME, "sickness_benefit", 300.0, 0.0, 5000.0,
                                  unit="kMNT per episode", source="[est]",
                                  description="Benefit per sickness or maternity episode"),
        "treasury_covers_deficit": lever(NAME, "treasury_covers_deficit", True, unit="on/off",
                                         type="bool",
                                         source="[est] the state budget covers the fund's gap",
                                         description="Treasury pays benefits above contributions"),
        "admin_cost": lever(NAME, "admin_cost", 1.0, 0.0, 50.0,
                            unit="kMNT per enrolled household per season", source="[est]",
                            description="Administrative cost per enrolled household"),
    }

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel) -> None:
        super().__init__(settings, model)
        s = self.settings
        n = model.households.n
        self.u = model.draw("behaviour", n, key=f"{NAME}.enrol")
        p = (s["base_coverage"] + s["outreach"]
             + (1.0 - s["base_coverage"]) * s["subsidy_response"] * s["subsidy_share"])
        self.p_enrol = min(1.0, p)
        self.years_enrolled = np.zeros(n, dtype=np.int64)
        self.enrolled = np.zeros(n, dtype=bool)
        self._contributions = 0.0
        self._benefits = 0.0

    def season(self, model: HerdtrapModel, season: int) -> None:
        s = self.settings
        hh = model.households
        y = model.year
        self.enrolled = hh.herding & (self.u < self.p_enrol)
        # contributions
        income = max(s["declared_income"], s["minimum_wage"])
        due = 3.0 * s["contribution_rate"] * income * hh.adults * self.enrolled
        subsidy = due * s["subsidy_share"]
        taken = model.charge(FUND, due - subsidy, item="contributions")
        if subsidy.any():
            model.ledger.add(y, FUND, "contributions", float(subsidy.sum()))
            model.ledger.add(y, NAME, "contribution_subsidy", float(subsidy.sum()))
        n_enrolled = int(self.enrolled.sum())
        model.ledger.add(y, NAME, "enrolled", n_enrolled / 4.0)  # mean over the year's seasons
        if s["admin_cost"] and n_enrolled:
            model.ledger.add(y, NAME, "admin", s["admin_cost"] * n_enrolled)
        self._contributions += float(taken.sum() + subsidy.sum())
        # benefits from the fund
        vested = self.years_enrolled >= s["vesting_years"]
        if s["vesting_years"] == 0:
            vested = vested & (self.enrolled | (self.years_enrolled > 0))
        top = max(s["pension"] - model.p["income.elderly_pension"], 0.0)
        benefit = 3.0 * top * hh.elderly * vested
        if s["sickness_maternity"]:
            u = model.draw("behaviour", hh.n, key=f"{NAME}.sickness")
            p_episode = 1.0 - (1.0 - s["sickness_rate"]) ** hh.adults
            benefit = benefit + s["sickness_benefit"] * (self.enrolled & (u < p_episode))
        paid = self.pay(model, benefit, item="benefits", source="pension", account=FUND, admin=0.0)
        self._benefits += float(paid.sum())
        if season == 3:
            self.years_enrolled += self.enrolled
            gap = self._benefits - self._contributions
            if s["treasury_covers_deficit"] and gap > 0:
                model.ledger.add(y, NAME, "fund_deficit", gap)

    def coverage(self, model: HerdtrapModel) -> float:
        """Share of herding households enrolled (at the end of the year)."""
        herding = model.households.herding
        return float(self.enrolled[herding].mean()) if herding.any() else 0.0

    def metrics(self, model: HerdtrapModel) -> dict[str, Any]:
        row = super().metrics(model)
        row["social_insurance_enrolled"] = int(self.enrolled.sum())
        row["social_insurance_contributions"] = self._contributions
        row["social_insurance_benefits"] = self._benefits
        return row

    def end_year(self, model: HerdtrapModel) -> None:
        super().end_year(model)
        self._contributions = 0.0
        self._benefits = 0.0
