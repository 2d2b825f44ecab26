"""Pensions and social insurance follow people (issue 13): contributory pensions reach
members who are old enough and entitled, the social pension the other elderly;
members whose household cannot pay lapse; contributors reach pension age during a run.
Each programme can be switched off."""

from __future__ import annotations

import numpy as np
import pytest

from model.household import income_index
from model.model import HerdtrapModel
from model.policies.pensions import (
    full_years_required,
    member_pensions,
    pay_pensions,
    pension_per_season,
)

SMALL = {"population.households": 300}
BOTH = {"social_insurance": {}, "social_pension": {}}


def _policy(m: HerdtrapModel, name: str):
    return next(p for p in m.policies.active if p.name == name)


def _seat(m: HerdtrapModel, row: int, people: list[tuple[int, bool, float]]) -> None:
    """Household ``row`` holds exactly ``people`` = (age, female, contribution years)."""
    hh = m.households
    hh.ages[row] = -1
    hh.female[row] = False
    hh.contribution_years[row] = 0.0
    for i, (age, female, years) in enumerate(people):
        hh.ages[row, i], hh.female[row, i], hh.contribution_years[row, i] = age, female, years
    hh.update_bands()


def test_full_pension_requirement_rises_three_months_a_year_after_2017():
    s = _policy(HerdtrapModel("baseline", seed=0, years=1, params=SMALL, policies=BOTH),
                "social_insurance").settings
    # 20y6m in 2019, 21y9m in 2024, 25 years from 2037 (mongolcom.mn, atlashxm)
    np.testing.assert_allclose(full_years_required(s, np.array([2010, 2019, 2024, 2037, 2050])),
                               [20.0, 20.5, 21.75, 25.0, 25.0])


def test_pensions_go_to_the_entitled_at_pension_age_and_the_social_pension_to_the_rest():
    m = HerdtrapModel("baseline", seed=0, years=1, params=SMALL, policies=BOTH)
    assert m.calendar_year == 2020
    _seat(m, 0, [
        (62, False, 25.0),  # man past 60, full record: full pension (350)
        (52, True, 22.0),  # woman, 20+ years: herders' early age 50, full (reached it 2018)
        (56, True, 12.0),  # woman past 55 with 10-20 years: proportional pension (300)
        (57, False, 12.0),  # man below 60 without 20 years: nothing yet
        (61, False, 5.0),  # man past 60 without entitlement: social pension (188)
        (58, True, 3.0),  # woman past 55 without entitlement: social pension
        (30, False, 8.0),  # working age: nothing
    ])
    contributory, social = member_pensions(m, np.array([0]))
    np.testing.assert_allclose(contributory[0, :7], [350, 350, 300, 0, 0, 0, 0])
    np.testing.assert_allclose(social[0, :7], [0, 0, 0, 0, 188, 188, 0])
    # what the household expects is what it is paid: one season, both ledgers
    expected = pension_per_season(m, np.array([0]))[0]
    assert expected == pytest.approx(3 * (350 + 350 + 300 + 188 + 188))
    before = m.households.income_year[0, income_index("pension")]
    pay_pensions(m)
    assert m.households.income_year[0, income_index("pension")] - before == pytest.approx(expected)
    assert m.ledger.value(1, "social_insurance_fund", "pensions") == pytest.approx(
        3.0 * member_pensions(m)[0].sum())
    assert m.ledger.value(1, "social_pension", "pensions") == pytest.approx(
        3.0 * member_pensions(m)[1].sum())


def test_without_pension_programmes_nobody_draws_a_pension():
    base = HerdtrapModel("baseline", seed=2, years=2, params=SMALL).run()
    assert base.last_year["income"][:, income_index("pension")].sum() == 0.0
    # the social pension alone: every elderly member (60 men / 55 women) is paid
    m = HerdtrapModel("baseline", seed=2, years=1, params=SMALL,
                      policies={"social_pension": {}})
    hh = m.households
    elderly = (hh.ages >= np.where(hh.female, 55, 60)).sum()
    assert pension_per_season(m).sum() == pytest.approx(3 * 188.0 * elderly)


def test_members_whose_household_cannot_pay_lapse():
    m = HerdtrapModel("baseline", seed=1, years=1, params=SMALL, policies={
        "social_insurance": {"base_coverage": 1.0}})
    si, hh = _policy(m, "social_insurance"), m.households
    _seat(m, 0, [(40, False, 5.0), (38, True, 5.0)])
    _seat(m, 1, [(40, False, 5.0), (38, True, 5.0)])
    hh.cash[0] = 0.0  # nothing to pay with
    hh.cash[1] = 1e6
    fund_before = m.ledger.value(1, "social_insurance_fund", "contributions")
    si.season(m, 0)
    np.testing.assert_allclose(hh.contribution_years[0, :2], [5.0, 5.0])  # lapsed: no credit
    np.testing.assert_allclose(hh.contribution_years[1, :2], [5.25, 5.25])  # a quarter year each
    # a household that can pay for one member only: the other lapses
    assert m.ledger.value(1, "social_insurance_fund", "contributions") > fund_before
    c = 3 * 0.115 * 420.0
    need = m.need_per_season()[0]
    hh.cash[0] = need + 1.5 * c
    si.season(m, 1)
    assert hh.contribution_years[0, :2].sum() == pytest.approx(10.25)
    assert hh.cash[0] == pytest.approx(need + 0.5 * c)  # paid for one member


def test_contributors_reach_pension_age_and_draw_a_pension_over_30_years():
    """Without any record before the run (no collective service, no earlier
    contributions), every pension is earned by contributions paid during the run."""
    m = HerdtrapModel("baseline", seed=3, years=30, params={"population.households": 400},
                      policies={"social_insurance": {"collective_until": 1900,
                                                     "history_share": 0.0}},
                      create_agents=False)
    assert m.households.contribution_years.sum() == 0.0
    m.run()
    ts = m.metrics().set_index("year")
    assert ts.loc[1, "social_insurance_pensioners"] == 0
    assert ts.loc[30, "social_insurance_pensioners"] > 0
    assert ts["social_insurance_pensions"].iloc[-5:].sum() > 0
    # contributions stop at pension age: pensioners hold the years they paid for
    contributory, _ = member_pensions(m)
    years = m.households.contribution_years[contributory > 0]
    assert years.min() >= 10.0


def test_initial_records_entitle_most_elderly_and_follow_enrolment():
    m = HerdtrapModel("baseline", seed=4, years=1, params={"population.households": 1000},
                      policies=BOTH)
    hh, si = m.households, _policy(m, "social_insurance")
    contributory, social = member_pensions(m)
    elderly = hh.ages >= np.where(hh.female, 55, 60)
    # the collective generation has its service years; every elderly member gets one pension
    assert (contributory[elderly] > 0).mean() > 0.6
    assert ((contributory > 0) | (social > 0))[elderly].all()
    assert not ((contributory > 0) & (social > 0)).any()
    # working-age members of households enrolled before the run hold more years
    young = (hh.ages >= 25) & (hh.ages < 45)
    before = si.u < si.settings["base_coverage"]
    assert hh.contribution_years[young & before[:, None]].mean() > \
        hh.contribution_years[young & ~before[:, None]].mean() + 3.0
