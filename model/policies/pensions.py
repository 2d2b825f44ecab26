"""Old-age pensions: the one rule that says who draws which pension, used to pay them
and in every expected-income function.

Two programmes pay old-age pensions, each a policy that a scenario switches on or off:

* the **contributory old-age pension** of the social insurance fund
  (:mod:`model.policies.social_insurance`, policy ``social_insurance``): a member
  whose contribution record (``HouseholdState.contribution_years``) entitles them,
  from their pension age on;
* the **social welfare pension** (:mod:`model.policies.social_pension`, policy
  ``social_pension``; Social Welfare Law 2012 art. 12.1.1): every member at or above
  its age who draws no contributory pension.

Without either policy (the no-policy counterfactual) nobody draws a pension.

Contributory rule, per member (levers of ``social_insurance``), with Y the years of
contributions and A the member's age:

* pension age a_p = ``herder_age_men`` / ``herder_age_women`` (55 / 50) if
  Y >= ``herder_years`` (20: herders' early retirement since 2018), else ``age_men`` /
  ``age_women`` (60 / 55). In the model every contribution year is a herding year
  (only herding households contribute), so the law's "of which 15 (women 12.5) years
  herding" holds whenever Y >= 20;
* from A >= a_p: the minimum full pension ``pension`` if Y reaches the full-pension
  requirement of the calendar year the member reached a_p,
  ``min(full_years + full_years_step · (year − full_years_from), full_years_max)``
  (20 years, rising 3 months a year after 2017 to 25 by 2037), else the minimum
  proportional pension ``proportional_pension`` if Y >= ``proportional_years`` (10),
  else nothing (not entitled).

Social pension rule (levers of ``social_pension``): ``amount`` to every member aged at
least ``age_men`` / ``age_women`` (60 / 55) with no contributory pension.

Money in kMNT per member per month; a season pays three months.
:func:`pension_per_season` (what a household's members draw in a season) is what
``income.income_seasons_of``, ``occupation.outside_income`` and
``offtake.other_income_year`` expect, and :func:`pay_pensions` (called by
``income.offfarm_and_pensions`` every season) pays exactly that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from model.model import HerdtrapModel
    from model.policies import Policy

SOCIAL_INSURANCE = "social_insurance"
SOCIAL_PENSION = "social_pension"
PENSION_PROGRAMMES = (SOCIAL_INSURANCE, SOCIAL_PENSION)
#: a member contributes from this age (and up to their pension age)
CONTRIBUTION_AGE = 18


# ---------------------------------------------------------------- the contributory rule
def pension_age(s: Mapping[str, Any], female: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Pension age per member under the social insurance levers ``s``: the herders'
    early age with at least ``herder_years`` of contributions, else the general age."""
    early = years >= s["herder_years"]
    men = np.where(early, s["herder_age_men"], s["age_men"])
    women = np.where(early, s["herder_age_women"], s["age_women"])
    return np.where(female, women, men)


def full_years_required(s: Mapping[str, Any], year: np.ndarray | int) -> np.ndarray:
    """Years of contributions for a full pension for someone reaching pension age in
    calendar ``year`` (20, plus 3 months a year after 2017, at most 25)."""
    rise = s["full_years_step"] * np.maximum(np.asarray(year) - s["full_years_from"], 0)
    return np.minimum(s["full_years"] + rise, max(s["full_years_max"], s["full_years"]))


def contributory_pension(s: Mapping[str, Any], ages: np.ndarray, female: np.ndarray,
                         years: np.ndarray, calendar_year: int) -> np.ndarray:
    """Monthly contributory pension per member seat (kMNT; 0 below pension age, without
    entitlement or on an empty seat)."""
    age_p = pension_age(s, female, years)
    reached = calendar_year - (ages - age_p)  # calendar year the member reached a_p
    amount = np.where(years >= full_years_required(s, reached), s["pension"],
                      np.where(years >= s["proportional_years"], s["proportional_pension"], 0.0))
    return np.where((ages >= age_p) & (ages >= 0), amount, 0.0)


def contributors(s: Mapping[str, Any], ages: np.ndarray, female: np.ndarray,
                 years: np.ndarray) -> np.ndarray:
    """Member seats of contributing age: 18 up to (not including) their pension age."""
    return (ages >= CONTRIBUTION_AGE) & (ages < pension_age(s, female, years))


# ---------------------------------------------------------------- both programmes
def _in_force(policy: Policy, model: HerdtrapModel) -> bool:
    in_force = getattr(policy, "in_force", None)  # dated schedules, where policies have them
    return True if in_force is None else bool(in_force(model))


def programmes(model: HerdtrapModel) -> dict[str, Policy]:
    """The scenario's pension programmes in force this year, by name. Empty before the
    policies exist (``HerdtrapModel._init_economy``: the initial cash draw does not
    depend on the scenario's policies)."""
    policies = getattr(model, "policies", None)
    if policies is None:
        return {}
    return {p.name: p for p in policies.active
            if p.name in PENSION_PROGRAMMES and _in_force(p, model)}


def member_pensions(model: HerdtrapModel, rows: np.ndarray | None = None,
                    settings: Mapping[str, Mapping[str, Any]] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(contributory, social): monthly pension per member seat (kMNT), (k, MAX_MEMBERS)
    for the household slots ``rows`` (all if None). ``settings``: the levers of the
    pension programmes by name (default: those of the programmes in force)."""
    if settings is None:
        settings = {name: p.settings for name, p in programmes(model).items()}
    hh = model.households
    r = slice(None) if rows is None else rows
    ages, female = hh.ages[r], hh.female[r]
    contributory = np.zeros(ages.shape)
    if SOCIAL_INSURANCE in settings:
        contributory = contributory_pension(settings[SOCIAL_INSURANCE], ages, female,
                                            hh.contribution_years[r], model.calendar_year)
    social = np.zeros(ages.shape)
    if SOCIAL_PENSION in settings:
        s = settings[SOCIAL_PENSION]
        age = np.where(female, s["age_women"], s["age_men"])
        social = np.where((ages >= age) & (ages >= 0) & (contributory <= 0.0), s["amount"], 0.0)
    return contributory, social


def pension_per_season(model: HerdtrapModel, rows: np.ndarray | None = None,
                       settings: Mapping[str, Mapping[str, Any]] | None = None) -> np.ndarray:
    """Pensions the members of each household draw in a season (kMNT, three months),
    for the slots ``rows`` (all if None): the one rule of expected and paid pensions."""
    if settings is None:
        settings = {name: p.settings for name, p in programmes(model).items()}
    if not settings:
        n = model.households.n if rows is None else len(rows)
        return np.zeros(n)
    contributory, social = member_pensions(model, rows, settings)
    return 3.0 * (contributory + social).sum(axis=1)


def pay_pensions(model: HerdtrapModel) -> None:
    """Every season: each programme in force pays the pensions of :func:`member_pensions`
    (the fund the contributory ones, the treasury the social ones)."""
    progs = programmes(model)
    if not progs:
        return
    contributory, social = member_pensions(model, None, {n: p.settings for n, p in progs.items()})
    if SOCIAL_INSURANCE in progs:
        progs[SOCIAL_INSURANCE].pay_pensions(model, contributory)
    if SOCIAL_PENSION in progs:
        progs[SOCIAL_PENSION].pay_pensions(model, social)


def add_initial_expectations(model: HerdtrapModel) -> None:
    """At t = 0, once the programmes are set up: households expect the pensions their
    members draw (added to the regular income of each of the last four seasons,
    ``HouseholdState.income_seasons``). Their cash was drawn before, without pensions,
    so it is the same in every scenario of a replicate."""
    start = model.spec.start_year
    settings = {}
    for name in PENSION_PROGRAMMES:
        s = model.spec.policies.get(name)
        if s is None:
            continue
        first, last = s.get("start_year"), s.get("end_year")
        if (first is None or start >= first) and (last is None or start <= last):
            settings[name] = _levers_in_year(name, s, start)
    if settings:
        hh = model.households
        hh.income_seasons += pension_per_season(model, None, settings)[:, None]


def _levers_in_year(name: str, settings: Mapping[str, Any], year: int) -> dict[str, Any]:
    """A policy's levers with each dated schedule (``<lever>_by_year``) at ``year``."""
    from model.policies import REGISTRY
    from model.policies.dated import SCHEDULE_SUFFIX, parse_dated, value_in_year

    out = dict(settings)
    for key, value in settings.items():
        if key.endswith(SCHEDULE_SUFFIX) and value:
            lever = key[: -len(SCHEDULE_SUFFIX)]
            schedule = parse_dated(REGISTRY[name].levers[lever], value, f"policies.{name}.{key}")
            out[lever] = value_in_year(schedule, year, settings[lever])
    return out
