"""Social insurance for herders: voluntary contributions that build each member's
record, contributory old-age pensions at the legal pension age for herders, optional
sickness and maternity benefits.

Enrolment, per household: a herding household is enrolled if u_h < p (one uniform per
household slot, stream "behaviour", key "social_insurance.enrol", drawn once, so
enrolment is persistent; a household formed during the run gets its own slot's draw),
with::

    p = min(1, base_coverage + outreach + (1 − base_coverage) · subsidy_response · subsidy_share)

Contributions, per member, every season: each member of an enrolled household aged 18
up to their pension age owes ``c = 3 · contribution_rate · max(declared_income,
minimum_wage)``; the treasury pays ``subsidy_share`` of it (fiscal item
"contribution_subsidy"), the household the rest. A household pays for as many of its
contributing members as its cash above ``lapse_reserve`` seasons of its poverty-line
need allows (members in seat order); the others **lapse** for the season: no
contribution, no subsidy, no credit. Each member paid for gains a quarter of a year in
``HouseholdState.contribution_years`` (the record moves with the member when they
found a household and is cleared when they die or leave the region). Contributions go
to the Social Insurance Fund (account "social_insurance_fund", not a treasury cost).

Old-age pensions, paid by the fund every season to every member entitled by their
record, from their pension age (rule in :mod:`model.policies.pensions`): men 60 /
women 55, herders with at least 20 years of contributions 55 / 50 (since 2018); the
minimum full pension with the full-pension requirement (20 years, rising 3 months a
year after 2017 to 25), the minimum proportional pension with 10 years or more. The
pension follows the person (also in households that left herding).

Initial records (the starting population, calendar year Y0 = the run's start year),
per member aged A (born B = Y0 − A), with a_p = ``age_men``/``age_women``:

* collective service [est]: years from age 18 to the end of ``collective_until``
  (1990; the 1979 pension law revision covered cooperative (negdel) workers, Oxford
  Business Group 2014), before a_p, count for every member;
* voluntary contributions: members of households enrolled before the run (u_h <
  ``base_coverage``) contributed ``history_share`` of the years from age 18 or
  ``history_from`` (1995, the social insurance laws of 1994) to Y0, before a_p [est].

Spouses who join from outside the table start with no record [est].

Sickness/maternity (``sickness_maternity = true``): each season a household with k
members paid for has an episode with probability 1 − (1 − sickness_rate)^k (stream
"behaviour", key "social_insurance.sickness") and receives ``sickness_benefit`` (fund
item "benefits", household income "transfers").

If the fund's pensions and benefits exceed its contributions in a year and
``treasury_covers_deficit`` is on, the treasury pays the gap (fiscal item
"fund_deficit"). Coverage = share of herding households enrolled.

Facts and sources: docs/POLICIES.md, "Social insurance for herders".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.household import count_per_row
from model.policies import register
from model.policies.pensions import (
    CONTRIBUTION_AGE,
    SOCIAL_INSURANCE,
    add_initial_expectations,
    contributors,
)
from model.policies.programme import Programme, lever

if TYPE_CHECKING:
    from model.model import HerdtrapModel

NAME = SOCIAL_INSURANCE
FUND = "social_insurance_fund"
_LAW_2017 = "MONTSAME 2017-02-03 (montsame.mn/en/read/128611); in force 1 Jan 2018"
_MIN_2020 = "Government Resolution 24 of 22 Jan 2020 (legalinfo.mn/mn/detail/15018)"
_AGE = ("Oxford Business Group 2014 (Mongolia report, social security); "
        "MLSP 2025 (mlsp.gov.mn/eng/content/detail/1943)")
_YEARS = ("mongolcom.mn/read/2594 (2020); atlashxm.com/countries/mongolia: 20y6m in 2019, "
          "21y9m in 2024, 25 years by 2037")


@register
class SocialInsurance(Programme):
    """Voluntary social insurance for herders with an optional contribution subsidy."""

    name = NAME
    slot_draws: ClassVar[dict[str, tuple[str, str]]] = {"u": ("behaviour", f"{NAME}.enrol")}
    #: levers read afresh every season (dated schedules may change them by year)
    yearly_levers: ClassVar[frozenset[str]] = frozenset({"pension", "proportional_pension"})
    levers = {
        "contribution_rate": lever(NAME, "contribution_rate", 0.115, 0.0, 0.3,
                                   unit="share of declared income",
                                   source="Zavkhan social insurance office (zavhan.ndaatgal.mn): "
                                          "11.5% for voluntarily insured herders",
                                   description="Contribution rate on the declared income"),
        "declared_income": lever(NAME, "declared_income", 420.0, 0.0, 5000.0,
                                 unit="kMNT per member per month",
                                 source="[est] herders declare about the minimum wage",
                                 description="Monthly income declared per contributing member"),
        "minimum_wage": lever(NAME, "minimum_wage", 420.0, 100.0, 2000.0, unit="kMNT per month",
                              source="[est, verify] 2020-21 minimum wage MNT 420,000/month",
                              description="Floor of the declared income"),
        "subsidy_share": lever(NAME, "subsidy_share", 0.0, 0.0, 1.0, unit="share of contribution",
                               source="design lever",
                               description="Share of contributions paid by the treasury"),
        "base_coverage": lever(NAME, "base_coverage", 0.26, 0.0, 1.0,
                               unit="share of herding households",
                               source="NSO via MONTSAME 2019-12-27 (montsame.mn/en/read/211029): "
                                      "26.2% of herders had social insurance in 2018",
                               description="Enrolment without subsidy or outreach"),
        "subsidy_response": lever(NAME, "subsidy_response", 0.5, 0.0, 1.0,
                                  unit="share of non-enrolled per unit subsidy", source="[est]",
                                  description="How much a full subsidy raises enrolment"),
        "outreach": lever(NAME, "outreach", 0.0, 0.0, 1.0, unit="added enrolment share",
                          source="design lever [est]",
                          description="Enrolment added by outreach (mobile registration)"),
        "lapse_reserve": lever(NAME, "lapse_reserve", 1.0, 0.0, 8.0,
                               unit="seasons of poverty-line need",
                               source="[est] households pay only from cash above a season's "
                                      "need; members they cannot pay for lapse",
                               description="Cash a household keeps before paying contributions"),
        "pension": lever(NAME, "pension", 350.0, 0.0, 3000.0, unit="kMNT per member per month",
                         source=f"minimum full old-age pension MNT 350,000 from 1 Feb 2020, "
                                f"{_MIN_2020}",
                         description="Contributory pension with the full contribution record"),
        "proportional_pension": lever(NAME, "proportional_pension", 300.0, 0.0, 3000.0,
                                      unit="kMNT per member per month",
                                      source=f"minimum proportional pension MNT 300,000 from "
                                             f"1 Feb 2020, {_MIN_2020}",
                                      description="Contributory pension with "
                                                  "proportional_years or more, below the full "
                                                  "record"),
        "age_men": lever(NAME, "age_men", 60, 40, 80, type="int", unit="years", source=_AGE,
                         description="General pension age, men"),
        "age_women": lever(NAME, "age_women", 55, 40, 80, type="int", unit="years", source=_AGE,
                           description="General pension age, women"),
        "herder_age_men": lever(NAME, "herder_age_men", 55, 40, 80, type="int", unit="years",
                                source=_LAW_2017,
                                description="Pension age of men with herder_years of "
                                            "contributions"),
        "herder_age_women": lever(NAME, "herder_age_women", 50, 40, 80, type="int",
                                  unit="years", source=_LAW_2017,
                                  description="Pension age of women with herder_years of "
                                              "contributions"),
        "herder_years": lever(NAME, "herder_years", 20.0, 0.0, 45.0, unit="years",
                              source=f"{_LAW_2017}: 20 years, of which 15 (women 12.5) herding",
                              description="Contribution years for the herders' early pension age"),
        "full_years": lever(NAME, "full_years", 20.0, 0.0, 45.0, unit="years",
                            source=f"{_YEARS}",
                            description="Contribution years for a full pension before the rise"),
        "full_years_step": lever(NAME, "full_years_step", 0.25, 0.0, 1.0,
                                 unit="years per calendar year", source=f"{_YEARS}",
                                 description="Yearly rise of the full-pension requirement"),
        "full_years_from": lever(NAME, "full_years_from", 2017, 1990, 2100, type="int",
                                 unit="calendar year", source=f"{_YEARS}",
                                 description="Last year before the requirement rises"),
        "full_years_max": lever(NAME, "full_years_max", 25.0, 0.0, 45.0, unit="years",
                                source=f"{_YEARS}",
                                description="Full-pension requirement once the rise ends"),
        "proportional_years": lever(NAME, "proportional_years", 10.0, 0.0, 45.0, unit="years",
                                    source="atlashxm.com/countries/mongolia: proportional "
                                           "pension with 10-20 years",
                                    description="Contribution years for a proportional pension"),
        "history_from": lever(NAME, "history_from", 1995, 1900, 2200, type="int",
                              unit="calendar year",
                              source="social insurance laws of 1994 (Oxford Business Group "
                                     "2014); buy-back of 1995-2000 contributions (MONTSAME "
                                     "2017-02-03)",
                              description="First year of voluntary contributions in the "
                                          "initial records"),
        "history_share": lever(NAME, "history_share", 0.5, 0.0, 1.0,
                               unit="share of years since history_from",
                               source="[est] coverage was lower and irregular before 2018",
                               description="Share of years members of enrolled households "
                                           "contributed before the run"),
        "collective_until": lever(NAME, "collective_until", 1990, 1900, 2200, type="int",
                                  unit="calendar year",
                                  source="[est] negdel service counts; the 1979 pension law "
                                         "revision covered cooperative workers (Oxford "
                                         "Business Group 2014)",
                                  description="Last year of collective service counted in the "
                                              "initial records (before 1900: none)"),
        "sickness_maternity": lever(NAME, "sickness_maternity", False, unit="on/off", type="bool",
                                    source="design lever",
                                    description="Pay sickness and maternity benefits"),
        "sickness_rate": lever(NAME, "sickness_rate", 0.05, 0.0, 0.5,
                               unit="episodes per insured member per season", source="[est]",
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
        self.enrolled = np.zeros(n, dtype=bool)
        #: households that paid for at least one member this year
        self.contributed = np.zeros(n, dtype=bool)
        self._contributions = 0.0
        self._benefits = 0.0
        self._pensions = 0.0
        self._member_seasons = 0  # members paid for, summed over the year's seasons
        self._lapsed_seasons = 0  # members of contributing age who lapsed, summed likewise
        self.pensioners = 0  # members paid a pension in the last season
        self.initial_records(model)
        add_initial_expectations(model)

    def initial_records(self, model: HerdtrapModel) -> None:
        """Contribution records of the starting population (module docstring)."""
        s, hh = self.settings, model.households
        y0 = model.calendar_year
        ages = hh.ages.astype(float)
        born = y0 - ages
        age_p = np.where(hh.female, s["age_women"], s["age_men"])
        start = born + CONTRIBUTION_AGE
        collective = np.clip(np.minimum(s["collective_until"] + 1.0, born + age_p) - start, 0, None)
        voluntary = np.clip(np.minimum(float(y0), born + age_p)
                            - np.maximum(start, float(s["history_from"])), 0, None)
        enrolled_before = hh.herding & (self.u < s["base_coverage"])
        years = collective + s["history_share"] * voluntary * enrolled_before[:, None]
        hh.contribution_years[:] = np.where(hh.ages >= 0, years, 0.0)

    def season(self, model: HerdtrapModel, season: int) -> None:
        s = self.settings
        hh = model.households
        y = model.year
        self.enrolled = hh.alive & hh.herding & (self.u < self.p_enrol)
        # contributions: members of contributing age, as many as the household can pay
        member = contributors(s, hh.ages, hh.female, hh.contribution_years) & self.enrolled[:, None]
        n_member = count_per_row(member)
        per_member = 3.0 * s["contribution_rate"] * max(s["declared_income"], s["minimum_wage"])
        own = per_member * (1.0 - s["subsidy_share"])
        spare = np.maximum(hh.cash - s["lapse_reserve"] * model.need_per_season(), 0.0)
        can = np.floor(spare / own) if own > 0 else n_member
        paying = member & (np.cumsum(member, axis=1) <= np.minimum(can, n_member)[:, None])
        n_paying = count_per_row(paying)
        hh.contribution_years[paying] += 0.25
        self.contributed |= n_paying > 0
        self._member_seasons += int(n_paying.sum())
        self._lapsed_seasons += int((n_member - n_paying).sum())
        taken = model.charge(FUND, own * n_paying, item="contributions")
        subsidy = per_member * s["subsidy_share"] * n_paying
        if subsidy.any():
            model.ledger.add(y, FUND, "contributions", float(subsidy.sum()))
            model.ledger.add(y, NAME, "contribution_subsidy", float(subsidy.sum()))
        n_enrolled = int(self.enrolled.sum())
        model.ledger.add(y, NAME, "enrolled", n_enrolled / 4.0)  # mean over the year's seasons
        if s["admin_cost"] and n_enrolled:
            model.ledger.add(y, NAME, "admin", s["admin_cost"] * n_enrolled)
        self._contributions += float(taken.sum() + subsidy.sum())
        # sickness and maternity benefits for the members insured this season
        if s["sickness_maternity"]:
            u = model.draw("behaviour", hh.n, key=f"{NAME}.sickness")
            p_episode = 1.0 - (1.0 - s["sickness_rate"]) ** n_paying
            benefit = s["sickness_benefit"] * ((n_paying > 0) & (u < p_episode))
            paid = self.pay(model, benefit, item="benefits", source="transfers", account=FUND,
                            admin=0.0)
            self._benefits += float(paid.sum())
        if season == 3:
            gap = self._benefits + self._pensions - self._contributions
            if s["treasury_covers_deficit"] and gap > 0:
                model.ledger.add(y, NAME, "fund_deficit", gap)

    def pay_pensions(self, model: HerdtrapModel, monthly: np.ndarray) -> None:
        """The fund pays ``monthly`` (kMNT per member seat, (N, MAX_MEMBERS)) for three
        months (called by ``pensions.pay_pensions`` with the off-farm income)."""
        self.pensioners = int((monthly > 0).sum())
        paid = self.pay(model, 3.0 * monthly.sum(axis=1), item="pensions", source="pension",
                        account=FUND, admin=0.0)
        self._pensions += float(paid.sum())

    def coverage(self, model: HerdtrapModel) -> float:
        """Share of herding households enrolled (at the end of the year)."""
        herding = model.households.herding
        return float(self.enrolled[herding].mean()) if herding.any() else 0.0

    def metrics(self, model: HerdtrapModel) -> dict[str, Any]:
        row = super().metrics(model)
        row["social_insurance_enrolled"] = int(self.enrolled.sum())
        row["social_insurance_contributing"] = int(self.contributed.sum())
        row["social_insurance_members_paid"] = self._member_seasons / 4.0
        row["social_insurance_members_lapsed"] = self._lapsed_seasons / 4.0
        row["social_insurance_contributions"] = self._contributions
        row["social_insurance_benefits"] = self._benefits
        row["social_insurance_pensions"] = self._pensions
        row["social_insurance_pensioners"] = self.pensioners
        return row

    def end_year(self, model: HerdtrapModel) -> None:
        super().end_year(model)
        self._contributions = 0.0
        self._benefits = 0.0
        self._pensions = 0.0
        self._member_seasons = 0
        self._lapsed_seasons = 0
        self.contributed[:] = False
