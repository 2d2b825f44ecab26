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
from model.policies.levers import policy_levers
from model.policies.pensions import (
    CONTRIBUTION_AGE,
    SOCIAL_INSURANCE,
    add_initial_expectations,
    contributors,
)
from model.policies.programme import Programme

if TYPE_CHECKING:
    from model.model import HerdtrapModel

NAME = SOCIAL_INSURANCE
FUND = "social_insurance_fund"


@register
class SocialInsurance(Programme):
    """Voluntary social insurance for herders with an optional contribution subsidy."""

    name = NAME
    slot_draws: ClassVar[dict[str, tuple[str, str]]] = {"u": ("behaviour", f"{NAME}.enrol")}
    #: levers read afresh every season (dated schedules may change them by year)
    yearly_levers: ClassVar[frozenset[str]] = frozenset({"pension", "proportional_pension"})
    levers = policy_levers(NAME)

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel,
                 name: str | None = None) -> None:
        super().__init__(settings, model, name)
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
